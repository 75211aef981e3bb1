//! `UpsertUsers`, `TrackEvents`, `ImportPayments` and
//! `ImportSubscriptions`: a batch validated whole (every bad row and field
//! reported at once) and written in one transaction.

use chrono::Utc;
use growth_proto::metrics::v1 as pb;

use crate::domain::{NewEvent, NewPayment, NewSubscription, NewUser};
use crate::error::MetricsError;
use crate::repo;
use crate::state::Metrics;

/// `UpsertUsers`.
pub async fn upsert_users(
    state: &Metrics,
    r: pb::UpsertUsersRequest,
) -> Result<pb::UpsertUsersResponse, MetricsError> {
    let users = NewUser::parse_batch(&r.users, Utc::now())?;
    let counts = repo::users::upsert(&state.pool, &state.reporting, &users).await?;
    Ok(pb::UpsertUsersResponse {
        inserted: counts.inserted,
        updated: counts.updated,
        unchanged: counts.unchanged,
    })
}

/// `TrackEvents`.
pub async fn track_events(
    state: &Metrics,
    r: pb::TrackEventsRequest,
) -> Result<pb::TrackEventsResponse, MetricsError> {
    let events = NewEvent::parse_batch(&r.events, Utc::now())?;
    let outcome = repo::events::track(&state.pool, &state.reporting, &events).await?;
    Ok(pb::TrackEventsResponse {
        inserted: outcome.inserted,
        duplicates: outcome.duplicates,
        last_sequence: outcome.last_sequence,
    })
}

/// `ImportPayments`.
pub async fn import_payments(
    state: &Metrics,
    r: pb::ImportPaymentsRequest,
) -> Result<pb::ImportPaymentsResponse, MetricsError> {
    let payments = NewPayment::parse_batch(&r.payments, Utc::now())?;
    let counts = repo::payments::import(&state.pool, &payments).await?;
    Ok(pb::ImportPaymentsResponse {
        inserted: counts.inserted,
        updated: counts.updated,
        unchanged: counts.unchanged,
    })
}

/// `ImportSubscriptions`.
pub async fn import_subscriptions(
    state: &Metrics,
    r: pb::ImportSubscriptionsRequest,
) -> Result<pb::ImportSubscriptionsResponse, MetricsError> {
    let states = NewSubscription::parse_batch(&r.subscriptions, Utc::now())?;
    let counts = repo::subscriptions::import(&state.pool, &states).await?;
    Ok(pb::ImportSubscriptionsResponse {
        recorded: counts.recorded,
        unchanged: counts.unchanged,
        stale: counts.stale,
    })
}
