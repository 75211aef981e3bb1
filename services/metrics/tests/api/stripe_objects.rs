//! Stripe events and objects for the webhook tests, laid out as Stripe
//! renders them: the pinned `2024-06-20` from Stripe's API reference, and
//! `2026-07-29.dahlia` from the example objects Stripe publishes with its
//! OpenAPI description (../shared/stripe/openapi-fixtures.json): Invoices
//! without `payment_intent`/`charge`/`paid`, InvoicePayment objects, no
//! `invoice` on PaymentIntents and Charges, and a released authorisation not
//! counted in `amount_refunded`.

use serde_json::{Value, json};

pub const LEGACY: &str = "2024-06-20";
pub const DAHLIA: &str = "2026-07-29.dahlia";

/// An event envelope around `object`.
pub fn stripe_event(id: &str, kind: &str, created: i64, version: &str, object: Value) -> Value {
    json!({"id": id, "object": "event", "api_version": version, "created": created,
           "livemode": false, "pending_webhooks": 1, "type": kind,
           "request": {"id": null, "idempotency_key": null},
           "data": {"object": object}})
}

/// A PaymentIntent.
pub struct Pi<'a> {
    pub id: &'a str,
    pub status: &'a str,
    pub amount: i64,
    pub received: i64,
    pub capturable: i64,
    pub created: i64,
    pub latest_charge: Option<&'a str>,
}

impl Pi<'_> {
    pub fn object(&self, version: &str) -> Value {
        let mut o = json!({"id": self.id, "object": "payment_intent", "amount": self.amount,
            "amount_capturable": self.capturable, "amount_received": self.received,
            "capture_method": if self.capturable > 0 { "manual" } else { "automatic" },
            "created": self.created, "currency": "usd", "customer": "cus_1",
            "latest_charge": self.latest_charge, "livemode": false, "metadata": {},
            "payment_method_types": ["card"], "status": self.status});
        if version == LEGACY {
            o["invoice"] = Value::Null;
        }
        o
    }
}

/// A Charge.
pub struct Ch<'a> {
    pub id: &'a str,
    pub pi: Option<&'a str>,
    pub amount: i64,
    pub captured: bool,
    pub amount_captured: i64,
    pub amount_refunded: i64,
    pub refunded: bool,
    pub status: &'a str,
    pub created: i64,
}

impl Ch<'_> {
    pub fn object(&self, version: &str) -> Value {
        let mut o = json!({"id": self.id, "object": "charge", "amount": self.amount,
            "amount_captured": self.amount_captured, "amount_refunded": self.amount_refunded,
            "balance_transaction": null, "captured": self.captured, "created": self.created,
            "currency": "usd", "customer": "cus_1", "disputed": false, "livemode": false,
            "paid": self.status == "succeeded", "payment_intent": self.pi,
            "refunded": self.refunded, "status": self.status});
        if version == LEGACY {
            o["invoice"] = Value::Null;
        }
        o
    }
}

/// An Invoice paid by `pi`, in each version's shape; `payments` includes
/// the InvoicePayment list in today's shape (it is includable, not default).
pub fn invoice(id: &str, pi: &str, version: &str, payments: bool) -> Value {
    let mut o = json!({"id": id, "object": "invoice", "amount_due": 4900, "amount_paid": 4900,
        "amount_remaining": 0, "created": 1_762_000_000, "currency": "usd",
        "customer": "cus_1", "status": "paid"});
    if version == LEGACY {
        o["payment_intent"] = json!(pi);
        o["charge"] = json!("ch_1");
        o["paid"] = json!(true);
        o["subscription"] = json!("sub_1");
    } else {
        o["parent"] = json!({"type": "subscription_details",
            "subscription_details": {"metadata": null, "subscription": "sub_1"}});
        if payments {
            o["payments"] = json!({"object": "list", "has_more": false,
                "data": [invoice_payment("inpay_1", id, pi)]});
        }
    }
    o
}

/// An InvoicePayment (2025-03-31 on) of `invoice` by `pi`, paid.
pub fn invoice_payment(id: &str, invoice: &str, pi: &str) -> Value {
    json!({"id": id, "object": "invoice_payment", "amount_paid": 4900,
        "amount_requested": 4900, "created": 1_762_000_000, "currency": "usd",
        "invoice": invoice, "is_default": true, "livemode": false,
        "payment": {"type": "payment_intent", "payment_intent": pi},
        "status": "paid", "status_transitions": {"canceled_at": null, "paid_at": 1_762_000_000}})
}

/// A Dispute of `charge` (of `pi`) with its balance transactions.
pub fn dispute(
    id: &str,
    charge: &str,
    pi: &str,
    amount: i64,
    status: &str,
    transactions: &[(i64, i64)],
) -> Value {
    let transactions: Vec<Value> = transactions
        .iter()
        .map(|(created, amount)| json!({"id": format!("txn_{created}"), "object": "balance_transaction",
            "amount": amount, "created": created, "currency": "usd", "fee": if *amount < 0 { 1500 } else { -1500 },
            "type": "adjustment", "reporting_category": if *amount < 0 { "dispute" } else { "dispute_reversal" }}))
        .collect();
    json!({"id": id, "object": "dispute", "amount": amount, "balance_transactions": transactions,
        "charge": charge, "created": 1_762_100_000, "currency": "usd", "is_charge_refundable": false,
        "livemode": false, "metadata": {}, "payment_intent": pi, "reason": "fraudulent",
        "status": status})
}
