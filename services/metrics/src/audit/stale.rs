//! Stale money states: money neither taken nor given back for longer than
//! it should be, by Stripe's raw status (not the audit's mapped one, which
//! calls an uncaptured authorisation "authorized" and a pending charge
//! "pending" whatever their age). Pure.
//!
//! - a PaymentIntent in `requires_capture` (authorised, not captured: Stripe
//!   cancels the authorisation after 7 days for most cards);
//! - a charge `pending` (most methods settle within minutes; bank debits
//!   within days);
//! - a refund `pending` (or `requires_action`).
//!
//! Each older than `stale_after` at `now` is a warning finding.

use chrono::{DateTime, Utc};

use super::findings::{Amount, Finding, Kind, Severity};
use crate::stripe::fetch::StripePeriod;

/// An object as the check reads it: its money, its age and whether its raw
/// status is one that should not last.
struct Held<'a> {
    object_type: &'static str,
    id: &'a str,
    amount: i64,
    currency: &'a str,
    created: i64,
    status: &'a str,
    /// In a state that should end (`requires_capture`, `pending`, …).
    stuck: bool,
    /// What the state means, before the limit in the reason.
    meaning: &'static str,
}

/// The period's intents, charges and refunds, as the check reads them.
fn held(period: &StripePeriod) -> impl Iterator<Item = Held<'_>> {
    let intents = period.payment_intents.iter().map(|pi| Held {
        object_type: "payment_intent",
        id: &pi.id,
        amount: pi.amount,
        currency: &pi.currency,
        created: pi.created,
        status: &pi.status,
        stuck: pi.status == "requires_capture",
        meaning: "authorised, never captured; ",
    });
    let charges = period.charges.iter().map(|ch| Held {
        object_type: "charge",
        id: &ch.id,
        amount: ch.amount,
        currency: &ch.currency,
        created: ch.created,
        status: &ch.status,
        stuck: ch.status == "pending",
        meaning: "",
    });
    let refunds = period.refunds.iter().map(|re| {
        let status = re.status.as_deref().unwrap_or_default();
        Held {
            object_type: "refund",
            id: &re.id,
            amount: re.amount,
            currency: &re.currency,
            created: re.created,
            status,
            stuck: matches!(status, "pending" | "requires_action"),
            meaning: "",
        }
    });
    intents.chain(charges).chain(refunds)
}

fn hours(d: chrono::Duration) -> String {
    format!("{} h", d.num_hours())
}

fn finding(h: &Held<'_>, age: chrono::Duration, stale_after: chrono::Duration) -> Finding {
    Finding {
        kind: Kind::StaleMoneyState,
        severity: Severity::Warning,
        object_type: h.object_type,
        stripe_id: h.id.to_owned(),
        db_payment_ids: vec![],
        reason: format!(
            "status {} for {} ({}limit {})",
            h.status,
            hours(age),
            h.meaning,
            hours(stale_after)
        ),
        stripe_amount: Some(Amount {
            minor: h.amount,
            currency: h.currency.to_owned(),
        }),
        db_amount: None,
        stripe_status: None,
        db_status: None,
    }
}

/// The period's objects stuck in a money state for longer than `stale_after`.
pub fn stale(
    period: &StripePeriod,
    stale_after: chrono::Duration,
    now: DateTime<Utc>,
) -> Vec<Finding> {
    held(period)
        .filter(|h| h.stuck)
        .filter_map(|h| {
            let age = now - DateTime::from_timestamp(h.created, 0).unwrap_or(now);
            (age > stale_after).then(|| finding(&h, age, stale_after))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_money_states_older_than_the_limit_are_findings() {
        let now = DateTime::from_timestamp(1_764_547_200, 0).unwrap();
        let t = |hours_ago: i64| now.timestamp() - hours_ago * 3600;
        let pi = |id: &str, status: &str, created: i64| {
            serde_json::from_value(json!({"id": id, "amount": 4900, "currency": "eur", "status": status, "created": created})).unwrap()
        };
        let period = StripePeriod {
            payment_intents: vec![
                pi("pi_old", "requires_capture", t(30)),
                pi("pi_young", "requires_capture", t(2)),
                pi("pi_paid", "succeeded", t(300)),
            ],
            charges: vec![
                serde_json::from_value(json!({"id": "ch_old", "amount": 100, "currency": "usd", "status": "pending", "created": t(48)})).unwrap(),
                serde_json::from_value(json!({"id": "ch_ok", "amount": 100, "currency": "usd", "status": "succeeded", "created": t(48)})).unwrap(),
            ],
            refunds: vec![
                serde_json::from_value(json!({"id": "re_old", "amount": 50, "currency": "usd", "status": "pending", "created": t(25)})).unwrap(),
                serde_json::from_value(json!({"id": "re_done", "amount": 50, "currency": "usd", "status": "succeeded", "created": t(25)})).unwrap(),
            ],
            ..StripePeriod::default()
        };
        let found = stale(&period, chrono::Duration::hours(24), now);
        let ids: Vec<_> = found.iter().map(|f| f.stripe_id.as_str()).collect();
        assert_eq!(ids, ["pi_old", "ch_old", "re_old"]);
        assert_eq!(
            found[0].reason,
            "status requires_capture for 30 h (authorised, never captured; limit 24 h)"
        );
        assert_eq!(found[2].reason, "status pending for 25 h (limit 24 h)");
        assert_eq!(found[0].object_type, "payment_intent");
    }
}
