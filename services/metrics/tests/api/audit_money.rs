//! The audit's money as finance reads it: the month's net is what was
//! captured in the month minus the refunds made in it (whatever charge they
//! refund), compared with the database's own monthly figure; the report
//! shows it as money with the run's id, times and window; a repair
//! backfills only payments that took money.

use std::collections::HashMap;

use growth_proto::common::v1::Money;
use growth_proto::metrics::v1::{self as pb, AuditVerdict, FindingKind};
use metrics_svc::config::MetricsArgs;
use serde_json::{Value, json};
use sqlx::PgPool;
use wiremock::MockServer;

use crate::audit::run_audit;
use crate::fake_stripe::{KEY, mount_lists};
use crate::helpers::*;

const OCT_15: i64 = 1_760_486_400;
const NOV: i64 = 1_761_955_200;
const DEC_3: i64 = 1_764_720_000;
const DAY: i64 = 86_400;

fn args(server: &MockServer) -> MetricsArgs {
    MetricsArgs {
        stripe_secret_key: growth_runtime::config::OptionalSecret::from(KEY),
        stripe_api_base: server.uri(),
        stripe_rate_limit: Some(1000),
        stripe_time_slices: 1,
        ..MetricsArgs::default()
    }
}

fn intent(id: &str, amount: i64, status: &str, created: i64) -> Value {
    json!({"id": format!("pi_{id}"), "amount": amount, "amount_received": amount, "currency": "eur",
           "status": status, "created": created, "latest_charge": format!("ch_{id}"), "customer": "cus_1"})
}

fn charge(id: &str, amount: i64, refunded: i64, created: i64) -> Value {
    json!({"id": format!("ch_{id}"), "amount": amount, "amount_captured": amount, "amount_refunded": refunded,
           "currency": "eur", "status": "succeeded", "captured": true, "created": created,
           "payment_intent": format!("pi_{id}")})
}

fn refund(id: &str, charge: &str, amount: i64, created: i64) -> Value {
    json!({"id": id, "amount": amount, "currency": "eur", "charge": format!("ch_{charge}"),
           "payment_intent": format!("pi_{charge}"), "status": "succeeded", "created": created})
}

/// November 2025 in euros: `a` (1,500.00, 20.00 refunded in November),
/// `b` (50.00, 10.00 refunded in December), and a November refund of 33.51
/// on `oct`, an October charge; plus a refund that failed.
async fn november() -> MockServer {
    let server = MockServer::start().await;
    mount_lists(
        &server,
        HashMap::from([
            (
                "payment_intents",
                vec![
                    intent("a", 150_000, "succeeded", NOV + DAY),
                    intent("b", 5_000, "succeeded", NOV + 4 * DAY),
                    intent("oct", 8_000, "succeeded", OCT_15),
                ],
            ),
            (
                "charges",
                vec![
                    charge("a", 150_000, 2_000, NOV + DAY),
                    charge("b", 5_000, 1_000, NOV + 4 * DAY),
                    charge("oct", 8_000, 3_351, OCT_15),
                ],
            ),
            (
                "refunds",
                vec![
                    refund("re_a", "a", 2_000, NOV + 19 * DAY),
                    refund("re_b", "b", 1_000, DEC_3),
                    refund("re_oct", "oct", 3_351, NOV + 9 * DAY),
                    json!({"id": "re_failed", "amount": 700, "currency": "eur", "charge": "ch_a",
                           "status": "failed", "created": NOV + 20 * DAY}),
                ],
            ),
        ]),
    )
    .await;
    server
}

fn row(id: &str, amount: i64, created: i64, refunded: i64, refunded_at: i64) -> pb::Payment {
    let at = |seconds| Some(prost_types::Timestamp { seconds, nanos: 0 });
    pb::Payment {
        stripe_id: format!("pi_{id}"),
        stripe_charge_id: format!("ch_{id}"),
        amount: Some(Money {
            amount_minor: amount,
            currency: "eur".into(),
        }),
        status: if refunded > 0 {
            pb::PaymentStatus::PartiallyRefunded
        } else {
            pb::PaymentStatus::Succeeded
        } as i32,
        refunded_minor: refunded,
        created_at: at(created),
        refunded_at: if refunded > 0 { at(refunded_at) } else { None },
        ..Default::default()
    }
}

async fn import(app: &mut TestApp, payments: Vec<pb::Payment>) {
    app.client
        .import_payments(pb::ImportPaymentsRequest { payments })
        .await
        .expect("import");
}

async fn audit(app: &mut TestApp, repair: bool) -> pb::AuditRun {
    run_audit(app, "2025-11", repair, false).await
}

