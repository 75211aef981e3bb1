//! Checks for single fields, shared by users, events and payments.

use chrono::{DateTime, TimeZone, Utc};
use growth_proto::user_id;
use growth_runtime::status::FieldViolation;

/// Largest JSON document (attributes, properties) accepted, in bytes.
pub const MAX_JSON_BYTES: usize = 16 * 1024;
/// How far in the future a timestamp may be (clock skew between services).
pub const MAX_FUTURE_SKEW: chrono::Duration = chrono::Duration::minutes(5);

/// A client-supplied id (user, event, Stripe object), held to the one
/// user-id rule ([`growth_proto::user_id`]): 1 to 128 characters, each an
/// ASCII letter, digit or one of `_-.:@`.
pub fn id(field: &str, value: &str) -> Result<String, FieldViolation> {
    user_id::check(value)
        .map(|()| value.to_owned())
        .map_err(|e| FieldViolation::new(field, e.to_string()))
}

/// Free text of 1 to `max` characters with no control characters.
pub fn text(field: &str, value: &str, max: usize) -> Result<String, FieldViolation> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(FieldViolation::new(field, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(FieldViolation::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    growth_runtime::status::no_control_chars(field, trimmed, false)?;
    Ok(trimmed.to_owned())
}

/// An e-mail address: one `@` with text on both sides, no spaces.
pub fn email(field: &str, value: &str) -> Result<String, FieldViolation> {
    let value = value.trim();
    let valid = value.len() <= 254
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(value.split_once('@'), Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
    if valid {
        Ok(value.to_owned())
    } else {
        Err(FieldViolation::new(
            field,
            format!("{value:?} is not an e-mail address"),
        ))
    }
}

/// A required timestamp between 2000-01-01 and `now` + 5 minutes.
pub fn timestamp(
    field: &str,
    value: Option<&prost_types::Timestamp>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, FieldViolation> {
    let Some(value) = value else {
        return Err(FieldViolation::new(field, "is required"));
    };
    optional_timestamp(field, Some(value), now)?
        .ok_or_else(|| FieldViolation::new(field, "is required"))
}

/// An optional id: empty means none, anything else is checked like [`id`].
pub fn optional_id(field: &str, value: &str) -> Result<Option<String>, FieldViolation> {
    if value.is_empty() {
        Ok(None)
    } else {
        id(field, value).map(Some)
    }
}

/// An optional timestamp; when present, checked like [`timestamp`].
pub fn optional_timestamp(
    field: &str,
    value: Option<&prost_types::Timestamp>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, FieldViolation> {
    let Some(value) = value else {
        return Ok(None);
    };
    let parsed = growth_proto::timestamp::to_utc(value)
        .ok_or_else(|| FieldViolation::new(field, "is not a valid timestamp"))?;
    if parsed > now + MAX_FUTURE_SKEW {
        return Err(FieldViolation::new(
            field,
            format!(
                "{} is in the future (now is {})",
                parsed.to_rfc3339(),
                now.to_rfc3339()
            ),
        ));
    }
    if parsed.timestamp() < 946_684_800 {
        return Err(FieldViolation::new(
            field,
            format!("{} is before 2000-01-01", parsed.to_rfc3339()),
        ));
    }
    Ok(Some(parsed))
}

/// An optional timestamp with no bound on the future (e.g. a trial end),
/// still a valid instant after 2000-01-01.
pub fn optional_timestamp_any(
    field: &str,
    value: Option<&prost_types::Timestamp>,
) -> Result<Option<DateTime<Utc>>, FieldViolation> {
    let far_future = Utc
        .timestamp_opt(32_503_680_000, 0)
        .single()
        .unwrap_or_else(Utc::now);
    optional_timestamp(field, value, far_future)
}

/// A JSON object of at most 16 KiB; empty text means `{}`. Returns the
/// canonical text to store.
pub fn json_object(field: &str, value: &str) -> Result<String, FieldViolation> {
    if value.trim().is_empty() {
        return Ok("{}".to_owned());
    }
    if value.len() > MAX_JSON_BYTES {
        return Err(FieldViolation::new(
            field,
            format!(
                "must be at most {MAX_JSON_BYTES} bytes, got {}",
                value.len()
            ),
        ));
    }
    match serde_json::from_str::<serde_json::Value>(value) {
        Ok(serde_json::Value::Object(map)) => {
            if map.values().any(has_nul) || map.keys().any(|k| k.contains('\0')) {
                return Err(FieldViolation::new(
                    field,
                    "must not contain NUL characters",
                ));
            }
            Ok(serde_json::Value::Object(map).to_string())
        }
        Ok(other) => Err(FieldViolation::new(
            field,
            format!("must be a JSON object, got a JSON {}", json_kind(&other)),
        )),
        Err(e) => Err(FieldViolation::new(
            field,
            format!("is not valid JSON: {e}"),
        )),
    }
}

/// PostgreSQL's jsonb cannot hold `\u0000`.
fn has_nul(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(has_nul),
        serde_json::Value::Object(map) => {
            map.keys().any(|k| k.contains('\0')) || map.values().any(has_nul)
        }
        _ => false,
    }
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(seconds: i64) -> prost_types::Timestamp {
        prost_types::Timestamp { seconds, nanos: 0 }
    }

    #[test]
    fn ids_accept_common_shapes_and_reject_the_rest() {
        assert!(id("f", "u_000123").is_ok());
        assert!(id("f", "3f2b8c1e-9a4d-4c1b-8e8e-1f2a3b4c5d6e").is_ok());
        assert!(id("f", "user@example.com").is_ok());
        assert_eq!(
            id("f", "").unwrap_err().reason,
            "must be 1 to 128 characters, each an ASCII letter, digit or one of _-.:@; \
             got an empty id"
        );
        assert!(id("f", "has space").unwrap_err().reason.contains("' '"));
        assert!(
            id("f", &"x".repeat(129))
                .unwrap_err()
                .reason
                .contains("128")
        );
    }

    #[test]
    fn emails_need_one_at_with_text_on_both_sides() {
        assert!(email("e", "a@b.co").is_ok());
        for bad in ["", "ab.co", "@b.co", "a@", "a@b@c", "a b@c.d"] {
            assert!(email("e", bad).is_err(), "{bad:?} must be rejected");
        }
    }

    #[test]
    fn timestamps_far_in_the_future_or_missing_are_rejected() {
        let now = Utc.timestamp_opt(1_760_000_000, 0).single().expect("valid");
        assert!(timestamp("t", Some(&ts(1_760_000_000 + 60)), now).is_ok());
        let err = timestamp("t", Some(&ts(1_760_000_000 + 3600)), now).unwrap_err();
        assert!(err.reason.contains("in the future"), "{err}");
        assert_eq!(timestamp("t", None, now).unwrap_err().reason, "is required");
        assert!(
            timestamp("t", Some(&ts(0)), now)
                .unwrap_err()
                .reason
                .contains("2000")
        );
        let bad_nanos = prost_types::Timestamp {
            seconds: 1_700_000_000,
            nanos: -1,
        };
        assert!(timestamp("t", Some(&bad_nanos), now).is_err());
    }

    #[test]
    fn json_must_be_an_object() {
        assert_eq!(json_object("p", "").expect("empty is {}"), "{}");
        assert_eq!(
            json_object("p", r#"{"a": 1}"#).expect("object"),
            r#"{"a":1}"#
        );
        assert!(
            json_object("p", "[1]")
                .unwrap_err()
                .reason
                .contains("array")
        );
        assert!(
            json_object("p", "{")
                .unwrap_err()
                .reason
                .contains("not valid JSON")
        );
        assert!(
            json_object("p", r#"{"a":"\u0000"}"#)
                .unwrap_err()
                .reason
                .contains("NUL")
        );
        let big = format!(r#"{{"a":"{}"}}"#, "x".repeat(MAX_JSON_BYTES));
        assert!(
            json_object("p", &big)
                .unwrap_err()
                .reason
                .contains("at most")
        );
    }
}
