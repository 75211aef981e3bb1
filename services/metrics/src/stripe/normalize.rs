//! Stripe objects reduced to what the reconciliation compares: one payment
//! per PaymentIntent, plus one per charge made without a PaymentIntent, with
//! refunds taken from the charge that captured it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::fetch::StripePeriod;
use super::types::{Charge, PaymentIntent};
use crate::audit::model::{Status, StripePayment};

fn at(unix: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(unix, 0).unwrap_or_default()
}

fn intent_status(pi: &PaymentIntent, charge: Option<&Charge>) -> Status {
    let refunded = charge.map_or(0, |c| c.amount_refunded);
    match pi.status.as_str() {
        "succeeded" => Status::captured_with_refunds(taken_by_intent(pi), refunded),
        "canceled" => Status::Canceled,
        "requires_capture" => Status::Authorized,
        // A failed attempt leaves the intent waiting for a new method.
        "requires_payment_method" if charge.is_some_and(|c| c.status == "failed") => Status::Failed,
        _ => Status::Pending,
    }
}

/// What a succeeded PaymentIntent took: `amount_received`, never `amount`
/// (a partial capture takes less).
fn taken_by_intent(pi: &PaymentIntent) -> i64 {
    pi.amount_received.unwrap_or(pi.amount)
}

fn charge_status(c: &Charge) -> Status {
    match c.status.as_str() {
        "succeeded" if c.captured == Some(false) => Status::Authorized,
        "succeeded" => {
            Status::captured_with_refunds(c.amount_captured.unwrap_or(c.amount), c.amount_refunded)
        }
        "failed" => Status::Failed,
        _ => Status::Pending,
    }
}

/// The period's payments as the reconciliation sees them.
pub fn payments(period: &StripePeriod) -> Vec<StripePayment> {
    let charges: HashMap<&str, &Charge> =
        period.charges.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut out = Vec::with_capacity(period.payment_intents.len());
    for pi in &period.payment_intents {
        let charge = pi
            .latest_charge
            .as_deref()
            .and_then(|id| charges.get(id).copied());
        out.push(StripePayment {
            stripe_id: pi.id.clone(),
            charge_id: pi.latest_charge.clone(),
            object_type: "payment_intent",
            amount_minor: if pi.status == "succeeded" {
                taken_by_intent(pi)
            } else {
                pi.amount
            },
            currency: pi.currency.to_ascii_lowercase(),
            status: intent_status(pi, charge),
            refunded_minor: charge.map_or(0, |c| c.amount_refunded),
            created_at: at(pi.created),
            customer: pi.customer.clone(),
            invoice_id: pi.invoice.clone(),
        });
    }
    for c in period.charges.iter().filter(|c| c.payment_intent.is_none()) {
        out.push(StripePayment {
            stripe_id: c.id.clone(),
            charge_id: Some(c.id.clone()),
            object_type: "charge",
            amount_minor: if c.captured != Some(false) {
                c.amount_captured.unwrap_or(c.amount)
            } else {
                c.amount
            },
            currency: c.currency.to_ascii_lowercase(),
            status: charge_status(c),
            refunded_minor: c.amount_refunded,
            created_at: at(c.created),
            customer: c.customer.clone(),
            invoice_id: c.invoice.clone(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pi(id: &str, status: &str, charge: Option<&str>) -> PaymentIntent {
        PaymentIntent {
            id: id.into(),
            amount: 4900,
            amount_received: None,
            currency: "USD".into(),
            status: status.into(),
            customer: None,
            invoice: None,
            latest_charge: charge.map(Into::into),
            created: 1_762_000_000,
        }
    }

    fn charge(id: &str, status: &str, refunded: i64, intent: Option<&str>) -> Charge {
        Charge {
            id: id.into(),
            amount: 4900,
            amount_refunded: refunded,
            captured: None,
            amount_captured: None,
            currency: "usd".into(),
            status: status.into(),
            payment_intent: intent.map(Into::into),
            customer: None,
            invoice: None,
            created: 1_762_000_000,
        }
    }

    #[test]
    fn intents_take_refunds_from_their_charge_and_lone_charges_count_too() {
        let period = StripePeriod {
            payment_intents: vec![
                pi("pi_1", "succeeded", Some("ch_1")),
                pi("pi_2", "succeeded", Some("ch_2")),
                pi("pi_3", "requires_payment_method", Some("ch_3")),
                pi("pi_4", "canceled", None),
            ],
            charges: vec![
                charge("ch_1", "succeeded", 0, Some("pi_1")),
                charge("ch_2", "succeeded", 1000, Some("pi_2")),
                charge("ch_3", "failed", 0, Some("pi_3")),
                charge("ch_9", "succeeded", 4900, None),
            ],
            ..Default::default()
        };
        let got: Vec<(String, Status, i64, String)> = payments(&period)
            .into_iter()
            .map(|p| (p.stripe_id, p.status, p.refunded_minor, p.currency))
            .collect();
        assert_eq!(
            got,
            [
                ("pi_1".into(), Status::Succeeded, 0, "usd".into()),
                ("pi_2".into(), Status::PartiallyRefunded, 1000, "usd".into()),
                ("pi_3".into(), Status::Failed, 0, "usd".into()),
                ("pi_4".into(), Status::Canceled, 0, "usd".into()),
                ("ch_9".into(), Status::Refunded, 4900, "usd".into()),
            ]
        );
    }

    #[test]
    fn an_authorisation_is_not_taken_and_a_partial_capture_takes_what_was_received() {
        let period = StripePeriod {
            payment_intents: vec![
                pi("pi_1", "requires_capture", Some("ch_1")),
                PaymentIntent {
                    amount_received: Some(3000),
                    ..pi("pi_2", "succeeded", Some("ch_2"))
                },
            ],
            charges: vec![Charge {
                captured: Some(false),
                ..charge("ch_9", "succeeded", 0, None)
            }],
            ..Default::default()
        };
        let got: Vec<(String, Status, i64)> = payments(&period)
            .into_iter()
            .map(|p| (p.stripe_id, p.status, p.amount_minor))
            .collect();
        assert_eq!(
            got,
            [
                ("pi_1".into(), Status::Authorized, 4900),
                ("pi_2".into(), Status::Succeeded, 3000),
                ("ch_9".into(), Status::Authorized, 4900),
            ]
        );
    }
}
