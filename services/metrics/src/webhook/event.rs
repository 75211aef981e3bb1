//! Stripe events reduced to the payment change they stand for.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::audit::model::Status;
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
    /// The object the event is about.
    pub data: EventData,
}

/// `data` of an event.
#[derive(Debug, Deserialize)]
pub struct EventData {
    /// The object as of the event.
    pub object: serde_json::Value,
}

/// A payment's state as one event tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentState {
    /// `pi_…`, or `ch_…` for a charge without an intent.
    pub stripe_id: String,
    /// `ch_…`.
    pub charge_id: Option<String>,
    /// `cus_…`.
    pub customer: Option<String>,
    /// Minor units.
    pub amount_minor: i64,
    /// Lower-case currency.
    pub currency: String,
    /// State.
    pub status: Status,
    /// Refunded so far.
    pub refunded_minor: i64,
    /// When Stripe created the payment.
    pub created_at: DateTime<Utc>,
}

/// What an event asks of the database.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Insert or update a payment.
    Payment(PaymentState),
    /// Record the invoice a payment paid.
    Invoice {
        /// `pi_…`.
        payment_intent: String,
        /// `in_…`.
        invoice_id: String,
    },
    /// Record a subscription state (`customer.subscription.*`); the state's
    /// `user_id` is empty until the customer is resolved to a user.
    Subscription(NewSubscription),
    /// Nothing to change (a type the service does not apply).
    None,
}

fn text(v: &serde_json::Value, key: &str) -> Option<String> {
    v.get(key).and_then(|x| x.as_str()).map(str::to_owned)
}

fn int(v: &serde_json::Value, key: &str) -> Option<i64> {
    v.get(key).and_then(serde_json::Value::as_i64)
}

/// The change `event` stands for; `Err` names what is missing.
pub fn change(event: &Event) -> Result<Change, String> {
    let o = &event.data.object;
    let need = |key: &str| format!("data.object.{key} is missing");
    let at = |key: &str| -> Result<DateTime<Utc>, String> {
        DateTime::from_timestamp(int(o, key).ok_or_else(|| need(key))?, 0).ok_or_else(|| need(key))
    };
    match event.kind.as_str() {
        kind if kind.starts_with("payment_intent.") => {
            let status = match text(o, "status").as_deref() {
                Some("succeeded") => Status::Succeeded,
                Some("canceled") => Status::Canceled,
                _ if kind == "payment_intent.payment_failed" => Status::Failed,
                _ => Status::Pending,
            };
            Ok(Change::Payment(PaymentState {
                stripe_id: text(o, "id").ok_or_else(|| need("id"))?,
                charge_id: text(o, "latest_charge"),
                customer: text(o, "customer"),
                amount_minor: int(o, "amount").ok_or_else(|| need("amount"))?,
                currency: text(o, "currency")
                    .ok_or_else(|| need("currency"))?
                    .to_ascii_lowercase(),
                status,
                refunded_minor: 0,
                created_at: at("created")?,
            }))
        }
        kind if kind.starts_with("charge.")
            && !kind.starts_with("charge.dispute")
            && !kind.starts_with("charge.refund.") =>
        {
            let id = text(o, "id").ok_or_else(|| need("id"))?;
            let amount = int(o, "amount").ok_or_else(|| need("amount"))?;
            let refunded = int(o, "amount_refunded").unwrap_or(0);
            let status = match text(o, "status").as_deref() {
                Some("succeeded") => Status::captured_with_refunds(amount, refunded),
                Some("failed") => Status::Failed,
                _ => Status::Pending,
            };
            Ok(Change::Payment(PaymentState {
                stripe_id: text(o, "payment_intent").unwrap_or_else(|| id.clone()),
                charge_id: Some(id),
                customer: text(o, "customer"),
                amount_minor: amount,
                currency: text(o, "currency")
                    .ok_or_else(|| need("currency"))?
                    .to_ascii_lowercase(),
                status,
                refunded_minor: refunded,
                created_at: at("created")?,
            }))
        }
        "invoice.paid" | "invoice.payment_succeeded" => {
            match (text(o, "payment_intent"), text(o, "id")) {
                (Some(payment_intent), Some(invoice_id)) => Ok(Change::Invoice {
                    payment_intent,
                    invoice_id,
                }),
                _ => Ok(Change::None),
            }
        }
        "customer.subscription.created"
        | "customer.subscription.updated"
        | "customer.subscription.deleted"
        | "customer.subscription.paused"
        | "customer.subscription.resumed" => {
            subscription(o, event.created).map(Change::Subscription)
        }
        // Refund objects carry one refund, not the total: the charge.refunded
        // event that Stripe sends with them carries the total and is applied.
        _ => Ok(Change::None),
    }
}

