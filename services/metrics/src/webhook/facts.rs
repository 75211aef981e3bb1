//! What one Stripe event says about a payment, read in the shape of the API
//! version the event was rendered in. Facts are stored with their event and
//! folded together (`fold`), so a payment's row depends on which events
//! arrived, never on their order.

use serde::{Deserialize, Serialize};

use super::shape::Shape;

/// One event's facts about one payment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "object", rename_all = "snake_case")]
pub enum Fact {
    /// A PaymentIntent as of the event.
    Intent(Intent),
    /// A Charge as of the event.
    Charge(Charge),
    /// The payment paid this invoice.
    Invoice {
        /// `in_…`.
        invoice_id: String,
    },
    /// A dispute (chargeback) of the payment as of the event.
    Dispute(Dispute),
}

/// A PaymentIntent's fields that decide the payment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intent {
    /// `pi_…`.
    pub id: String,
    /// Unix seconds.
    pub created: i64,
    /// The amount intended (not necessarily taken).
    pub amount: i64,
    /// The amount captured (`amount_received`).
    pub amount_received: i64,
    /// The amount authorised and still capturable.
    pub amount_capturable: i64,
    /// Lower-case currency.
    pub currency: String,
    /// `cus_…`.
    pub customer: Option<String>,
    /// Stripe's status name.
    pub status: String,
    /// The event was `payment_intent.payment_failed`.
    pub failed_attempt: bool,
    /// `ch_…` of the latest attempt.
    pub latest_charge: Option<String>,
    /// `in_…` (API versions before 2025-03-31 only).
    pub invoice: Option<String>,
}

/// A Charge's fields that decide the payment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Charge {
    /// `ch_…`.
    pub id: String,
    /// Unix seconds.
    pub created: i64,
    /// The amount authorised.
    pub amount: i64,
    /// Whether the money was taken.
    pub captured: bool,
    /// The amount taken (0 while uncaptured).
    pub amount_captured: i64,
    /// Refunded of the money taken (a released authorisation is not a
    /// refund, whatever the API version counts in `amount_refunded`).
    pub refunded: i64,
    /// `succeeded` (also for an authorisation), `pending` or `failed`.
    pub status: String,
    /// The authorisation expired uncaptured.
    pub expired: bool,
    /// Lower-case currency.
    pub currency: String,
    /// `cus_…`.
    pub customer: Option<String>,
    /// `in_…` (API versions before 2025-03-31 only).
    pub invoice: Option<String>,
}

/// A dispute's fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dispute {
    /// `dp_…`.
    pub id: String,
    /// `ch_…` disputed.
    pub charge: String,
    /// Disputed amount, minor units.
    pub amount: i64,
    /// Lower-case currency.
    pub currency: String,
    /// Stripe's reason (`fraudulent`, `product_not_received`, …).
    pub reason: String,
    /// Stripe's status (`needs_response`, `under_review`, `won`, `lost`, …).
    pub status: String,
    /// Unix seconds.
    pub created: i64,
    /// When the disputed money left the balance, and how much.
    pub withdrawn: Option<Movement>,
    /// When it came back (a won dispute), and how much.
    pub reinstated: Option<Movement>,
}

/// Money moved at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Movement {
    /// Unix seconds.
    pub at: i64,
    /// Minor units, positive.
    pub amount: i64,
}

/// What an event is about, for the payment fold.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentFact {
    /// The payment's key: its PaymentIntent id, or the Charge id of a charge
    /// made without one (`metrics.payments.stripe_id`).
    pub payment: String,
    /// The fact.
    pub fact: Fact,
}

/// A string field, or the id of an expanded object.
pub(super) fn text(v: &serde_json::Value, key: &str) -> Option<String> {
    match v.get(key) {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        // An expanded object carries its id.
        Some(serde_json::Value::Object(o)) => o.get("id")?.as_str().map(str::to_owned),
        _ => None,
    }
}

/// An integer field.
pub(super) fn int(v: &serde_json::Value, key: &str) -> Option<i64> {
    v.get(key).and_then(serde_json::Value::as_i64)
}

fn need(key: &str) -> String {
    format!("data.object.{key} is missing")
}

fn required_text(o: &serde_json::Value, key: &str) -> Result<String, String> {
    text(o, key).ok_or_else(|| need(key))
}

fn required_int(o: &serde_json::Value, key: &str) -> Result<i64, String> {
    int(o, key).ok_or_else(|| need(key))
}

fn currency(o: &serde_json::Value) -> Result<String, String> {
    Ok(required_text(o, "currency")?.to_ascii_lowercase())
}

/// The PaymentIntent of a `payment_intent.*` event.
pub fn intent(kind: &str, o: &serde_json::Value, shape: Shape) -> Result<PaymentFact, String> {
    let id = required_text(o, "id")?;
    let status = required_text(o, "status")?;
    let amount = required_int(o, "amount")?;
    let fact = Intent {
        id: id.clone(),
        created: required_int(o, "created")?,
        amount,
        amount_received: int(o, "amount_received").unwrap_or(if status == "succeeded" {
            amount
        } else {
            0
        }),
        amount_capturable: int(o, "amount_capturable").unwrap_or(0),
        currency: currency(o)?,
        customer: text(o, "customer"),
        failed_attempt: kind == "payment_intent.payment_failed",
        status,
        latest_charge: text(o, "latest_charge"),
        invoice: shape
            .links_on_payments()
            .then(|| text(o, "invoice"))
            .flatten(),
    };
    Ok(PaymentFact {
        payment: id,
        fact: Fact::Intent(fact),
    })
}

