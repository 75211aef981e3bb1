//! What the reconciliation engine compares: payments as Stripe has them and
//! as the database has them, both reduced to the same few fields.

use chrono::{DateTime, Utc};

/// A payment's state, with Stripe's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// Captured.
    Succeeded,
    /// Not settled yet.
    Pending,
    /// Declined or failed.
    Failed,
    /// Canceled before capture.
    Canceled,
    /// Refunded in full.
    Refunded,
    /// Refunded in part.
    PartiallyRefunded,
    /// Authorised, not captured (manual capture): no money taken yet.
    Authorized,
}

impl Status {
    /// The stored name (`metrics.payments.status`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Succeeded => "succeeded",
            Status::Pending => "pending",
            Status::Failed => "failed",
            Status::Canceled => "canceled",
            Status::Refunded => "refunded",
            Status::PartiallyRefunded => "partially_refunded",
            Status::Authorized => "authorized",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "succeeded" => Status::Succeeded,
            "pending" => Status::Pending,
            "failed" => Status::Failed,
            "canceled" => Status::Canceled,
            "refunded" => Status::Refunded,
            "partially_refunded" => Status::PartiallyRefunded,
            "authorized" => Status::Authorized,
            _ => return None,
        })
    }

    /// The state of a captured payment of `amount` with `refunded` refunded.
    pub fn captured_with_refunds(amount: i64, refunded: i64) -> Self {
        if refunded <= 0 {
            Status::Succeeded
        } else if refunded >= amount {
            Status::Refunded
        } else {
            Status::PartiallyRefunded
        }
    }

    /// Whether money was captured (it counts in gross revenue).
    pub fn captured(self) -> bool {
        matches!(
            self,
            Status::Succeeded | Status::Refunded | Status::PartiallyRefunded
        )
    }
}

/// One payment as Stripe reports it (a PaymentIntent, or a Charge made
/// without one), with refunds already applied.
#[derive(Debug, Clone, PartialEq)]
pub struct StripePayment {
    /// `pi_…` or, for a standalone charge, `ch_…`.
    pub stripe_id: String,
    /// The charge that captured it (`ch_…`), when there is one.
    pub charge_id: Option<String>,
    /// `payment_intent` or `charge`.
    pub object_type: &'static str,
    /// Amount in minor units.
    pub amount_minor: i64,
    /// Lower-case ISO currency.
    pub currency: String,
    /// State, refunds applied.
    pub status: Status,
    /// Amount refunded, minor units.
    pub refunded_minor: i64,
    /// When Stripe created it.
    pub created_at: DateTime<Utc>,
    /// `cus_…`, when known.
    pub customer: Option<String>,
    /// `in_…`, when it paid an invoice.
    pub invoice_id: Option<String>,
}

/// One row of `metrics.payments`.
#[derive(Debug, Clone, PartialEq)]
pub struct DbPayment {
    /// Row id.
    pub payment_id: i64,
    /// `pi_…` or `ch_…`.
    pub stripe_id: String,
    /// `ch_…`, when recorded.
    pub charge_id: Option<String>,
    /// Amount in minor units.
    pub amount_minor: i64,
    /// Lower-case ISO currency.
    pub currency: String,
    /// Recorded state.
    pub status: Status,
    /// Recorded refunds, minor units.
    pub refunded_minor: i64,
    /// Recorded creation time.
    pub created_at: DateTime<Utc>,
}
