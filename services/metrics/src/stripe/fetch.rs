//! Fetching a whole period: every page of the five resource types, the types
//! concurrently and each listing paginated by several paginators at once,
//! so that the wall time is bound by the rate limit, not by one round trip
//! per page.
//!
//! A listing starts as equal time slices of its range up to now (nothing is
//! created later; the last slice stays open to the range's end in case
//! Stripe's clock is ahead). Objects are rarely spread evenly (a month to
//! date, a business that grew, every live subscription since 2011), so
//! slices are not fixed: when a page says more follow, fewer than `slices`
//! pages of the listing are in flight, and at the page's density at least
//! two more pages are left, the rest of its slice is cut in two, the newer
//! half kept on its cursor and the older half listed from its start. A
//! listing keeps its paginators busy to its last pages, instead of ending
//! on one slice paginated alone, and a part too small for two pages is not
//! cut (each part ends on a short page, and every page counts against the
//! rate limit).

use chrono::Utc;
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

/// `[from, to)` cut into `n` contiguous slices (fewer when the range is short).
pub fn slices(from: i64, to: i64, n: u32) -> Vec<(i64, i64)> {
    let span = (to - from).max(0);
    let n = i64::from(n.max(1)).min(span.max(1));
    (0..n)
        .map(|i| (from + span * i / n, from + span * (i + 1) / n))
        .filter(|(a, b)| a < b)
        .collect()
}

/// The first slices of a listing of `[from, to)` at `now`: `n` equal
/// slices of the part up to `now`, the last one open to `to`.
pub fn first_slices(from: i64, to: i64, now: i64, n: u32) -> Vec<(i64, i64)> {
    let mut cut = slices(from, to.min(now.max(from + 1)), n);
    if let Some(last) = cut.last_mut() {
        last.1 = to;
    }
    cut
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
        for (a, b) in first_slices(from, to, Utc::now().timestamp(), self.slices) {
            let part = Part {
                from: a,
                to: b,
                after: None,
            };
            pages.push(self.part_page::<T>(part, extra));
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
            let split = pages.len() + 1 < busy;
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
    fn a_listing_starts_with_slices_up_to_now_the_last_open_to_the_end() {
        assert_eq!(
            first_slices(0, 1000, 300, 3),
            [(0, 100), (100, 200), (200, 1000)]
        );
        // A range wholly in the future is one slice; one in the past is cut whole.
        assert_eq!(first_slices(500, 1000, 300, 3), [(500, 1000)]);
        assert_eq!(first_slices(0, 90, 300, 3), slices(0, 90, 3));
        assert!(first_slices(7, 7, 300, 3).is_empty());
    }

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

    #[test]
    fn slices_cover_the_range_without_overlap() {
        let s = slices(1000, 2000, 3);
        assert_eq!(s, [(1000, 1333), (1333, 1666), (1666, 2000)]);
        assert_eq!(slices(0, 2, 8), [(0, 1), (1, 2)]);
        assert_eq!(slices(5, 5, 4), Vec::<(i64, i64)>::new());
    }
}
