//! The engine on constructed data: each discrepancy class with its reason,
//! an exact match, multi-currency totals, verdict thresholds.

use chrono::{TimeZone, Utc};

use super::findings::{Kind, Severity};
use super::model::{DbPayment, Status, StripePayment};
use super::reconcile::reconcile;
use super::verdict::{Thresholds, Verdict, recommendations, verdict};

fn stripe(id: &str, amount: i64, currency: &str, status: Status) -> StripePayment {
    StripePayment {
        stripe_id: id.into(),
        charge_id: Some(format!("ch_{id}")),
        object_type: "payment_intent",
        amount_minor: amount,
        currency: currency.into(),
        status,
        refunded_minor: 0,
        created_at: Utc
            .with_ymd_and_hms(2025, 11, 3, 10, 0, 0)
            .single()
            .expect("valid"),
        customer: Some("cus_1".into()),
        invoice_id: None,
    }
}

fn row(payment_id: i64, s: &StripePayment) -> DbPayment {
    DbPayment {
        payment_id,
        stripe_id: s.stripe_id.clone(),
        charge_id: s.charge_id.clone(),
        amount_minor: s.amount_minor,
        currency: s.currency.clone(),
        status: s.status,
        refunded_minor: s.refunded_minor,
        created_at: s.created_at,
    }
}

fn kinds(findings: &[super::findings::Finding]) -> Vec<(Kind, Severity, &str)> {
    findings
        .iter()
        .map(|f| (f.kind, f.severity, f.reason.as_str()))
        .collect()
}

#[test]
fn an_exact_match_passes_with_no_findings() {
    let s = vec![
        stripe("pi_1", 4900, "usd", Status::Succeeded),
        stripe("pi_2", 1900, "usd", Status::Succeeded),
    ];
    let d = vec![row(1, &s[0]), row(2, &s[1])];
    let r = reconcile(&s, &d);
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    assert_eq!(r.matched, 2);
    assert_eq!(verdict(&r, &Thresholds::default()), Verdict::Pass);
    assert_eq!(r.totals[0].stripe_net(), 6800);
    assert_eq!(r.totals[0].db_net(), 6800);
}

#[test]
fn a_payment_missing_in_the_database_is_critical_when_captured() {
    let s = vec![
        stripe("pi_1", 4900, "usd", Status::Succeeded),
        stripe("pi_2", 1900, "usd", Status::Failed),
    ];
    let r = reconcile(&s, &[]);
    assert_eq!(
        kinds(&r.findings),
        [
            (
                Kind::MissingInDb,
                Severity::Critical,
                "succeeded payment of 4900 usd created 2025-11-03 10:00 UTC is not in the database"
            ),
            (
                Kind::MissingInDb,
                Severity::Info,
                "failed payment of 1900 usd created 2025-11-03 10:00 UTC is not in the database"
            ),
        ]
    );
    assert_eq!(verdict(&r, &Thresholds::default()), Verdict::Fail);
}

#[test]
fn a_row_stripe_does_not_know_is_orphaned() {
    let s = stripe("pi_9", 4900, "usd", Status::Succeeded);
    let r = reconcile(&[], &[row(7, &s)]);
    assert_eq!(
        kinds(&r.findings),
        [(
            Kind::OrphanedInDb,
            Severity::Critical,
            "database row 7 (succeeded 4900 usd) has no Stripe payment in this period"
        )]
    );
    assert_eq!(r.findings[0].db_payment_ids, [7]);
}

#[test]
fn amount_and_currency_differences_name_both_values() {
    let s = stripe("pi_1", 4900, "eur", Status::Succeeded);
    let mut d = row(1, &s);
    d.amount_minor = 4090;
    d.currency = "usd".into();
    let r = reconcile(&[s], &[d]);
    assert_eq!(
        kinds(&r.findings),
        [
            (
                Kind::AmountMismatch,
                Severity::Critical,
                "amount 4900 in Stripe vs 4090 in DB"
            ),
            (
                Kind::CurrencyMismatch,
                Severity::Critical,
                "currency eur in Stripe vs usd in DB"
            ),
        ]
    );
}

#[test]
fn status_drift_is_critical_when_money_is_at_stake() {
    let canceled = stripe("pi_1", 4900, "usd", Status::Canceled);
    let mut succeeded_in_db = row(1, &canceled);
    succeeded_in_db.status = Status::Succeeded;
    let pending = stripe("pi_2", 1900, "usd", Status::Failed);
    let mut pending_in_db = row(2, &pending);
    pending_in_db.status = Status::Pending;
    let r = reconcile(&[canceled, pending], &[succeeded_in_db, pending_in_db]);
    assert_eq!(
        kinds(&r.findings),
        [
            (
                Kind::StatusDrift,
                Severity::Critical,
                "status canceled in Stripe vs succeeded in DB"
            ),
            (
                Kind::StatusDrift,
                Severity::Warning,
                "status failed in Stripe vs pending in DB"
            ),
        ]
    );
}

#[test]
fn a_refund_only_stripe_has_is_one_finding_not_two() {
    let mut s = stripe("pi_1", 4900, "usd", Status::Refunded);
    s.refunded_minor = 4900;
    let mut d = row(1, &s);
    d.status = Status::Succeeded;
    d.refunded_minor = 0;
    let r = reconcile(&[s], &[d]);
    assert_eq!(
        kinds(&r.findings),
        [(
            Kind::RefundNotRecorded,
            Severity::Warning,
            "refunded 4900 in Stripe vs 0 in DB"
        )]
    );
    // The net differs by the whole payment: over the 0.5% threshold.
    assert_eq!(verdict(&r, &Thresholds::default()), Verdict::Fail);
}

