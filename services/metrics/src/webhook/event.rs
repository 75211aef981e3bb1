//! Stripe events reduced to the change they stand for.

use serde::Deserialize;

use super::facts::{self, PaymentFact};
use super::shape::Shape;
use crate::domain::NewSubscription;

/// The envelope of every Stripe event.
#[derive(Debug, Deserialize)]
pub struct Event {
    /// `evt_…`, the idempotency key.
    pub id: String,
    /// E.g. `charge.refunded`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Unix seconds.
    pub created: i64,
    /// The API version `data.object` is rendered in (the endpoint's);
    /// absent or null only for events older than 2014-10-31.
    #[serde(default)]
    pub api_version: Option<String>,
    /// The object the event is about.
    pub data: EventData,
}

/// `data` of an event.
#[derive(Debug, Deserialize)]
pub struct EventData {
    /// The object as of the event.
    pub object: serde_json::Value,
}

/// What an event asks of the database.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A fact about a payment, folded with the payment's other facts.
    Payment(PaymentFact),
    /// Record a subscription state (`customer.subscription.*`); the state's
    /// `user_id` is empty until the customer is resolved to a user.
    Subscription(NewSubscription),
    /// A handled type whose object carries nothing to apply (an invoice of
    /// today's shape without its payments included, an open invoice payment).
    Nothing,
    /// A type the service does not handle.
    NotHandled,
}

/// The event types the webhook applies, written as Stripe's Events API
/// filters them: `x.*` is every type under `x.`, anything else one exact
/// type. The one list of them: [`handled`] reads it, and so does the audit's
/// listing of missed events (`audit::missed`).
pub const HANDLED: &[&str] = &[
    "payment_intent.*",
    "charge.*",
    "invoice.paid",
    "invoice.payment_succeeded",
    "invoice_payment.paid",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
];

/// Types under a handled wildcard that are not handled: a refund object
/// carries one refund, not the total; the `charge.refunded` event that
/// Stripe sends with it carries the total.
pub const EXCLUDED: &[&str] = &["charge.refund.*"];

/// Whether `pattern` (an entry of [`HANDLED`] or [`EXCLUDED`]) matches `kind`.
pub fn matches(pattern: &str, kind: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => kind.starts_with(prefix),
        None => kind == pattern,
    }
}

/// Whether the webhook applies events of type `kind` (else it records them
/// as not handled).
pub fn handled(kind: &str) -> bool {
    HANDLED.iter().any(|p| matches(p, kind)) && !EXCLUDED.iter().any(|p| matches(p, kind))
}

/// The change `event` stands for; `Err` names what is missing.
pub fn change(event: &Event) -> Result<Change, String> {
    let o = &event.data.object;
    let shape = Shape::of(event.api_version.as_deref());
    let kind = event.kind.as_str();
    if !handled(kind) {
        return Ok(Change::NotHandled);
    }
    let payment = |fact: Option<PaymentFact>| fact.map_or(Change::Nothing, Change::Payment);
    Ok(match kind {
        _ if kind.starts_with("payment_intent.") => Change::Payment(facts::intent(kind, o, shape)?),
        _ if kind.starts_with("charge.dispute.") => {
            Change::Payment(facts::dispute(kind, o, event.created)?)
        }
        _ if kind.starts_with("charge.") => Change::Payment(facts::charge(kind, o, shape)?),
        "invoice.paid" | "invoice.payment_succeeded" => payment(facts::invoice(o, shape)?),
        "invoice_payment.paid" => payment(facts::invoice_payment(o)?),
        // Every other handled type is a `customer.subscription.*` one.
        _ if kind.starts_with("customer.subscription.") => {
            Change::Subscription(super::subscription::subscription(o, event.created)?)
        }
        _ => Change::NotHandled,
    })
}

#[cfg(test)]
mod tests {
    use super::handled;

    #[test]
    fn handled_types_follow_the_webhook() {
        for kind in [
            "payment_intent.succeeded",
            "charge.refunded",
            "charge.dispute.created",
            "invoice.paid",
            "invoice_payment.paid",
            "customer.subscription.resumed",
        ] {
            assert!(handled(kind), "{kind}");
        }
        for kind in [
            "charge.refund.updated",
            "invoice.created",
            "customer.subscription.trial_will_end",
            "customer.created",
            "payment_intentx",
        ] {
            assert!(!handled(kind), "{kind}");
        }
    }
}
