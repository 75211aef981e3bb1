//! The one conversion between the wire's `google.protobuf.Timestamp` and
//! chrono's UTC instants, both ways, and the one RFC 3339 rendering of a
//! wire time (to the second, `Z` for UTC).

use chrono::{DateTime, SecondsFormat, Utc};
use prost_types::Timestamp;

/// A UTC instant as a wire timestamp.
pub fn from_utc(at: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// A wire timestamp as a UTC instant; `None` when it is not one (negative
/// or too many nanoseconds, seconds beyond chrono's range).
pub fn to_utc(ts: &Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(ts.seconds, u32::try_from(ts.nanos).ok()?)
}

/// A wire time as RFC 3339 in UTC to the second (`2025-11-24T08:15:02Z`);
/// `None` when unset or not an instant.
pub fn rfc3339(ts: Option<&Timestamp>) -> Option<String> {
    ts.and_then(to_utc)
        .map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_round_trip_to_the_nanosecond() {
        let at = DateTime::from_timestamp(1_764_000_000, 123_456_789).expect("in range");
        let ts = from_utc(at);
        assert_eq!((ts.seconds, ts.nanos), (1_764_000_000, 123_456_789));
        assert_eq!(to_utc(&ts), Some(at));
    }

    #[test]
    fn out_of_range_timestamps_are_none() {
        for ts in [
            Timestamp {
                seconds: 0,
                nanos: -1,
            },
            Timestamp {
                seconds: i64::MAX,
                nanos: 0,
            },
        ] {
            assert_eq!(to_utc(&ts), None, "{ts:?}");
        }
    }

    #[test]
    fn rfc3339_is_utc_to_the_second() {
        let ts = Timestamp {
            seconds: 1_795_508_102,
            nanos: 500_000_000,
        };
        assert_eq!(rfc3339(Some(&ts)).as_deref(), Some("2026-11-24T08:15:02Z"));
        assert_eq!(rfc3339(None), None);
    }
}