#[test]
fn several_rows_for_one_stripe_payment_are_duplicates() {
    let s = stripe("pi_1", 4900, "usd", Status::Succeeded);
    let by_intent = row(1, &s);
    let mut by_charge = row(2, &s);
    by_charge.stripe_id = "ch_pi_1".into();
    let r = reconcile(&[s], &[by_intent, by_charge]);
    assert_eq!(
        kinds(&r.findings),
        [(
            Kind::DuplicateRows,
            Severity::Critical,
            "2 database rows (ids 1, 2) for one Stripe payment"
        )]
    );
    assert_eq!(r.matched, 0);
}

#[test]
fn rows_recorded_under_the_charge_id_still_match() {
    let s = stripe("pi_1", 4900, "usd", Status::Succeeded);
    let mut d = row(1, &s);
    d.stripe_id = "ch_pi_1".into();
    d.charge_id = None;
    let r = reconcile(&[s], &[d]);
    assert!(r.findings.is_empty(), "{:?}", r.findings);
}

#[test]
fn currencies_are_totalled_apart() {
    let s = vec![
        stripe("pi_1", 4900, "usd", Status::Succeeded),
        stripe("pi_2", 3000, "eur", Status::Succeeded),
        stripe("pi_3", 1000, "eur", Status::Failed),
    ];
    let mut partially = stripe("pi_4", 2000, "eur", Status::PartiallyRefunded);
    partially.refunded_minor = 500;
    let mut all = s.clone();
    all.push(partially);
    let d: Vec<_> = all
        .iter()
        .enumerate()
        .map(|(i, p)| row(i as i64, p))
        .collect();
    let r = reconcile(&all, &d);
    let summary: Vec<_> = r
        .totals
        .iter()
        .map(|t| {
            (
                t.currency.as_str(),
                t.stripe_count,
                t.stripe_gross,
                t.stripe_refunds,
                t.stripe_net(),
                t.db_net(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("eur", 3, 5000, 500, 4500, 4500),
            ("usd", 1, 4900, 0, 4900, 4900)
        ]
    );
}

#[test]
fn thresholds_decide_between_warning_and_fail() {
    // 1 cent off on 1,000,000: below 0.5%; one critical finding.
    let mut s: Vec<_> = (0..100)
        .map(|i| stripe(&format!("pi_{i}"), 10_000, "usd", Status::Succeeded))
        .collect();
    let mut d: Vec<_> = s
        .iter()
        .enumerate()
        .map(|(i, p)| row(i as i64, p))
        .collect();
    d[0].amount_minor = 9_999;
    let r = reconcile(&s, &d);
    assert_eq!(verdict(&r, &Thresholds::default()), Verdict::Fail);
    let lenient = Thresholds {
        fail_critical_findings: 2,
        ..Thresholds::default()
    };
    assert_eq!(verdict(&r, &lenient), Verdict::Warning);

    // A warning-only finding (status pending vs failed) with equal nets.
    s.truncate(1);
    s[0].status = Status::Failed;
    let mut only = row(0, &s[0]);
    only.status = Status::Pending;
    assert_eq!(
        verdict(&reconcile(&s, &[only]), &Thresholds::default()),
        Verdict::Warning
    );
}

#[test]
fn recommendations_follow_the_findings() {
    let failed = stripe("pi_1", 4900, "usd", Status::Failed);
    let mut paid_in_db = row(1, &failed);
    paid_in_db.status = Status::Succeeded;
    let missing = stripe("pi_2", 1900, "usd", Status::Succeeded);
    let r = reconcile(&[failed, missing], &[paid_in_db]);
    let advice = recommendations(&r.findings);
    assert_eq!(advice.len(), 3, "{advice:?}");
    assert!(advice[0].starts_with("Backfill 1 payment(s)"), "{advice:?}");
    assert!(
        advice[1].starts_with("Update the status of 1 payment(s)"),
        "{advice:?}"
    );
    assert!(
        advice[2].starts_with("Contact the customer(s) of 1 payment(s)"),
        "{advice:?}"
    );
}

#[test]
fn missing_payments_that_took_no_money_are_not_recommended_for_backfill() {
    let s = vec![
        stripe("pi_1", 4900, "usd", Status::Succeeded),
        stripe("pi_2", 1900, "usd", Status::Canceled),
        stripe("pi_3", 1900, "usd", Status::Authorized),
    ];
    let advice = recommendations(&reconcile(&s, &[]).findings);
    assert_eq!(advice.len(), 1, "{advice:?}");
    assert!(advice[0].starts_with("Backfill 1 payment(s)"), "{advice:?}");
    assert!(
        advice[0].ends_with("(2 more missing payment(s) took no money and are not backfilled)"),
        "{advice:?}"
    );
    let only_canceled = recommendations(&reconcile(&s[1..], &[]).findings);
    assert!(
        only_canceled[0]
            .starts_with("Review the Stripe webhook endpoint: 2 payment(s) that took no money"),
        "{only_canceled:?}"
    );
}