/// The Charge of a `charge.*` event (not disputes, not refunds).
pub fn charge(kind: &str, o: &serde_json::Value, shape: Shape) -> Result<PaymentFact, String> {
    let id = required_text(o, "id")?;
    let amount = required_int(o, "amount")?;
    let status = required_text(o, "status")?;
    // Charges rendered before `captured` existed were captured when they
    // succeeded.
    let captured = o
        .get("captured")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(status == "succeeded");
    let amount_captured = if captured {
        int(o, "amount_captured")
            .filter(|a| *a > 0)
            .unwrap_or(amount)
    } else {
        0
    };
    let amount_refunded = int(o, "amount_refunded").unwrap_or(0);
    // Before 2025-03-31 Stripe counted a released authorisation (the rest
    // of a partial capture, an expired or canceled one) in amount_refunded.
    let released = if shape.counts_release_as_refund() {
        amount - amount_captured
    } else {
        0
    };
    let uncaptured_and_released = !captured
        && shape.counts_release_as_refund()
        && o.get("refunded").and_then(serde_json::Value::as_bool) == Some(true);
    let fact = Charge {
        id: id.clone(),
        created: required_int(o, "created")?,
        amount,
        captured,
        amount_captured,
        refunded: if captured {
            (amount_refunded - released).clamp(0, amount_captured)
        } else {
            0
        },
        status,
        expired: kind == "charge.expired" || uncaptured_and_released,
        currency: currency(o)?,
        customer: text(o, "customer"),
        invoice: shape
            .links_on_payments()
            .then(|| text(o, "invoice"))
            .flatten(),
    };
    Ok(PaymentFact {
        payment: text(o, "payment_intent").unwrap_or(id),
        fact: Fact::Charge(fact),
    })
}

/// The payment an invoice says it was paid by: before 2025-03-31 its
/// `payment_intent` (or `charge`); since then the `payments` list, when the
/// event includes it (the link otherwise comes as `invoice_payment.paid`).
pub fn invoice(o: &serde_json::Value, shape: Shape) -> Result<Option<PaymentFact>, String> {
    let invoice_id = required_text(o, "id")?;
    let payment = if shape.links_on_payments() {
        text(o, "payment_intent").or_else(|| text(o, "charge"))
    } else {
        o.pointer("/payments/data")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
            .filter(|p| text(p, "status").as_deref() == Some("paid"))
            .find_map(invoice_payment_target)
    };
    Ok(payment.map(|payment| PaymentFact {
        payment,
        fact: Fact::Invoice { invoice_id },
    }))
}

fn invoice_payment_target(p: &serde_json::Value) -> Option<String> {
    let payment = p.get("payment")?;
    text(payment, "payment_intent").or_else(|| text(payment, "charge"))
}

/// An `invoice_payment.paid` event's InvoicePayment (API 2025-03-31 on).
pub fn invoice_payment(o: &serde_json::Value) -> Result<Option<PaymentFact>, String> {
    let invoice_id = required_text(o, "invoice")?;
    if text(o, "status").as_deref() != Some("paid") {
        return Ok(None);
    }
    let payment = invoice_payment_target(o).ok_or_else(|| need("payment.payment_intent"))?;
    Ok(Some(PaymentFact {
        payment,
        fact: Fact::Invoice { invoice_id },
    }))
}

/// The Dispute of a `charge.dispute.*` event. Money movements come from its
/// balance transactions when the event carries them, else from the event
/// itself (`funds_withdrawn` / `funds_reinstated` at the event's time).
pub fn dispute(
    kind: &str,
    o: &serde_json::Value,
    event_created: i64,
) -> Result<PaymentFact, String> {
    let charge = required_text(o, "charge")?;
    let amount = required_int(o, "amount")?;
    let currency = currency(o)?;
    let transactions: Vec<(i64, i64, String)> = o
        .get("balance_transactions")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| Some((int(t, "created")?, int(t, "amount")?, text(t, "currency")?)))
        .collect();
    // A movement in another (settlement) currency counts the disputed amount.
    let movement = |sign: i64, event: &str| -> Option<Movement> {
        let from_transactions = transactions
            .iter()
            .filter(|(_, a, _)| a.signum() == sign)
            .map(|(at, a, c)| Movement {
                at: *at,
                amount: if c.eq_ignore_ascii_case(&currency) {
                    a.abs().min(amount)
                } else {
                    amount
                },
            })
            .min_by_key(|m| m.at);
        from_transactions.or_else(|| {
            (kind == event).then_some(Movement {
                at: event_created,
                amount,
            })
        })
    };
    let fact = Dispute {
        id: required_text(o, "id")?,
        amount,
        reason: text(o, "reason").unwrap_or_default(),
        status: required_text(o, "status")?,
        created: required_int(o, "created")?,
        withdrawn: movement(-1, "charge.dispute.funds_withdrawn"),
        reinstated: movement(1, "charge.dispute.funds_reinstated"),
        currency,
        charge: charge.clone(),
    };
    Ok(PaymentFact {
        payment: text(o, "payment_intent").unwrap_or(charge),
        fact: Fact::Dispute(fact),
    })
}
