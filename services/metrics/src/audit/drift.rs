//! Entitlement drift: every live Stripe subscription (whenever it was
//! created) against what the database grants, a finding per difference with
//! its reason. Pure.
//!
//! "Grants" means a subscription row (`metrics.subscriptions`, its latest
//! state) that is `active` or `trialing`; Stripe "pays" for a subscription
//! that is `active` or `trialing`. The checks:
//!
//! - **paid, not provisioned**: Stripe active or trialing, the database with
//!   no row for it or a row that grants nothing;
//! - **provisioned, not paid**: the database grants it, Stripe has it
//!   past_due, unpaid, incomplete or paused, or not among the live ones at
//!   all (canceled, or expired before it was paid);
//! - **plan mismatch**: the plan the subscription's Stripe price maps to
//!   (`STRIPE_PRICE_PLANS`) is not the user's plan (`metrics.users.plan`,
//!   what the product grants);
//! - **duplicate subscriptions**: one customer with several live paying
//!   subscriptions (active, trialing or past_due);
//! - **trial overrun**: the database treats as a trial (`trialing`) a
//!   subscription whose Stripe trial has ended (its `trial_end` passed, or
//!   Stripe no longer has it trialing).
//!
//! Safe to repair (recording Stripe's state, as the webhook would have):
//! paid-not-provisioned, provisioned-not-paid and trial overruns, because
//! Stripe is the source of truth for a subscription's state. Plan mismatches
//! and duplicates stay findings for a person: which side is right is a
//! business decision (docs/AUDIT.md).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use super::findings::{Finding, Kind, Severity};
use super::settings::DriftSettings;
use crate::stripe::types::LiveSubscription;

/// A subscription the database holds, with what it grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    /// `sub_…`.
    pub subscription_id: String,
    /// `cus_…`, when recorded.
    pub customer: Option<String>,
    /// Its user.
    pub user_id: String,
    /// The latest recorded state (`active`, `trialing`, `canceled`, …).
    pub status: String,
    /// The user's plan (`metrics.users.plan`).
    pub user_plan: String,
}

impl Granted {
    fn grants(&self) -> bool {
        grants(&self.status)
    }
}

/// What the comparison found.
#[derive(Debug, Default, PartialEq)]
pub struct Drift {
    /// One per difference.
    pub findings: Vec<Finding>,
    /// Subscriptions whose Stripe state a repair records, by id, oldest
    /// finding first.
    pub to_record: Vec<String>,
}

/// Keeps `f`, and its subscription for a repair to record.
fn record(out: &mut Drift, f: Finding) {
    out.to_record.push(f.stripe_id.clone());
    out.findings.push(f);
}

fn grants(status: &str) -> bool {
    matches!(status, "active" | "trialing")
}

fn finding(kind: Kind, severity: Severity, subscription: &str, reason: String) -> Finding {
    Finding {
        kind,
        severity,
        object_type: "subscription",
        stripe_id: subscription.to_owned(),
        db_payment_ids: vec![],
        reason,
        stripe_amount: None,
        db_amount: None,
        stripe_status: None,
        db_status: None,
    }
}