#[sqlx::test(migrations = false)]
async fn the_audit_compares_the_months_net_after_the_refunds_made_in_it(pool: PgPool) {
    let stripe = november().await;
    let mut app = spawn_app_with(pool, args(&stripe)).await;
    // The database has November's payments with their refunds, but not the
    // October payment whose refund was made in November.
    import(
        &mut app,
        vec![
            row("a", 150_000, NOV + DAY, 2_000, NOV + 19 * DAY),
            row("b", 5_000, NOV + 4 * DAY, 1_000, DEC_3),
        ],
    )
    .await;

    let run = audit(&mut app, false).await;
    let t = &run.totals[0];
    assert_eq!(
        (
            t.stripe_gross_minor,
            t.stripe_refunds_minor,
            t.stripe_net_minor
        ),
        (155_000, 3_000, 152_000),
        "refunded to date on the month's charges"
    );
    assert_eq!(
        (t.stripe_refunds_in_month_minor, t.stripe_month_net_minor),
        (5_351, 149_649),
        "refunds made in November, whatever charge they refund; the failed one not"
    );
    assert_eq!(
        (t.db_refunds_in_month_minor, t.db_month_net_minor),
        (2_000, 153_000),
        "the database lacks the October charge's November refund"
    );
    assert_eq!(
        run.verdict,
        AuditVerdict::Fail as i32,
        "the month's nets differ by 33.51 EUR (2.2%): {:?}",
        run.findings
    );
    assert!(
        run.recommendations
            .iter()
            .any(|r| r.starts_with("Reconcile the refunds made in the month in EUR: 53.51 EUR in Stripe vs 20.00 EUR in the database")),
        "{:?}",
        run.recommendations
    );
    let md = &run.report_markdown;
    for text in [
        run.run_id.as_str(),
        "[2025-11-01T00:00:00Z, 2025-12-01T00:00:00Z)",
        "refunds made in the month",
        "refunded to date on the month's charges",
        "net revenue of the month",
        "1,496.49 EUR",
        "1,530.00 EUR",
        "33.51 EUR",
        "1,550.00 EUR",
        "EUR: refunds made in the month 53.51 EUR in Stripe vs 20.00 EUR in the database",
    ] {
        assert!(md.contains(text), "{text:?} missing from\n{md}");
    }
    let started = chrono::DateTime::from_timestamp(run.started_at.expect("started").seconds, 0)
        .expect("time")
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let finished = chrono::DateTime::from_timestamp(run.finished_at.expect("finished").seconds, 0)
        .expect("time")
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    assert!(md.contains(&started), "started {started} missing:\n{md}");
    assert!(md.contains(&finished), "finished {finished} missing:\n{md}");

    import(
        &mut app,
        vec![row("oct", 8_000, OCT_15, 3_351, NOV + 9 * DAY)],
    )
    .await;
    let again = audit(&mut app, false).await;
    let t = &again.totals[0];
    assert_eq!(
        (t.db_refunds_in_month_minor, t.db_month_net_minor),
        (5_351, 149_649)
    );
    assert_eq!(
        again.verdict,
        AuditVerdict::Pass as i32,
        "{:?}",
        again.findings
    );
}

#[sqlx::test(migrations = false)]
async fn an_audit_repair_backfills_only_payments_that_took_money(pool: PgPool) {
    let stripe = MockServer::start().await;
    mount_lists(
        &stripe,
        HashMap::from([(
            "payment_intents",
            vec![
                intent("paid", 4_900, "succeeded", NOV + DAY),
                intent("canceled", 4_900, "canceled", NOV + 2 * DAY),
                intent("held", 4_900, "requires_capture", NOV + 3 * DAY),
            ],
        )]),
    )
    .await;
    let mut app = spawn_app_with(pool, args(&stripe)).await;

    let found = audit(&mut app, false).await;
    let missing = found
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::MissingInDb as i32)
        .count();
    assert_eq!(missing, 3, "all three are findings");
    assert!(
        found
            .report_markdown
            .contains("to backfill: 1 captured payment(s)"),
        "{}",
        found.report_markdown
    );
    assert!(
        found
            .report_markdown
            .contains("2 missing payment(s) that took no money (failed, canceled, uncaptured or pending) are findings but are not backfilled"),
        "{}",
        found.report_markdown
    );

    let repaired = audit(&mut app, true).await;
    let summary = repaired.repair_summary.expect("summary");
    assert_eq!(summary.backfilled_stripe_ids, ["pi_paid"]);
    assert_eq!(app.count("payments").await, 1);
    assert!(
        repaired
            .report_markdown
            .contains("repair: 1 payment(s) were backfilled from Stripe"),
        "{}",
        repaired.report_markdown
    );
}

#[sqlx::test(migrations = false)]
async fn an_audit_repair_dates_backfilled_refunds_as_stripe_made_them(pool: PgPool) {
    // `a` was refunded 20.00 in November (a Refund object of the month) and
    // `b` 10.00 in December (only its charge's amount_refunded says so).
    let stripe = november().await;
    let mut app = spawn_app_with(pool, args(&stripe)).await;
    import(
        &mut app,
        vec![row("oct", 8_000, OCT_15, 3_351, NOV + 9 * DAY)],
    )
    .await;

    let repaired = audit(&mut app, true).await;
    assert_eq!(
        repaired
            .repair_summary
            .expect("summary")
            .backfilled_stripe_ids,
        ["pi_a", "pi_b"]
    );
    let history: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT p.stripe_id, r.amount_minor, extract(epoch FROM r.refunded_at)::bigint
         FROM metrics.payment_refunds r JOIN metrics.payments p USING (payment_id)
         WHERE p.stripe_id IN ('pi_a', 'pi_b') ORDER BY 1, 3",
    )
    .fetch_all(&app.pool)
    .await
    .expect("history");
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[0], ("pi_a".into(), 2_000, NOV + 19 * DAY));
    assert_eq!((history[1].0.as_str(), history[1].1), ("pi_b", 1_000));
    assert!(
        history[1].2 >= NOV + 30 * DAY,
        "a refund made after the month is dated after it: {history:?}"
    );

    let again = audit(&mut app, false).await;
    let t = &again.totals[0];
    assert_eq!(
        (t.db_refunds_in_month_minor, t.db_month_net_minor),
        (5_351, 149_649)
    );
    assert_eq!(
        again.verdict,
        AuditVerdict::Pass as i32,
        "{:?}",
        again.findings
    );
}
