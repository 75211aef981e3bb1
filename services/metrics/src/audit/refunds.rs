//! Refunds made in the month, per currency, on both sides: what turns the
//! month's captured money into its net revenue as finance reads it. Pure.

use std::collections::BTreeMap;

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
}

impl RefundMade {
    /// Whether the money left (or is leaving): a failed or canceled refund
    /// returned nothing, and Stripe takes it back from the charge's
    /// `amount_refunded` too.
    pub fn counts(&self) -> bool {
        !matches!(self.status.as_deref(), Some("failed" | "canceled"))
    }
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
        }
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
