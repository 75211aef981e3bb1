//! The entitlement check's Stripe and database side: every live
//! subscription listed, and a repair's records of Stripe's state prepared
//! through the webhook's own reading of a subscription object (`repair`
//! writes them with `repo::subscriptions::record_each`, the one
//! subscription writer, inside the run's transaction) and described.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::domain::NewSubscription;
use crate::repo::subscriptions::Recorded;
use crate::stripe::types::LiveSubscription;
use crate::stripe::{StripeClient, StripeError};

/// Before Stripe: nothing was created earlier (2011-01-01).
const STRIPE_EPOCH: i64 = 1_293_840_000;

/// Every subscription Stripe lists as not canceled, created from 2011 to
/// `now` (the listing spreads its paginators over the years where the
/// subscriptions are: `stripe::fetch`).
pub async fn list_live(
    stripe: &StripeClient,
    now: DateTime<Utc>,
) -> Result<Vec<LiveSubscription>, StripeError> {
    stripe
        .list_all::<LiveSubscription>(STRIPE_EPOCH, now.timestamp() + 1)
        .await
}

/// The Stripe objects of the subscriptions a repair records: the live ones
/// as listed, the others (canceled in Stripe) retrieved one by one.
pub async fn objects_to_record(
    stripe: &StripeClient,
    live: &[LiveSubscription],
    ids: &[String],
) -> Result<Vec<serde_json::Value>, StripeError> {
    let listed: HashMap<&str, &LiveSubscription> = live.iter().map(|s| (s.sub_id(), s)).collect();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        match listed.get(id.as_str()) {
            Some(s) => out.push(s.0.clone()),
            None => out.push(stripe.retrieve("/v1/subscriptions", id).await?),
        }
    }
    Ok(out)
}

/// Each object read as the webhook reads a subscription object, as of
/// `now`, with Stripe's status; the ones it cannot read, in words.
pub fn prepare(
    objects: &[serde_json::Value],
    now: DateTime<Utc>,
) -> (Vec<(NewSubscription, String)>, Vec<String>) {
    let mut states = Vec::with_capacity(objects.len());
    let mut unread = Vec::new();
    for o in objects {
        let id = o["id"].as_str().unwrap_or_default();
        match crate::webhook::subscription::subscription(o, now.timestamp()) {
            Ok(state) => states.push((state, o["status"].as_str().unwrap_or_default().to_owned())),
            Err(why) => unread.push(format!("{id}: not recorded: {why}")),
        }
    }
    (states, unread)
}

/// A line per subscription saying what recording it did.
pub fn describe(states: &[(NewSubscription, String)], done: &[Recorded]) -> Vec<String> {
    states
        .iter()
        .zip(done)
        .map(|((state, status), done)| {
            let id = &state.stripe_subscription_id;
            match done {
                Recorded::NoUser => format!(
                    "{id}: not recorded: customer {} maps to no user",
                    state.stripe_customer.as_deref().unwrap_or("(none)")
                ),
                Recorded::Recorded(user) => {
                    format!("{id}: recorded as {status}, as in Stripe (user {user})")
                }
                Recorded::Unchanged => format!("{id}: already {status} in the database"),
                Recorded::Stale => format!("{id}: not recorded: the database has a newer state"),
            }
        })
        .collect()
}
