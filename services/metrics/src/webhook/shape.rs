//! Which shape an event's object has: a webhook endpoint renders events in
//! the API version it was created with, so one service receives both.
//! `2025-03-31.basil` moved the invoice ↔ payment link from the Invoice
//! (`payment_intent`, `charge`) and the PaymentIntent and Charge (`invoice`)
//! to InvoicePayment objects, and stopped counting a released authorisation
//! (the rest of a partial capture, an expired or canceled one) as refunded.

/// The first API version of today's shapes.
pub const CURRENT_SINCE: &str = "2025-03-31";

/// An event's object shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Before 2025-03-31 (the audit client's pinned `2024-06-20` among them);
    /// also events without an `api_version` (created before 2014-10-31).
    Legacy,
    /// 2025-03-31.basil and later (clover, dahlia, …).
    Current,
}

impl Shape {
    /// The shape of `api_version` (`2024-06-20`, `2026-07-29.dahlia`):
    /// versions are dated, so the date decides.
    pub fn of(api_version: Option<&str>) -> Self {
        match api_version.and_then(|v| v.get(..10)) {
            Some(date) if date >= CURRENT_SINCE => Shape::Current,
            _ => Shape::Legacy,
        }
    }

    /// Invoices name their PaymentIntent and charge; payments their invoice.
    pub fn links_on_payments(self) -> bool {
        self == Shape::Legacy
    }

    /// `amount_refunded` includes an authorisation released uncaptured.
    pub fn counts_release_as_refund(self) -> bool {
        self == Shape::Legacy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_told_apart_by_their_date() {
        for legacy in [
            None,
            Some("2024-06-20"),
            Some("2025-02-24.acacia"),
            Some(""),
        ] {
            assert_eq!(Shape::of(legacy), Shape::Legacy, "{legacy:?}");
        }
        for current in ["2025-03-31.basil", "2025-09-30.clover", "2026-07-29.dahlia"] {
            assert_eq!(Shape::of(Some(current)), Shape::Current, "{current}");
        }
    }
}
