//! A payment row to import.

use chrono::{DateTime, Utc};
use growth_proto::metrics::v1::{self as pb, PaymentStatus};
use growth_runtime::status::FieldViolation;

use super::batch::{RowErrors, parse_rows};
use super::fields;

/// A validated payment row.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPayment {
    /// Stripe PaymentIntent or Charge id.
    pub stripe_id: String,
    /// Stripe Charge id.
    pub stripe_charge_id: Option<String>,
    /// Stripe Invoice id.
    pub stripe_invoice_id: Option<String>,
    /// Stripe Customer id.
    pub stripe_customer: Option<String>,
    /// The paying user.
    pub user_id: Option<String>,
    /// Amount in minor units.
    pub amount_minor: i64,
    /// Lower-case ISO currency.
    pub currency: String,
    /// Stripe-style status name as stored.
    pub status: &'static str,
    /// Refunded so far, minor units.
    pub refunded_minor: i64,
    /// When Stripe created it.
    pub created_at: DateTime<Utc>,
    /// When the latest refund was made, if the importer knows.
    pub refunded_at: Option<DateTime<Utc>>,
    /// The Stripe object, canonical JSON object text.
    pub raw: String,
}

/// The stored name of a status; `None` for UNSPECIFIED or unknown numbers.
pub fn status_name(status: i32) -> Option<&'static str> {
    Some(match PaymentStatus::try_from(status).ok()? {
        PaymentStatus::Unspecified => return None,
        PaymentStatus::Succeeded => "succeeded",
        PaymentStatus::Pending => "pending",
        PaymentStatus::Failed => "failed",
        PaymentStatus::Canceled => "canceled",
        PaymentStatus::Refunded => "refunded",
        PaymentStatus::PartiallyRefunded => "partially_refunded",
        PaymentStatus::Authorized => "authorized",
    })
}

/// A three-letter ISO 4217 code, stored lower case as Stripe sends it.
pub fn currency(field: &str, value: &str) -> Result<String, FieldViolation> {
    if value.len() == 3 && value.chars().all(|c| c.is_ascii_alphabetic()) {
        Ok(value.to_ascii_lowercase())
    } else {
        Err(FieldViolation::new(
            field,
            format!("{value:?} is not a three-letter ISO 4217 currency code"),
        ))
    }
}

/// A required amount: `amount_minor` >= 0 and a currency (stored lower
/// case); every problem is recorded in `errors` under `field`.
pub fn money(
    errors: &mut RowErrors,
    field: &str,
    value: Option<&growth_proto::common::v1::Money>,
) -> (Option<i64>, Option<String>) {
    let Some(m) = value else {
        errors.push(FieldViolation::new(field, "is required"));
        return (None, None);
    };
    let amount = if m.amount_minor < 0 {
        errors.push(FieldViolation::new(
            format!("{field}.amount_minor"),
            format!("must not be negative, got {}", m.amount_minor),
        ));
        None
    } else {
        Some(m.amount_minor)
    };
    let currency = errors.check(currency(&format!("{field}.currency"), &m.currency));
    (amount, currency)
}

