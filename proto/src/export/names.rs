//! The short printed names of the cohort enums: the protobuf name without
//! its type prefix (`GRANULARITY_WEEK` → `WEEK`); `UNKNOWN` for a value the
//! contract does not know.

use crate::common::v1::Granularity;
use crate::metrics::v1::{RetentionMetric, RetentionMode};

fn short(full: &str, prefix: &str) -> String {
    full.strip_prefix(prefix).unwrap_or(full).to_owned()
}

/// `GRANULARITY_WEEK` → `WEEK`.
pub fn granularity(v: i32) -> String {
    Granularity::try_from(v).map_or("UNKNOWN".into(), |v| short(v.as_str_name(), "GRANULARITY_"))
}

/// `RETENTION_METRIC_USERS` → `USERS`.
pub fn metric(v: i32) -> String {
    RetentionMetric::try_from(v).map_or("UNKNOWN".into(), |v| {
        short(v.as_str_name(), "RETENTION_METRIC_")
    })
}

/// `RETENTION_MODE_ON_OR_AFTER` → `ON_OR_AFTER`.
pub fn mode(v: i32) -> String {
    RetentionMode::try_from(v).map_or("UNKNOWN".into(), |v| {
        short(v.as_str_name(), "RETENTION_MODE_")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_drop_the_proto_prefix() {
        assert_eq!(granularity(Granularity::Month as i32), "MONTH");
        assert_eq!(mode(RetentionMode::OnOrAfter as i32), "ON_OR_AFTER");
        assert_eq!(metric(RetentionMetric::Users as i32), "USERS");
        assert_eq!(granularity(99), "UNKNOWN");
    }
}