/// Compares `live` (every subscription Stripe lists without `status`) with
/// `granted` (every subscription row) at `now`.
pub fn drift(
    live: &[LiveSubscription],
    granted: &[Granted],
    settings: &DriftSettings,
    now: DateTime<Utc>,
) -> Drift {
    let by_id: HashMap<&str, &Granted> = granted
        .iter()
        .map(|g| (g.subscription_id.as_str(), g))
        .collect();
    let live_ids: HashMap<&str, &LiveSubscription> = live.iter().map(|s| (s.sub_id(), s)).collect();
    let mut out = Drift::default();
    for s in live {
        let (id, status) = (s.sub_id(), s.status());
        let row = by_id.get(id).copied();
        match row {
            None if grants(status) => record(
                &mut out,
                finding(
                    Kind::PaidNotProvisioned,
                    Severity::Warning,
                    id,
                    format!(
                        "{status} in Stripe (customer {}), no subscription row in the database",
                        s.customer().unwrap_or("unknown")
                    ),
                ),
            ),
            Some(g) if grants(status) && !g.grants() => record(
                &mut out,
                finding(
                    Kind::PaidNotProvisioned,
                    Severity::Warning,
                    id,
                    format!(
                        "{status} in Stripe, {} in the database (user {})",
                        g.status, g.user_id
                    ),
                ),
            ),
            Some(g) if g.grants() && !grants(status) => record(
                &mut out,
                finding(
                    Kind::ProvisionedNotPaid,
                    Severity::Warning,
                    id,
                    format!(
                        "{} in the database (user {}), {status} in Stripe",
                        g.status, g.user_id
                    ),
                ),
            ),
            _ => {}
        }
        if let Some(g) = row
            && g.status == "trialing"
        {
            let ended = s.trial_end().filter(|end| *end <= now.timestamp());
            let overrun = match (status, ended) {
                ("trialing", Some(end)) => Some(format!(
                    "trialing in the database and in Stripe, though the trial ended {}",
                    at(end)
                )),
                ("trialing", None) => None,
                _ => Some(format!(
                    "trialing in the database, {status} in Stripe (the trial is over)"
                )),
            };
            // A trial the database still has while Stripe does not grant it
            // is already provisioned-not-paid; one finding is enough.
            if let Some(reason) = overrun.filter(|_| grants(status)) {
                record(
                    &mut out,
                    finding(Kind::TrialOverrun, Severity::Warning, id, reason),
                );
            }
        }
        if let (Some(g), Some(price)) = (row, s.price())
            && grants(status)
            && let Some(plan) = settings.price_plans.get(price)
            && plan != &g.user_plan
        {
            out.findings.push(finding(
                Kind::PlanMismatch,
                Severity::Warning,
                id,
                format!(
                    "Stripe price {price} is plan {plan:?}; user {} has plan {:?} in the database",
                    g.user_id, g.user_plan
                ),
            ));
        }
    }
    for g in granted {
        if g.grants() && !live_ids.contains_key(g.subscription_id.as_str()) {
            record(
                &mut out,
                finding(
                    Kind::ProvisionedNotPaid,
                    Severity::Warning,
                    &g.subscription_id,
                    format!(
                        "{} in the database (user {}), not among Stripe's live subscriptions (canceled or expired)",
                        g.status, g.user_id
                    ),
                ),
            );
        }
    }
    out.findings.extend(duplicates(live));
    out
}

fn at(unix: i64) -> String {
    DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| unix.to_string())
}

