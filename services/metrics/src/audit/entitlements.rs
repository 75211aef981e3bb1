//! The entitlement check's Stripe and database side: every live
//! subscription listed, the drift computed ([`super::drift`]), and a
//! repair's records of Stripe's state, through the webhook's own reading of
//! a subscription object and the one subscription writer
//! (`repo::subscriptions::record`), inside the run's transaction.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::repo::subscriptions;
use crate::stripe::types::LiveSubscription;
use crate::stripe::{StripeClient, StripeError};

/// Before Stripe: nothing was created earlier (2011-01-01).
const STRIPE_EPOCH: i64 = 1_293_840_000;

/// Every subscription Stripe lists as not canceled. Listed over
/// `[2011, oldest)` and `[oldest, now)` (`oldest`: the database's oldest
/// subscription), each cut into the client's time slices, so the recent
/// years, where most subscriptions are, are paginated in parallel.
pub async fn list_live(
    stripe: &StripeClient,
    oldest: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Vec<LiveSubscription>, StripeError> {
    let split = oldest
        .map(|t| t.timestamp())
        .unwrap_or(now.timestamp())
        .clamp(STRIPE_EPOCH, now.timestamp());
    let end = now.timestamp() + 1;
    let (old, recent) = tokio::try_join!(
        stripe.list_all::<LiveSubscription>(STRIPE_EPOCH, split),
        stripe.list_all::<LiveSubscription>(split, end),
    )?;
    Ok(old.into_iter().chain(recent).collect())
}

/// The Stripe objects of the subscriptions a repair records: the live ones
/// as listed, the others (canceled in Stripe) retrieved one by one.
pub async fn objects_to_record(
    stripe: &StripeClient,
    live: &[LiveSubscription],
    ids: &[String],
) -> Result<Vec<serde_json::Value>, StripeError> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        match live.iter().find(|s| s.sub_id() == id) {
            Some(s) => out.push(s.0.clone()),
            None => out.push(stripe.retrieve("/v1/subscriptions", id).await?),
        }
    }
    Ok(out)
}

/// Records each object's state as of `now`, as the webhook would; one line
/// per subscription saying what was done.
pub async fn record(
    tx: &mut PgConnection,
    objects: &[serde_json::Value],
    now: DateTime<Utc>,
) -> Result<Vec<String>, sqlx::Error> {
    let mut lines = Vec::with_capacity(objects.len());
    for o in objects {
        let id = o["id"].as_str().unwrap_or_default();
        let state = match crate::webhook::subscription::subscription(o, now.timestamp()) {
            Ok(state) => state,
            Err(why) => {
                lines.push(format!("{id}: not recorded: {why}"));
                continue;
            }
        };
        let customer = state.stripe_customer.clone();
        let Some(user_id) = subscriptions::user_for_customer(tx, id, customer.as_deref()).await?
        else {
            lines.push(format!(
                "{id}: not recorded: customer {} maps to no user",
                customer.as_deref().unwrap_or("(none)")
            ));
            continue;
        };
        let status = o["status"].as_str().unwrap_or_default().to_owned();
        let state = crate::domain::NewSubscription { user_id, ..state };
        let counts = subscriptions::record(tx, std::slice::from_ref(&state)).await?;
        lines.push(if counts.recorded > 0 {
            format!(
                "{id}: recorded as {status}, as in Stripe (user {})",
                state.user_id
            )
        } else {
            format!("{id}: already {status} in the database")
        });
    }
    Ok(lines)
}
