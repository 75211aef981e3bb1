//! The parts of Stripe's objects the audit reads. Unknown fields are ignored;
//! nullable fields are `Option`.

use serde::Deserialize;
use serde::de::DeserializeOwned;

/// One page of a list API.
#[derive(Debug, Deserialize)]
pub struct ListPage<T> {
    /// Objects, newest first.
    pub data: Vec<T>,
    /// Whether another page follows (`starting_after` the last id).
    pub has_more: bool,
}

/// A listable Stripe resource.
pub trait Listed: DeserializeOwned + Send + 'static {
    /// Path under the API root, e.g. `/v1/charges`.
    const PATH: &'static str;
    /// Query parameters every list call adds (besides `created` and the
    /// pagination).
    const FILTERS: &'static [(&'static str, &'static str)] = &[];
    /// The object's id (the pagination cursor).
    fn id(&self) -> &str;
    /// When it was created, Unix seconds (what the `created` filters read).
    fn created(&self) -> i64;
}

macro_rules! listed {
    ($type:ty, $path:literal $(, $key:literal = $value:literal)*) => {
        impl Listed for $type {
            const PATH: &'static str = $path;
            const FILTERS: &'static [(&'static str, &'static str)] = &[$(($key, $value)),*];
            fn id(&self) -> &str {
                &self.id
            }
            fn created(&self) -> i64 {
                self.created
            }
        }
    };
}

/// A PaymentIntent.
#[derive(Debug, Clone, Deserialize)]
pub struct PaymentIntent {
    /// `pi_…`.
    pub id: String,
    /// Amount in minor units (intended, not necessarily taken).
    pub amount: i64,
    /// Amount taken (captured); absent in old fixtures.
    #[serde(default)]
    pub amount_received: Option<i64>,
    /// Lower-case currency.
    pub currency: String,
    /// `succeeded`, `canceled`, `processing`, `requires_*`.
    pub status: String,
    /// `cus_…`.
    #[serde(default)]
    pub customer: Option<String>,
    /// `in_…`.
    #[serde(default)]
    pub invoice: Option<String>,
    /// `ch_…` of the latest attempt.
    #[serde(default)]
    pub latest_charge: Option<String>,
    /// Unix seconds.
    pub created: i64,
}
listed!(PaymentIntent, "/v1/payment_intents");

/// A Charge.
#[derive(Debug, Clone, Deserialize)]
pub struct Charge {
    /// `ch_…`.
    pub id: String,
    /// Amount in minor units.
    pub amount: i64,
    /// Refunded so far, minor units.
    #[serde(default)]
    pub amount_refunded: i64,
    /// Whether the money was taken; false for an authorisation (absent in
    /// old fixtures: taken when it succeeded).
    #[serde(default)]
    pub captured: Option<bool>,
    /// Amount taken.
    #[serde(default)]
    pub amount_captured: Option<i64>,
    /// Lower-case currency.
    pub currency: String,
    /// `succeeded`, `pending`, `failed`.
    pub status: String,
    /// `pi_…`, absent for charges made without one.
    #[serde(default)]
    pub payment_intent: Option<String>,
    /// `cus_…`.
    #[serde(default)]
    pub customer: Option<String>,
    /// `in_…`.
    #[serde(default)]
    pub invoice: Option<String>,
    /// Unix seconds.
    pub created: i64,
}
listed!(Charge, "/v1/charges");

/// An Invoice.
#[derive(Debug, Clone, Deserialize)]
pub struct Invoice {
    /// `in_…`.
    pub id: String,
    /// Paid so far, minor units.
    #[serde(default)]
    pub amount_paid: i64,
    /// Lower-case currency.
    pub currency: String,
    /// `draft`, `open`, `paid`, `uncollectible`, `void`.
    #[serde(default)]
    pub status: Option<String>,
    /// `cus_…`.
    #[serde(default)]
    pub customer: Option<String>,
    /// `sub_…`.
    #[serde(default)]
    pub subscription: Option<String>,
    /// Unix seconds.
    pub created: i64,
}
listed!(Invoice, "/v1/invoices");

/// A Subscription.
#[derive(Debug, Clone, Deserialize)]
pub struct Subscription {
    /// `sub_…`.
    pub id: String,
    /// `cus_…`.
    #[serde(default)]
    pub customer: Option<String>,
    /// `active`, `trialing`, `canceled`, …
    pub status: String,
    /// Unix seconds.
    pub created: i64,
}
// Without `status=all` Stripe lists only subscriptions that are not
// canceled: a month's canceled ones would be missing.
listed!(Subscription, "/v1/subscriptions", "status" = "all");

/// A subscription as Stripe has it now, kept whole (the audit's
/// entitlement checks read its price and trial, and a drift repair records
/// it as the webhook would). Listed without `status`, so Stripe answers with
/// every subscription that is not canceled, whenever it was created.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct LiveSubscription(pub serde_json::Value);

impl LiveSubscription {
    fn text(&self, pointer: &str) -> Option<&str> {
        self.0.pointer(pointer).and_then(serde_json::Value::as_str)
    }

    /// `sub_…`.
    pub fn sub_id(&self) -> &str {
        self.text("/id").unwrap_or_default()
    }

    /// `cus_…` (an expanded customer's id too).
    pub fn customer(&self) -> Option<&str> {
        self.text("/customer").or_else(|| self.text("/customer/id"))
    }

    /// `active`, `trialing`, `past_due`, `unpaid`, `incomplete`, `paused`, …
    pub fn status(&self) -> &str {
        self.text("/status").unwrap_or_default()
    }

    /// The first item's price (`price_…`).
    pub fn price(&self) -> Option<&str> {
        self.text("/items/data/0/price/id")
    }

    /// When the trial ends, Unix seconds.
    pub fn trial_end(&self) -> Option<i64> {
        self.0.get("trial_end").and_then(serde_json::Value::as_i64)
    }
}

impl Listed for LiveSubscription {
    const PATH: &'static str = "/v1/subscriptions";
    fn id(&self) -> &str {
        self.sub_id()
    }
    fn created(&self) -> i64 {
        self.0
            .get("created")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or_default()
    }
}

/// A Refund.
#[derive(Debug, Clone, Deserialize)]
pub struct Refund {
    /// `re_…`.
    pub id: String,
    /// Refunded, minor units.
    pub amount: i64,
    /// Lower-case currency.
    pub currency: String,
    /// `ch_…`.
    #[serde(default)]
    pub charge: Option<String>,
    /// `pi_…`.
    #[serde(default)]
    pub payment_intent: Option<String>,
    /// `succeeded`, `pending`, `failed`, `canceled`.
    #[serde(default)]
    pub status: Option<String>,
    /// Unix seconds.
    pub created: i64,
}
listed!(Refund, "/v1/refunds");
