//! A Stripe Subscription object as one subscription state.

use chrono::Utc;

use super::facts::{int, text};
use crate::domain::NewSubscription;

/// A Stripe Subscription object as one state, effective at the event's
/// `created`: the first item's price and quantity (the service models one
/// price per subscription), validated like an imported state.
pub fn subscription(o: &serde_json::Value, created: i64) -> Result<NewSubscription, String> {
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