/// A Stripe Subscription object as one state, effective at the event's
/// `created`: the first item's price and quantity (the service models one
/// price per subscription), validated like an imported state.
fn subscription(o: &serde_json::Value, created: i64) -> Result<NewSubscription, String> {
    use growth_proto::common::v1::Money;
    use growth_proto::metrics::v1::{BillingInterval, Subscription, SubscriptionStatus};

    let need = |key: &str| format!("data.object.{key} is missing");
    let item = o
        .pointer("/items/data/0")
        .ok_or_else(|| need("items.data[0]"))?;
    let price = item
        .get("price")
        .ok_or_else(|| need("items.data[0].price"))?;
    let recurring = price
        .get("recurring")
        .ok_or_else(|| need("items.data[0].price.recurring"))?;
    let status = match text(o, "status").as_deref() {
        Some("trialing") => SubscriptionStatus::Trialing,
        Some("active") => SubscriptionStatus::Active,
        Some("past_due") => SubscriptionStatus::PastDue,
        Some("canceled") => SubscriptionStatus::Canceled,
        Some("unpaid") => SubscriptionStatus::Unpaid,
        Some("incomplete") => SubscriptionStatus::Incomplete,
        Some("incomplete_expired") => SubscriptionStatus::IncompleteExpired,
        Some("paused") => SubscriptionStatus::Paused,
        Some(other) => {
            return Err(format!(
                "data.object.status {other:?} is not a subscription status"
            ));
        }
        None => return Err(need("status")),
    };
    let interval = match text(recurring, "interval").as_deref() {
        Some("day") => BillingInterval::Day,
        Some("week") => BillingInterval::Week,
        Some("month") => BillingInterval::Month,
        Some("year") => BillingInterval::Year,
        _ => return Err(need("items.data[0].price.recurring.interval")),
    };
    let at = |seconds: i64| Some(prost_types::Timestamp { seconds, nanos: 0 });
    // An expanded customer is an object with its id.
    let customer = text(o, "customer")
        .or_else(|| o.get("customer").and_then(|c| text(c, "id")))
        .unwrap_or_default();
    let wire = Subscription {
        stripe_subscription_id: text(o, "id").ok_or_else(|| need("id"))?,
        stripe_customer: customer,
        user_id: String::new(),
        plan: text(price, "nickname")
            .filter(|n| !n.trim().is_empty())
            .or_else(|| text(price, "id"))
            .ok_or_else(|| need("items.data[0].price.id"))?,
        amount: Some(Money {
            amount_minor: int(price, "unit_amount")
                .ok_or_else(|| need("items.data[0].price.unit_amount"))?,
            currency: text(price, "currency")
                .ok_or_else(|| need("items.data[0].price.currency"))?,
        }),
        quantity: int(item, "quantity").unwrap_or(1),
        interval: interval as i32,
        interval_count: int(recurring, "interval_count")
            .and_then(|c| i32::try_from(c).ok())
            .unwrap_or(1),
        status: status as i32,
        started_at: at(int(o, "start_date").ok_or_else(|| need("start_date"))?),
        ended_at: int(o, "ended_at").and_then(at),
        effective_at: at(created),
    };
    NewSubscription::parse_unowned(&wire, Utc::now()).map_err(|violations| {
        let listed: Vec<String> = violations
            .iter()
            .map(|v| format!("data.object: {v}"))
            .collect();
        listed.join("; ")
    })
}
