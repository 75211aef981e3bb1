//! Conversions between wire and domain values.

use chrono::{DateTime, Utc};

/// A UTC instant as a protobuf timestamp.
pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

impl From<crate::repo::activity::ActivityRow> for growth_proto::metrics::v1::UserActivity {
    fn from(row: crate::repo::activity::ActivityRow) -> Self {
        let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
        Self {
            user_id: row.user_id,
            email: row.email,
            signup_at: Some(timestamp(row.signup_at)),
            plan: row.plan,
            trial_ends_at: row.trial_ends_at.map(timestamp),
            last_seen_at: row.last_seen_at.map(timestamp),
            events_1d: count(row.events_1d),
            events_7d: count(row.events_7d),
            events_30d: count(row.events_30d),
            active_days_30d: count(row.active_days_30d),
            distinct_events_30d: count(row.distinct_events_30d),
            paying: row.paying,
            mrr: row
                .mrr
                .0
                .into_iter()
                .map(|(currency, amount_minor)| growth_proto::common::v1::Money {
                    amount_minor,
                    currency,
                })
                .collect(),
            lifetime_revenue: row
                .lifetime_revenue
                .0
                .into_iter()
                .map(|(currency, amount_minor)| growth_proto::common::v1::Money {
                    amount_minor,
                    currency,
                })
                .collect(),
        }
    }
}
