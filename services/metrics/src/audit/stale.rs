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

fn finding(
    object_type: &'static str,
    id: &str,
    amount: i64,
    currency: &str,
    reason: String,
) -> Finding {
    Finding {
        kind: Kind::StaleMoneyState,
        severity: Severity::Warning,
        object_type,
        stripe_id: id.to_owned(),
        db_payment_ids: vec![],
        reason,
        stripe_amount: Some(Amount {
            minor: amount,
            currency: currency.to_owned(),
        }),
        db_amount: None,
        stripe_status: None,
        db_status: None,
    }
}

fn age(created: i64, now: DateTime<Utc>) -> chrono::Duration {
    now - DateTime::from_timestamp(created, 0).unwrap_or(now)
}

fn hours(d: chrono::Duration) -> String {
    format!("{} h", d.num_hours())
}

/// The period's objects stuck in a money state for longer than `stale_after`.
pub fn stale(
    period: &StripePeriod,
    stale_after: chrono::Duration,
    now: DateTime<Utc>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for pi in &period.payment_intents {
        let a = age(pi.created, now);
        if pi.status == "requires_capture" && a > stale_after {
            out.push(finding(
                "payment_intent",
                &pi.id,
                pi.amount,
                &pi.currency,
                format!(
                    "status requires_capture for {} (authorised, never captured; limit {})",
                    hours(a),
                    hours(stale_after)
                ),
            ));
        }
    }
    for ch in &period.charges {
        let a = age(ch.created, now);
        if ch.status == "pending" && a > stale_after {
            out.push(finding(
                "charge",
                &ch.id,
                ch.amount,
                &ch.currency,
                format!(
                    "status pending for {} (limit {})",
                    hours(a),
                    hours(stale_after)
                ),
            ));
        }
    }
    for re in &period.refunds {
        let a = age(re.created, now);
        let status = re.status.as_deref().unwrap_or_default();
        if matches!(status, "pending" | "requires_action") && a > stale_after {
            out.push(finding(
                "refund",
                &re.id,
                re.amount,
                &re.currency,
                format!(
                    "status {status} for {} (limit {})",
                    hours(a),
                    hours(stale_after)
                ),
            ));
        }
    }
    out
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