/// One finding per customer with more than one live paying subscription.
fn duplicates(live: &[LiveSubscription]) -> Vec<Finding> {
    let mut by_customer: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in live {
        if let Some(customer) = s.customer()
            && matches!(s.status(), "active" | "trialing" | "past_due")
        {
            by_customer.entry(customer).or_default().push(s.sub_id());
        }
    }
    by_customer
        .into_iter()
        .filter(|(_, subs)| subs.len() > 1)
        .map(|(customer, mut subs)| {
            subs.sort_unstable();
            finding(
                Kind::DuplicateSubscriptions,
                Severity::Critical,
                subs[0],
                format!(
                    "customer {customer} has {} live paying subscriptions: {}",
                    subs.len(),
                    subs.join(", ")
                ),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn live(
        id: &str,
        customer: &str,
        status: &str,
        price: &str,
        trial_end: Option<i64>,
    ) -> LiveSubscription {
        LiveSubscription(json!({
            "id": id, "customer": customer, "status": status, "trial_end": trial_end,
            "items": {"data": [{"price": {"id": price}}]}
        }))
    }

    fn granted(id: &str, status: &str, plan: &str) -> Granted {
        Granted {
            subscription_id: id.into(),
            customer: Some(format!("cus_{id}")),
            user_id: format!("u_{id}"),
            status: status.into(),
            user_plan: plan.into(),
        }
    }

    fn kinds(d: &Drift) -> Vec<(Kind, &str)> {
        let mut k: Vec<_> = d
            .findings
            .iter()
            .map(|f| (f.kind, f.stripe_id.as_str()))
            .collect();
        k.sort();
        k
    }

    #[test]
    fn each_kind_of_drift_is_found_with_its_reason() {
        let now = DateTime::from_timestamp(1_764_547_200, 0).unwrap();
        let settings = DriftSettings {
            price_plans: HashMap::from([("price_pro".to_owned(), "pro".to_owned())]),
            ..DriftSettings::default()
        };
        let live = [
            // Agrees.
            live("sub_ok", "cus_ok", "active", "price_pro", None),
            // Paid, no row.
            live("sub_new", "cus_new", "active", "price_pro", None),
            // Paid, recorded canceled.
            live("sub_back", "cus_back", "active", "price_pro", None),
            // Past due in Stripe, active in the database.
            live("sub_late", "cus_late", "past_due", "price_pro", None),
            // Plan differs.
            live("sub_plan", "cus_plan", "active", "price_pro", None),
            // Trial ended an hour ago, still trialing everywhere.
            live(
                "sub_trial",
                "cus_trial",
                "trialing",
                "price_pro",
                Some(now.timestamp() - 3600),
            ),
            // Two live paying subscriptions of one customer.
            live("sub_d1", "cus_dup", "active", "price_other", None),
            live(
                "sub_d2",
                "cus_dup",
                "trialing",
                "price_other",
                Some(now.timestamp() + 86_400),
            ),
        ];
        let granted = [
            granted("sub_ok", "active", "pro"),
            granted("sub_back", "canceled", "pro"),
            granted("sub_late", "active", "pro"),
            granted("sub_plan", "active", "free"),
            granted("sub_trial", "trialing", "pro"),
            granted("sub_d1", "active", "team"),
            granted("sub_d2", "trialing", "team"),
            // Granted, canceled in Stripe (not live).
            granted("sub_gone", "active", "pro"),
        ];
        let d = drift(&live, &granted, &settings, now);
        assert_eq!(
            kinds(&d),
            [
                (Kind::PaidNotProvisioned, "sub_back"),
                (Kind::PaidNotProvisioned, "sub_new"),
                (Kind::ProvisionedNotPaid, "sub_gone"),
                (Kind::ProvisionedNotPaid, "sub_late"),
                (Kind::PlanMismatch, "sub_plan"),
                (Kind::DuplicateSubscriptions, "sub_d1"),
                (Kind::TrialOverrun, "sub_trial"),
            ]
        );
        let reason = |id: &str, kind: Kind| {
            d.findings
                .iter()
                .find(|f| f.stripe_id == id && f.kind == kind)
                .unwrap()
                .reason
                .clone()
        };
        assert_eq!(
            reason("sub_new", Kind::PaidNotProvisioned),
            "active in Stripe (customer cus_new), no subscription row in the database"
        );
        assert_eq!(
            reason("sub_plan", Kind::PlanMismatch),
            "Stripe price price_pro is plan \"pro\"; user u_sub_plan has plan \"free\" in the database"
        );
        assert_eq!(
            reason("sub_d1", Kind::DuplicateSubscriptions),
            "customer cus_dup has 2 live paying subscriptions: sub_d1, sub_d2"
        );
        assert!(
            reason("sub_trial", Kind::TrialOverrun)
                .contains("the trial ended 2025-11-30T23:00:00Z")
        );
        assert!(reason("sub_gone", Kind::ProvisionedNotPaid).contains("not among Stripe's live"));
        // Plan mismatches and duplicates are for a person; the rest are repaired.
        let mut to_record = d.to_record.clone();
        to_record.sort();
        assert_eq!(
            to_record,
            ["sub_back", "sub_gone", "sub_late", "sub_new", "sub_trial"]
        );
    }

    #[test]
    fn without_a_price_map_plans_are_not_compared() {
        let now = Utc::now();
        let d = drift(
            &[live("sub_a", "cus_a", "active", "price_pro", None)],
            &[granted("sub_a", "active", "free")],
            &DriftSettings::default(),
            now,
        );
        assert!(d.findings.is_empty(), "{:?}", d.findings);
    }
}
