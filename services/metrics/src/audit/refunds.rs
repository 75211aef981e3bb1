//! Refunds made in the month, per currency, on both sides: what turns the
//! month's captured money into its net revenue as finance reads it. Pure.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use super::model::StripePayment;
use super::reconcile::CurrencyTotals;

/// A refund as Stripe lists it (`/v1/refunds`, by `created`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundMade {
    /// Lower-case ISO currency.
    pub currency: String,
    /// Minor units.
    pub amount_minor: i64,
    /// Stripe's status: `succeeded`, `pending`, `requires_action`, `failed`,
    /// `canceled`; `None` when not given.
    pub status: Option<String>,
    /// The refunded charge (`ch_…`), when given.
    pub charge: Option<String>,
    /// The refunded PaymentIntent (`pi_…`), when given.
    pub payment_intent: Option<String>,
    /// When Stripe made it.
    pub created_at: DateTime<Utc>,
}

impl RefundMade {
    /// Whether the money left (or is leaving): a failed or canceled refund
    /// returned nothing, and Stripe takes it back from the charge's
    /// `amount_refunded` too.
    pub fn counts(&self) -> bool {
        !matches!(self.status.as_deref(), Some("failed" | "canceled"))
    }
}

/// The month's refunds by the payment they refund: under their
/// PaymentIntent, else their charge (each refund under one key).
pub struct RefundIndex<'a>(HashMap<&'a str, Vec<&'a RefundMade>>);

impl<'a> RefundIndex<'a> {
    /// Indexes `refunds`.
    pub fn new(refunds: &'a [RefundMade]) -> Self {
        let mut index: HashMap<&str, Vec<&RefundMade>> = HashMap::new();
        for r in refunds {
            if let Some(key) = r.payment_intent.as_deref().or(r.charge.as_deref()) {
                index.entry(key).or_default().push(r);
            }
        }
        Self(index)
    }

    /// The refunds of `payment` (by its id and its charge's).
    pub fn of(&self, payment: &StripePayment) -> Vec<&'a RefundMade> {
        let mut keys = vec![payment.stripe_id.as_str()];
        if let Some(charge) = payment
            .charge_id
            .as_deref()
            .filter(|c| *c != payment.stripe_id)
        {
            keys.push(charge);
        }
        keys.iter()
            .filter_map(|k| self.0.get(k))
            .flatten()
            .copied()
            .collect()
    }
}

/// The refund history a backfilled payment gets (amount, time), oldest
/// first: the month's refunds of it with their own times, and whatever else
/// its charge says was refunded (made after the month, since the payment was
/// created in it) at `later`. `None` when the month's refunds add up to more
/// than the payment's refunded amount (Stripe's objects disagree): the
/// history is then left as the insert recorded it.
pub fn backfill_history(
    payment: &StripePayment,
    refunds: &RefundIndex<'_>,
    later: DateTime<Utc>,
) -> Option<Vec<(i64, DateTime<Utc>)>> {
    let mut history: Vec<(i64, DateTime<Utc>)> = refunds
        .of(payment)
        .into_iter()
        .filter(|r| r.counts())
        .map(|r| (r.amount_minor, r.created_at))
        .collect();
    history.sort_by_key(|(_, at)| *at);
    let known: i64 = history.iter().map(|(amount, _)| amount).sum();
    let rest = payment.refunded_minor - known;
    if rest < 0 {
        return None;
    }
    if rest > 0 {
        history.push((rest, later));
    }
    Some(history)
}

/// Adds the month's refunds to `totals`: Stripe's (those that count) and
/// the database's (`(currency, minor units)` per currency). A currency with
/// refunds but no payment in the month gets a row of its own; rows stay in
/// currency order.
pub fn add_refunds_made(
    totals: &mut Vec<CurrencyTotals>,
    stripe: &[RefundMade],
    db: &[(String, i64)],
) {
    let mut by_currency: BTreeMap<String, CurrencyTotals> =
        totals.drain(..).map(|t| (t.currency.clone(), t)).collect();
    fn entry<'a>(
        by_currency: &'a mut BTreeMap<String, CurrencyTotals>,
        currency: &str,
    ) -> &'a mut CurrencyTotals {
        let currency = currency.to_ascii_lowercase();
        by_currency
            .entry(currency.clone())
            .or_insert_with(|| CurrencyTotals {
                currency,
                ..Default::default()
            })
    }
    for r in stripe.iter().filter(|r| r.counts()) {
        entry(&mut by_currency, &r.currency).stripe_refunds_in_month += r.amount_minor;
    }
    for (currency, minor) in db {
        entry(&mut by_currency, currency).db_refunds_in_month += minor;
    }
    totals.extend(by_currency.into_values());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refund(currency: &str, amount_minor: i64, status: Option<&str>) -> RefundMade {
        RefundMade {
            currency: currency.into(),
            amount_minor,
            status: status.map(Into::into),
            charge: Some("ch_1".into()),
            payment_intent: None,
            created_at: DateTime::from_timestamp(1_762_000_000, 0).unwrap_or_default(),
        }
    }

    #[test]
    fn a_backfilled_payment_keeps_the_months_refund_times_and_dates_the_rest_later() {
        let payment = StripePayment {
            stripe_id: "pi_1".into(),
            charge_id: Some("ch_1".into()),
            object_type: "payment_intent",
            amount_minor: 10_000,
            currency: "usd".into(),
            status: super::super::model::Status::PartiallyRefunded,
            refunded_minor: 3_000,
            created_at: DateTime::from_timestamp(1_761_990_000, 0).unwrap_or_default(),
            customer: None,
            invoice_id: None,
        };
        let later = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let mut other = refund("usd", 900, None);
        other.charge = Some("ch_2".into());
        let refunds = [
            refund("usd", 1_000, Some("succeeded")),
            refund("usd", 700, Some("failed")),
            other,
        ];
        let index = RefundIndex::new(&refunds);
        let history = backfill_history(&payment, &index, later).expect("consistent");
        assert_eq!(
            history,
            [(1_000, refunds[0].created_at), (2_000, later)],
            "the month's refund at its time, the rest after the month"
        );
        let too_much = StripePayment {
            refunded_minor: 500,
            ..payment
        };
        assert_eq!(backfill_history(&too_much, &index, later), None);
    }

    #[test]
    fn refunds_made_count_per_currency_and_failed_ones_do_not() {
        let mut totals = vec![CurrencyTotals {
            currency: "usd".into(),
            stripe_gross: 10_000,
            db_gross: 10_000,
            ..Default::default()
        }];
        add_refunds_made(
            &mut totals,
            &[
                refund("usd", 1_000, Some("succeeded")),
                refund("usd", 500, None),
                refund("usd", 700, Some("failed")),
                refund("usd", 300, Some("pending")),
                refund("eur", 200, Some("succeeded")),
            ],
            &[("usd".into(), 1_800), ("eur".into(), 200)],
        );
        let seen: Vec<_> = totals
            .iter()
            .map(|t| {
                (
                    t.currency.as_str(),
                    t.stripe_refunds_in_month,
                    t.stripe_month_net(),
                    t.db_month_net(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [("eur", 200, -200, -200), ("usd", 1_800, 8_200, 8_200)]
        );
    }
}
