//! Missed webhook events: the events of the handled types that Stripe
//! created in the audited window and the webhook never recorded, found with
//! Stripe's Events API, and, when the audit repairs, replayed through the
//! webhook's own handler ([`webhook::record`]).
//!
//! Stripe keeps events 30 days: only `[max(window start, now − 30 days),
//! window end)` can be checked, and the report says which part could not.
//!
//! Replay happens only in a repair that is not a dry run, and before the
//! reconciliation, so that the comparison sees the rows the replay
//! recovered instead of reporting them missing. An audit without repair
//! reports the missed events and writes only its run; a dry run writes
//! nothing and lists what a repair would replay. Each replay is the
//! webhook's transaction (idempotent by event id), not the run's: a replay
//! is the event arriving late, which stays true if the run then fails.

use chrono::{DateTime, Duration, Utc};
use futures::future::try_join_all;
use serde::{Deserialize, Serialize};

use super::findings::{Finding, Kind, Severity};
use crate::repo::Pool;
use crate::repo::stripe_events::unrecorded;
use crate::stripe::events::ListedEvent;
use crate::stripe::{StripeClient, StripeError};
use crate::webhook::{self, Rejected};

/// How long Stripe keeps events for the Events API.
pub const RETENTION_DAYS: i64 = 30;

/// The outcome of a replay a dry run only lists.
pub const DRY_RUN: &str = "dry_run";

/// A time as the audit's findings and report write it.
pub fn minute(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Which part of the audit window the Events API can cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The part checked, `[from, to)`; `None` when all of it is too old.
    pub checked: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// The part that could not be checked (older than Stripe keeps events).
    pub unchecked: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

impl Window {
    /// `[from, to)` as seen at `now`.
    pub fn of(from: DateTime<Utc>, to: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        let kept_since = now - Duration::days(RETENTION_DAYS);
        let start = from.max(kept_since);
        Self {
            checked: (start < to).then_some((start, to)),
            unchecked: (from < start).then_some((from, start.min(to))),
        }
    }
}

/// A handled event the webhook never recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissedEvent {
    /// `evt_…`.
    pub event_id: String,
    /// Its type.
    pub kind: String,
    /// When Stripe created it.
    pub created_at: DateTime<Utc>,
    /// The object it is about.
    pub object_id: Option<String>,
}

/// A missed event replayed by a repair (or, in a dry run, to be).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayedEvent {
    /// `evt_…`.
    pub event_id: String,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: String,
    /// When Stripe created it.
    pub created_at: DateTime<Utc>,
    /// The webhook handler's outcome (`applied`, `duplicate`, …), `dry_run`,
    /// or `rejected: <why>` when its object lacks what the handler needs.
    pub outcome: String,
}

/// What the check found, and what the repair replayed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Missed {
    /// The part of the window checked and the part too old to check;
    /// `None` when the check did not run.
    pub window: Option<Window>,
    /// Handled events the webhook never recorded, oldest first.
    pub events: Vec<MissedEvent>,
    /// Replays, when the audit repairs (in a dry run, those it would make).
    pub replayed: Option<Vec<ReplayedEvent>>,
}

impl Missed {
    /// One warning per missed event.
    pub fn findings(&self) -> Vec<Finding> {
        self.events.iter().map(finding).collect()
    }
}

fn finding(e: &MissedEvent) -> Finding {
    Finding {
        kind: Kind::MissedEvent,
        severity: Severity::Warning,
        object_type: "event",
        stripe_id: e.event_id.clone(),
        db_payment_ids: vec![],
        reason: format!(
            "{} event created {} about {} was never recorded by the webhook",
            e.kind,
            minute(e.created_at),
            e.object_id.as_deref().unwrap_or("an object without id")
        ),
        stripe_amount: None,
        db_amount: None,
        stripe_status: None,
        db_status: None,
    }
}

