//! Fetching a whole period: every page of the five resource types, the types
//! concurrently and each period cut into time slices paginated in parallel,
//! so that the wall time is bound by the rate limit, not by one round trip
//! per page.

use futures::future::try_join_all;

use super::client::StripeClient;
use super::error::StripeError;
use super::types::{Charge, Invoice, Listed, PaymentIntent, Refund, Subscription};

/// Everything Stripe holds for one period.
#[derive(Debug, Default)]
pub struct StripePeriod {
    /// PaymentIntents created in the period.
    pub payment_intents: Vec<PaymentIntent>,
    /// Charges created in the period.
    pub charges: Vec<Charge>,
    /// Invoices created in the period.
    pub invoices: Vec<Invoice>,
    /// Subscriptions created in the period.
    pub subscriptions: Vec<Subscription>,
    /// Refunds created in the period.
    pub refunds: Vec<Refund>,
}

/// `[from, to)` cut into `n` contiguous slices (fewer when the range is short).
pub fn slices(from: i64, to: i64, n: u32) -> Vec<(i64, i64)> {
    let span = (to - from).max(0);
    let n = i64::from(n.max(1)).min(span.max(1));
    (0..n)
        .map(|i| (from + span * i / n, from + span * (i + 1) / n))
        .filter(|(a, b)| a < b)
        .collect()
}

impl StripeClient {
    /// Every `T` created in `[from, to)`.
    pub async fn list_all<T: Listed>(&self, from: i64, to: i64) -> Result<Vec<T>, StripeError> {
        self.list_filtered(from, to, &[]).await
    }

    /// Every `T` created in `[from, to)` that the query parameters `extra`
    /// select (e.g. `type=charge.*` for events).
    pub async fn list_filtered<T: Listed>(
        &self,
        from: i64,
        to: i64,
        extra: &[(&'static str, String)],
    ) -> Result<Vec<T>, StripeError> {
        let parts = try_join_all(
            slices(from, to, self.slices)
                .into_iter()
                .map(|(a, b)| self.list_slice::<T>(a, b, extra)),
        )
        .await?;
        Ok(parts.into_iter().flatten().collect())
    }

    async fn list_slice<T: Listed>(
        &self,
        from: i64,
        to: i64,
        extra: &[(&'static str, String)],
    ) -> Result<Vec<T>, StripeError> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self
                .list_page::<T>(from, to, cursor.as_deref(), extra)
                .await?;
            let next = page.data.last().map(|o| o.id().to_owned());
            all.extend(page.data);
            match (page.has_more, next) {
                (true, Some(id)) => cursor = Some(id),
                _ => return Ok(all),
            }
        }
    }

    /// The five resource types for `[from, to)`, fetched concurrently.
    pub async fn fetch_period(&self, from: i64, to: i64) -> Result<StripePeriod, StripeError> {
        let (payment_intents, charges, invoices, subscriptions, refunds) = tokio::try_join!(
            self.list_all::<PaymentIntent>(from, to),
            self.list_all::<Charge>(from, to),
            self.list_all::<Invoice>(from, to),
            self.list_all::<Subscription>(from, to),
            self.list_all::<Refund>(from, to),
        )?;
        Ok(StripePeriod {
            payment_intents,
            charges,
            invoices,
            subscriptions,
            refunds,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_cover_the_range_without_overlap() {
        let s = slices(1000, 2000, 3);
        assert_eq!(s, [(1000, 1333), (1333, 1666), (1666, 2000)]);
        assert_eq!(slices(0, 2, 8), [(0, 1), (1, 2)]);
        assert_eq!(slices(5, 5, 4), Vec::<(i64, i64)>::new());
    }
}