impl NewPayment {
    /// Validates one payment.
    pub fn parse(p: &pb::Payment, now: DateTime<Utc>) -> Result<Self, Vec<FieldViolation>> {
        let mut errors = RowErrors::default();
        let stripe_id = errors.check(fields::id("stripe_id", &p.stripe_id));
        let stripe_charge_id =
            errors.check(fields::optional_id("stripe_charge_id", &p.stripe_charge_id));
        let stripe_invoice_id = errors.check(fields::optional_id(
            "stripe_invoice_id",
            &p.stripe_invoice_id,
        ));
        let stripe_customer =
            errors.check(fields::optional_id("stripe_customer", &p.stripe_customer));
        let user_id = errors.check(fields::optional_id("user_id", &p.user_id));
        let (amount_minor, currency) = money(&mut errors, "amount", p.amount.as_ref());
        let status = errors.check(status_name(p.status).ok_or_else(|| {
            FieldViolation::new(
                "status",
                format!(
                    "must be a PaymentStatus other than UNSPECIFIED, got {}",
                    p.status
                ),
            )
        }));
        let refunded_minor = match amount_minor {
            Some(amount) if p.refunded_minor < 0 || p.refunded_minor > amount => {
                errors.push(FieldViolation::new(
                    "refunded_minor",
                    format!(
                        "must be between 0 and the amount {amount}, got {}",
                        p.refunded_minor
                    ),
                ));
                None
            }
            _ => Some(p.refunded_minor),
        };
        let created_at = errors.check(fields::timestamp("created_at", p.created_at.as_ref(), now));
        let refunded_at = errors
            .check(fields::optional_timestamp(
                "refunded_at",
                p.refunded_at.as_ref(),
                now,
            ))
            .flatten();
        match (refunded_at, created_at) {
            (Some(_), _) if p.refunded_minor == 0 => errors.push(FieldViolation::new(
                "refunded_at",
                "is set but nothing is refunded (refunded_minor is 0)",
            )),
            (Some(at), Some(created)) if at < created => errors.push(FieldViolation::new(
                "refunded_at",
                format!(
                    "{} is before created_at {}",
                    at.to_rfc3339(),
                    created.to_rfc3339()
                ),
            )),
            _ => {}
        }
        let raw = errors.check(fields::json_object("raw_json", &p.raw_json));
        errors.finish(|| {
            Some(Self {
                stripe_id: stripe_id?,
                stripe_charge_id: stripe_charge_id?,
                stripe_invoice_id: stripe_invoice_id?,
                stripe_customer: stripe_customer?,
                user_id: user_id?,
                amount_minor: amount_minor?,
                currency: currency?,
                status: status?,
                refunded_minor: refunded_minor?,
                created_at: created_at?,
                refunded_at,
                raw: raw?,
            })
        })
    }

    /// Validates a whole `ImportPayments` batch.
    pub fn parse_batch(
        payments: &[pb::Payment],
        now: DateTime<Utc>,
    ) -> Result<Vec<Self>, Vec<FieldViolation>> {
        parse_rows(
            "payments",
            payments,
            |p| ("stripe_id", p.stripe_id.as_str()),
            |p| Self::parse(p, now),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use growth_proto::common::v1::Money;

    fn payment() -> pb::Payment {
        pb::Payment {
            stripe_id: "pi_1".into(),
            amount: Some(Money {
                amount_minor: 4900,
                currency: "USD".into(),
            }),
            status: PaymentStatus::Succeeded as i32,
            created_at: Some(prost_types::Timestamp {
                seconds: 1_735_689_600,
                nanos: 0,
            }),
            ..Default::default()
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("valid")
    }

    #[test]
    fn currency_is_normalised_to_lower_case() {
        let p = NewPayment::parse(&payment(), now()).expect("valid");
        assert_eq!(p.currency, "usd");
        assert_eq!(p.status, "succeeded");
    }

    #[test]
    fn refunds_larger_than_the_amount_and_bad_statuses_are_rejected() {
        let bad = pb::Payment {
            refunded_minor: 5000,
            status: 0,
            ..payment()
        };
        let fields: Vec<String> = NewPayment::parse(&bad, now())
            .unwrap_err()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, ["status", "refunded_minor"]);
    }

    #[test]
    fn a_refund_time_needs_a_refund_and_follows_the_payment() {
        let at = |seconds| Some(prost_types::Timestamp { seconds, nanos: 0 });
        let early = pb::Payment {
            refunded_minor: 100,
            refunded_at: at(1_735_689_599),
            ..payment()
        };
        let none = pb::Payment {
            refunded_at: at(1_735_689_700),
            ..payment()
        };
        for (bad, reason) in [
            (early, "is before created_at"),
            (none, "nothing is refunded"),
        ] {
            let errors = NewPayment::parse(&bad, now()).unwrap_err();
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].field, "refunded_at");
            assert!(errors[0].reason.contains(reason), "{:?}", errors[0]);
        }
        let good = pb::Payment {
            refunded_minor: 100,
            refunded_at: at(1_735_776_000),
            ..payment()
        };
        assert!(
            NewPayment::parse(&good, now())
                .unwrap()
                .refunded_at
                .is_some()
        );
    }

    #[test]
    fn money_must_be_present_non_negative_and_in_a_currency() {
        let bad = pb::Payment {
            amount: Some(Money {
                amount_minor: -1,
                currency: "dollars".into(),
            }),
            ..payment()
        };
        let fields: Vec<String> = NewPayment::parse(&bad, now())
            .unwrap_err()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, ["amount.amount_minor", "amount.currency"]);
    }
}
