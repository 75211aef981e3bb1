//! Fetching a whole period: every page of the five resource types, the types
//! concurrently and each listing paginated by several paginators at once,
//! so that the wall time is bound by the rate limit, not by one round trip
//! per page.
//!
//! A listing starts as one range, paginated newest first with
//! `starting_after`. When a page says more follow, the rest of its range is
//! cut in two (the newer half kept on its cursor, the older half listed from
//! its start) if fewer than `slices` pages of the listing are in flight, the
//! client's pace has room for more requests (one asking now would go out at
//! once: more paginators help only until the rate limit is reached), and at
//! the page's density two pages or more are left. So a listing spreads over
//! as many paginators as the rate limit can use, wherever its objects are (a
//! month to date, a business that grew, every live subscription since 2011),
//! and no more: each part ends on a short page, and every page counts
//! against the rate limit.

use futures::StreamExt;
use futures::stream::FuturesUnordered;

use super::client::StripeClient;
use super::error::StripeError;
use super::types::{Charge, Invoice, ListPage, Listed, PaymentIntent, Refund, Subscription};

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

/// A part of a listing's range still to be paginated: objects created in
/// `[from, to)`, after the cursor `after` when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Unix seconds, inclusive.
    pub from: i64,
    /// Unix seconds, exclusive.
    pub to: i64,
    /// The last object of the previous page (`starting_after`).
    pub after: Option<String>,
}

impl Part {
    /// What is left after a page of objects created from `newest` down to
    /// `oldest` that ended with object `after`: the part's objects after
    /// that cursor, all created in `[from, oldest]`. Cut in two when
    /// `split`, that spans two seconds or more, and at the page's density
    /// it holds two pages or more: `[mid, to)` after the cursor (which
    /// holds the objects created at `oldest` that the page did not reach)
    /// and `[from, mid)` from its start.
    pub fn rest(self, after: String, (newest, oldest): (i64, i64), split: bool) -> Vec<Part> {
        let left = oldest - self.from;
        let page_span = (newest - oldest).max(1);
        if split && left >= 2 && left >= 2 * page_span {
            let mid = self.from + left / 2;
            vec![
                Part {
                    from: mid,
                    to: self.to,
                    after: Some(after),
                },
                Part {
                    from: self.from,
                    to: mid,
                    after: None,
                },
            ]
        } else {
            vec![Part {
                after: Some(after),
                ..self
            }]
        }
    }
}

impl StripeClient {
    /// Every `T` created in `[from, to)`, newest first.
    pub async fn list_all<T: Listed>(&self, from: i64, to: i64) -> Result<Vec<T>, StripeError> {
        self.list_filtered(from, to, &[]).await
    }

    /// Every `T` created in `[from, to)` that the query parameters `extra`
    /// select (e.g. `type=charge.*` for events), newest first.
    pub async fn list_filtered<T: Listed>(
        &self,
        from: i64,
        to: i64,
        extra: &[(&'static str, String)],
    ) -> Result<Vec<T>, StripeError> {
        let busy = self.slices as usize;
        let mut pages = FuturesUnordered::new();
        if from < to {
            let whole = Part {
                from,
                to,
                after: None,
            };
            pages.push(self.part_page::<T>(whole, extra));
        }
        let mut all = Vec::new();
        while let Some(done) = pages.next().await {
            let (part, page) = done?;
            let newest = page.data.first().map(Listed::created);
            let last = page.data.last().map(|o| (o.id().to_owned(), o.created()));
            all.extend(page.data);
            let (Some(newest), Some((after, oldest)), true) = (newest, last, page.has_more) else {
                continue;
            };
            let split = pages.len() + 1 < busy && self.pace_has_room();
            for rest in part.rest(after, (newest, oldest), split) {
                pages.push(self.part_page::<T>(rest, extra));
            }
        }
        all.sort_by(|a, b| {
            b.created()
                .cmp(&a.created())
                .then_with(|| a.id().cmp(b.id()))
        });
        Ok(all)
    }

    async fn part_page<T: Listed>(
        &self,
        part: Part,
        extra: &[(&'static str, String)],
    ) -> Result<(Part, ListPage<T>), StripeError> {
        let page = self
            .list_page::<T>(part.from, part.to, part.after.as_deref(), extra)
            .await?;
        Ok((part, page))
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
    fn the_rest_of_a_part_is_cut_in_two_only_when_asked_and_wide_enough() {
        let part = Part {
            from: 100,
            to: 200,
            after: None,
        };
        let after = |from, to, cursor: Option<&str>| Part {
            from,
            to,
            after: cursor.map(str::to_owned),
        };
        // A page of objects created from 199 down to 180: the rest is
        // [100, 180], about four pages at that density.
        assert_eq!(
            part.clone().rest("ch_9".into(), (199, 180), true),
            [after(140, 200, Some("ch_9")), after(100, 140, None)]
        );
        assert_eq!(
            part.clone().rest("ch_9".into(), (199, 180), false),
            [after(100, 200, Some("ch_9"))]
        );
        // Less than two pages left at the page's density: not cut.
        assert_eq!(
            part.clone().rest("ch_9".into(), (199, 150), true),
            [after(100, 200, Some("ch_9"))]
        );
        // A page all created in one second: its density says nothing, the
        // rest is cut while it spans two seconds.
        assert_eq!(
            part.clone().rest("ch_9".into(), (180, 180), true),
            [after(140, 200, Some("ch_9")), after(100, 140, None)]
        );
        assert_eq!(
            part.rest("ch_9".into(), (101, 101), true),
            [after(100, 200, Some("ch_9"))]
        );
    }
}
