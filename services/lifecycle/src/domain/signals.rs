//! What the metrics service tells about a user (`GetUserActivity`), as the
//! scoring and stage rules read it.

use chrono::{DateTime, Utc};
use growth_proto::metrics::v1::UserActivity;

/// One user's activity and revenue signals at an instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Signals {
    /// The user.
    pub user_id: String,
    /// Where Kit actions go.
    pub email: String,
    /// Signup time.
    pub signup_at: DateTime<Utc>,
    /// Current plan name.
    pub plan: String,
    /// End of the trial, if the user has or had one.
    pub trial_ends_at: Option<DateTime<Utc>>,
    /// Latest event.
    pub last_seen_at: Option<DateTime<Utc>>,
    /// Events in the last day.
    pub events_1d: u32,
    /// Events in the last 7 days.
    pub events_7d: u32,
    /// Events in the last 30 days.
    pub events_30d: u32,
    /// Days with an event among the last 30.
    pub active_days_30d: u32,
    /// Distinct event names in the last 30 days.
    pub distinct_events_30d: u32,
    /// A captured payment in the last 35 days (or an active subscription).
    pub paying: bool,
    /// Paid anything, ever (net of refunds).
    pub has_paid: bool,
}

fn instant(ts: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    ts.and_then(growth_proto::timestamp::to_utc)
}

impl Signals {
    /// From the metrics service's summary; `None` when it lacks a signup time
    /// (which metrics always sets).
    pub fn from_activity(a: UserActivity) -> Option<Self> {
        Some(Self {
            signup_at: instant(a.signup_at.as_ref())?,
            trial_ends_at: instant(a.trial_ends_at.as_ref()),
            last_seen_at: instant(a.last_seen_at.as_ref()),
            has_paid: a.lifetime_revenue.iter().any(|m| m.amount_minor > 0),
            user_id: a.user_id,
            email: a.email,
            plan: a.plan,
            events_1d: a.events_1d,
            events_7d: a.events_7d,
            events_30d: a.events_30d,
            active_days_30d: a.active_days_30d,
            distinct_events_30d: a.distinct_events_30d,
            paying: a.paying,
        })
    }

    /// Whole days since the latest event (or since signup when there is
    /// none), never negative.
    pub fn days_inactive(&self, now: DateTime<Utc>) -> i64 {
        let since = self.last_seen_at.unwrap_or(self.signup_at);
        (now - since).num_days().max(0)
    }

    /// A user with these signals and no activity, for tests.
    #[cfg(test)]
    pub fn quiet(user_id: &str, signup_at: DateTime<Utc>) -> Self {
        Self {
            user_id: user_id.to_owned(),
            email: format!("{user_id}@example.com"),
            signup_at,
            plan: "free".to_owned(),
            trial_ends_at: None,
            last_seen_at: None,
            events_1d: 0,
            events_7d: 0,
            events_30d: 0,
            active_days_30d: 0,
            distinct_events_30d: 0,
            paying: false,
            has_paid: false,
        }
    }
}
