//! An activity event to record.

use chrono::{DateTime, Utc};
use growth_proto::metrics::v1 as pb;
use growth_runtime::status::FieldViolation;

use super::batch::{RowErrors, parse_rows};
use super::fields;

/// Longest event name accepted.
pub const MAX_NAME_LEN: usize = 128;

/// A validated event row.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// Client-supplied idempotency id.
    pub event_id: String,
    /// The user it belongs to.
    pub user_id: String,
    /// Event name.
    pub name: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Properties as canonical JSON object text.
    pub properties: String,
}

impl NewEvent {
    /// Validates one event.
    pub fn parse(event: &pb::Event, now: DateTime<Utc>) -> Result<Self, Vec<FieldViolation>> {
        let mut errors = RowErrors::default();
        let event_id = errors.check(fields::id("event_id", &event.event_id));
        let user_id = errors.check(fields::id("user_id", &event.user_id));
        let name = errors.check(fields::text("name", &event.name, MAX_NAME_LEN));
        let occurred_at = errors.check(fields::timestamp(
            "occurred_at",
            event.occurred_at.as_ref(),
            now,
        ));
        let properties = errors.check(fields::json_object(
            "properties_json",
            &event.properties_json,
        ));
        errors.finish(|| {
            Some(Self {
                event_id: event_id?,
                user_id: user_id?,
                name: name?,
                occurred_at: occurred_at?,
                properties: properties?,
            })
        })
    }

    /// Validates a whole `TrackEvents` batch.
    pub fn parse_batch(
        events: &[pb::Event],
        now: DateTime<Utc>,
    ) -> Result<Vec<Self>, Vec<FieldViolation>> {
        parse_rows(
            "events",
            events,
            |e| ("event_id", e.event_id.as_str()),
            |e| Self::parse(e, now),
        )
    }
}

/// Violations for events whose user does not exist, naming each row.
pub fn unknown_user_violations(events: &[NewEvent], unknown: &[String]) -> Vec<FieldViolation> {
    events
        .iter()
        .enumerate()
        .filter(|(_, e)| unknown.contains(&e.user_id))
        .map(|(i, e)| {
            FieldViolation::new(
                format!("events[{i}].user_id"),
                format!("unknown user {:?}: upsert the user first", e.user_id),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn event(id: &str) -> pb::Event {
        pb::Event {
            event_id: id.into(),
            user_id: "u1".into(),
            name: "login".into(),
            occurred_at: Some(prost_types::Timestamp {
                seconds: 1_735_689_600,
                nanos: 0,
            }),
            properties_json: String::new(),
        }
    }

    #[test]
    fn a_batch_names_the_row_and_field_of_each_problem() {
        let now = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("valid");
        let mut bad = event("e2");
        bad.name = String::new();
        bad.properties_json = "[]".into();
        let err = NewEvent::parse_batch(&[event("e1"), bad, event("e1")], now).unwrap_err();
        let fields: Vec<&str> = err.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "events[1].name",
                "events[1].properties_json",
                "events[2].event_id"
            ]
        );
    }

    #[test]
    fn unknown_users_are_named_by_row() {
        let now = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("valid");
        let mut other = event("e2");
        other.user_id = "ghost".into();
        let events = NewEvent::parse_batch(&[event("e1"), other], now).expect("valid");
        let v = unknown_user_violations(&events, &["ghost".to_owned()]);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].field, "events[1].user_id");
        assert!(v[0].reason.contains("unknown user \"ghost\""));
    }
}
