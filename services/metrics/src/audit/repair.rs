//! What a repair writes in the run's transaction: the missing payments that
//! took money, with their refunds dated as Stripe made them, and Stripe's
//! state of the drifted subscriptions (the webhook's own reading of each
//! object, through the one subscription writer).

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::entitlements;
use super::model::StripePayment;
use super::refunds::{RefundIndex, RefundMade, backfill_history};
use crate::repo::{self, Connection, DbError};

/// Inserts the `missing` payments (a second repair inserts nothing) and the
/// refunds of those inserted, dated as Stripe made them (`refunds`: the
/// month's Refund objects; the rest at the repair's time, or the month's
/// end if later), so that the month's refunds, and the next audit, see them
/// in their own month. Returns the Stripe ids inserted.
pub async fn backfill(
    conn: &mut Connection,
    missing: &[&StripePayment],
    refunds: &[RefundMade],
    month_end: DateTime<Utc>,
) -> Result<Vec<String>, DbError> {
    let inserted = repo::audit::backfill(conn, missing).await?;
    let later = Utc::now().max(month_end);
    let index = RefundIndex::new(refunds);
    let inserted_ids: HashSet<&str> = inserted.iter().map(String::as_str).collect();
    let history: Vec<(String, i64, DateTime<Utc>)> = missing
        .iter()
        .filter(|p| p.refunded_minor > 0 && inserted_ids.contains(p.stripe_id.as_str()))
        .filter_map(|p| Some((p, backfill_history(p, &index, later)?)))
        .flat_map(|(p, h)| h.into_iter().map(|(a, t)| (p.stripe_id.clone(), a, t)))
        .collect();
    repo::audit::backfill_refunds(conn, &history).await?;
    Ok(inserted)
}

/// Records Stripe's `objects` of the drifted subscriptions as of `now`;
/// returns a line per subscription saying what was done.
pub async fn record_drift(
    conn: &mut Connection,
    objects: &[serde_json::Value],
    now: DateTime<Utc>,
) -> Result<Vec<String>, DbError> {
    let (states, mut lines) = entitlements::prepare(objects, now);
    let plain: Vec<_> = states.iter().map(|(s, _)| s.clone()).collect();
    let done = repo::subscriptions::record_each(conn, &plain).await?;
    lines.extend(entitlements::describe(&states, &done));
    Ok(lines)
}