/// Why the check failed.
#[derive(Debug, thiserror::Error)]
pub enum MissedError {
    /// Stripe failed.
    #[error(transparent)]
    Stripe(#[from] StripeError),
    /// The database failed (logged where it happened).
    #[error("internal error; see the metrics service log")]
    Database(#[source] crate::repo::DbError),
}

fn database(e: crate::repo::DbError) -> MissedError {
    tracing::error!(error.cause_chain = ?growth_runtime::status::CauseChain(&e), "missed webhook events: database failed");
    MissedError::Database(e)
}

/// Lists the handled events of `[from, to)` that Stripe still keeps at
/// `now`, finds those the webhook never recorded, and replays them when
/// `repair` (listing them only when also `dry_run`).
pub async fn recover(
    pool: &Pool,
    stripe: &StripeClient,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    now: DateTime<Utc>,
    repair: bool,
    dry_run: bool,
) -> Result<Missed, MissedError> {
    let window = Window::of(from, to, now);
    let listed = match window.checked {
        Some((a, b)) => stripe.handled_events(a.timestamp(), b.timestamp()).await?,
        None => vec![],
    };
    let ids: Vec<String> = listed.iter().map(|e| e.id.clone()).collect();
    let unseen = unrecorded(pool, &ids).await.map_err(database)?;
    let unseen: std::collections::HashSet<String> = unseen.into_iter().collect();
    let events: Vec<MissedEvent> = listed
        .into_iter()
        .filter(|e| unseen.contains(&e.id))
        .map(missed)
        .collect();
    let replayed = match (repair, dry_run) {
        (false, _) => None,
        (true, true) => Some(events.iter().map(|e| replayed(e, DRY_RUN)).collect()),
        (true, false) => Some(replay(pool, stripe, &events).await?),
    };
    Ok(Missed {
        window: Some(window),
        events,
        replayed,
    })
}

fn missed(e: ListedEvent) -> MissedEvent {
    MissedEvent {
        created_at: DateTime::from_timestamp(e.created, 0).unwrap_or_default(),
        event_id: e.id,
        kind: e.kind,
        object_id: e.object_id,
    }
}

fn replayed(e: &MissedEvent, outcome: &str) -> ReplayedEvent {
    ReplayedEvent {
        event_id: e.event_id.clone(),
        kind: e.kind.clone(),
        created_at: e.created_at,
        outcome: outcome.to_owned(),
    }
}

/// Events retrieved together before they are replayed: the retrievals
/// overlap (each is a round trip to Stripe, paced by the client), the
/// replays stay one at a time, in order.
const RETRIEVED_TOGETHER: usize = 8;

/// Replays `events` oldest first, as Stripe would have delivered them.
async fn replay(
    pool: &Pool,
    stripe: &StripeClient,
    events: &[MissedEvent],
) -> Result<Vec<ReplayedEvent>, MissedError> {
    let mut out = Vec::with_capacity(events.len());
    for batch in events.chunks(RETRIEVED_TOGETHER) {
        let retrieved = try_join_all(batch.iter().map(|e| stripe.event(&e.event_id))).await?;
        for (e, event) in batch.iter().zip(retrieved) {
            let outcome = match webhook::record(pool, &event).await {
                Ok(outcome) => outcome.as_str().to_owned(),
                Err(Rejected::Invalid(why)) => {
                    tracing::warn!(event_id = %e.event_id, reason = %why, "missed webhook event not replayable");
                    format!("rejected: {why}")
                }
                Err(Rejected::Database(error)) => return Err(database(error)),
            };
            tracing::info!(event_id = %e.event_id, kind = %e.kind, outcome = %outcome, "missed webhook event replayed");
            out.push(replayed(e, &outcome));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().expect("a time")
    }

    #[test]
    fn a_recent_window_is_checked_whole() {
        let w = Window::of(
            t("2026-12-01T00:00:00Z"),
            t("2027-01-01T00:00:00Z"),
            t("2026-12-06T00:00:00Z"),
        );
        assert_eq!(
            w.checked,
            Some((t("2026-12-01T00:00:00Z"), t("2027-01-01T00:00:00Z")))
        );
        assert_eq!(w.unchecked, None);
    }

    #[test]
    fn only_the_last_thirty_days_of_an_older_window_are_checked() {
        let w = Window::of(
            t("2026-11-01T00:00:00Z"),
            t("2026-12-01T00:00:00Z"),
            t("2026-12-06T12:00:00Z"),
        );
        assert_eq!(
            w.checked,
            Some((t("2026-11-06T12:00:00Z"), t("2026-12-01T00:00:00Z")))
        );
        assert_eq!(
            w.unchecked,
            Some((t("2026-11-01T00:00:00Z"), t("2026-11-06T12:00:00Z")))
        );
    }

    #[test]
    fn a_window_older_than_thirty_days_is_not_checked_at_all() {
        let w = Window::of(
            t("2025-11-01T00:00:00Z"),
            t("2025-12-01T00:00:00Z"),
            t("2026-12-06T00:00:00Z"),
        );
        assert_eq!(w.checked, None);
        assert_eq!(
            w.unchecked,
            Some((t("2025-11-01T00:00:00Z"), t("2025-12-01T00:00:00Z")))
        );
    }

    #[test]
    fn a_finding_names_the_type_the_time_and_the_object() {
        let f = finding(&MissedEvent {
            event_id: "evt_1".into(),
            kind: "charge.refunded".into(),
            created_at: t("2026-12-05T10:00:00Z"),
            object_id: Some("ch_1".into()),
        });
        assert_eq!((f.kind, f.severity), (Kind::MissedEvent, Severity::Warning));
        assert_eq!((f.object_type, f.stripe_id.as_str()), ("event", "evt_1"));
        assert_eq!(
            f.reason,
            "charge.refunded event created 2026-12-05 10:00 UTC about ch_1 was never recorded by the webhook"
        );
    }
}
