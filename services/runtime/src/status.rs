//! Building gRPC statuses: field violations for `INVALID_ARGUMENT`, and a
//! generic message for internal errors (whose cause is logged, never sent).

use std::fmt;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// One invalid field: `field` is a path such as `events[3].occurred_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// Path of the field in the request.
    pub field: String,
    /// Why it is invalid, in words.
    pub reason: String,
}

impl FieldViolation {
    /// A violation of `field` for `reason`. A reason longer than 200
    /// characters (one that quotes a 70 kB value) is cut, so that the status
    /// still fits in the HTTP/2 headers a client accepts.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: cut(field.into()),
            reason: cut(reason.into()),
        }
    }

    /// The same violation with `prefix` put before the field path, e.g.
    /// `events[3]` + `name` = `events[3].name`.
    pub fn within(mut self, prefix: &str) -> Self {
        self.field = if self.field.is_empty() {
            prefix.to_owned()
        } else {
            format!("{prefix}.{}", self.field)
        };
        self
    }
}

/// The one check of text fields for control characters, before any SQL or
/// peer sees them: NUL (which PostgreSQL's `text` cannot store) and every
/// other control character are refused; `multiline` text (a description)
/// may hold tabs and line breaks.
pub fn no_control_chars(field: &str, value: &str, multiline: bool) -> Result<(), FieldViolation> {
    let allowed = |c: char| multiline && matches!(c, '\t' | '\n' | '\r');
    match value.chars().find(|c| c.is_control() && !allowed(*c)) {
        None => Ok(()),
        Some(c) => Err(FieldViolation::new(
            field,
            format!("must not contain control characters, found {c:?}"),
        )),
    }
}

impl fmt::Display for FieldViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// How many violations one status lists; the message says how many more.
const MAX_LISTED: usize = 20;
/// The longest field path or reason, in characters.
const MAX_TEXT: usize = 200;
/// Past this many bytes of message, no further violation is listed: the
/// message and its `BadRequest` detail travel in HTTP/2 headers, and clients
/// accept 16 KiB of them (percent-encoding can triple the message).
const MAX_MESSAGE_BYTES: usize = 2048;

/// `text`, cut to [`MAX_TEXT`] characters with an ellipsis.
fn cut(text: String) -> String {
    match text.char_indices().nth(MAX_TEXT) {
        None => text,
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}

/// `INVALID_ARGUMENT` naming every violated field (the first 20, or fewer
/// if their text is long) in the message, with a `BadRequest` detail that
/// rich clients can read.
pub fn invalid_argument(violations: &[FieldViolation]) -> Status {
    let mut message = String::new();
    let mut listed = 0;
    for v in violations.iter().take(MAX_LISTED) {
        if listed > 0 && message.len() + v.field.len() + v.reason.len() > MAX_MESSAGE_BYTES {
            break;
        }
        if listed > 0 {
            message.push_str("; ");
        }
        message.push_str(&v.to_string());
        listed += 1;
    }
    if violations.len() > listed {
        message.push_str(&format!(
            "; and {} more invalid fields",
            violations.len() - listed
        ));
    }
    let mut details = ErrorDetails::new();
    for v in &violations[..listed] {
        details.add_bad_request_violation(v.field.clone(), v.reason.clone());
    }
    Status::with_error_details(Code::InvalidArgument, message, details)
}

/// The field violations an `INVALID_ARGUMENT` from a peer lists in its
/// `BadRequest` detail (none if it has no such detail).
pub fn violations_of(status: &Status) -> Vec<FieldViolation> {
    status
        .get_error_details()
        .bad_request()
        .map(|bad| {
            bad.field_violations
                .iter()
                .map(|v| FieldViolation::new(v.field.clone(), v.description.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// Logs an internal error with its cause chain and answers a generic status
/// that leaks nothing of it.
pub fn internal(error: &(dyn std::error::Error + 'static), what: &str) -> Status {
    tracing::error!(error.cause_chain = ?CauseChain(error), "{what}");
    Status::internal(format!(
        "internal error while {what}; the cause is in the service log"
    ))
}

/// The status for a database error (the one place they are mapped):
/// `UNAVAILABLE` while the database cannot be reached, `ALREADY_EXISTS` /
/// `NOT_FOUND` for constraint violations, `ABORTED` for serialization
/// conflicts, and a logged, generic `INTERNAL` for anything else.
pub fn from_db_error(error: &sqlx::Error) -> Status {
    use crate::db::{DbErrorClass, classify};
    match classify(error) {
        DbErrorClass::Unavailable => {
            tracing::warn!(error.cause_chain = ?CauseChain(error), "database unavailable");
            Status::unavailable("the database is unavailable; retry later")
        }
        DbErrorClass::AlreadyExists => {
            Status::already_exists("the request conflicts with a stored row (unique key)")
        }
        DbErrorClass::NotFound => {
            Status::not_found("the request refers to a row that does not exist")
        }
        DbErrorClass::Conflict => Status::aborted("concurrent update conflict; retry the request"),
        DbErrorClass::Internal => internal(error, "accessing the database"),
    }
}

/// An error's `Display` followed by each of its sources.
pub struct CauseChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Debug for CauseChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_names_each_field_and_reason() {
        let status = invalid_argument(&[
            FieldViolation::new("name", "must not be empty").within("events[3]"),
            FieldViolation::new("user_id", "unknown user \"u9\"").within("events[7]"),
        ]);
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(
            status.message(),
            "events[3].name: must not be empty; events[7].user_id: unknown user \"u9\""
        );
        let details = status.get_error_details();
        let bad = details.bad_request().expect("bad request detail");
        assert_eq!(bad.field_violations.len(), 2);
        assert_eq!(bad.field_violations[0].field, "events[3].name");
    }

    #[test]
    fn long_lists_are_cut_with_a_count() {
        let many: Vec<_> = (0..25)
            .map(|i| FieldViolation::new(format!("rows[{i}]"), "bad"))
            .collect();
        let status = invalid_argument(&many);
        assert!(status.message().ends_with("and 5 more invalid fields"));
    }

    #[test]
    fn control_characters_are_refused_and_named() {
        assert_eq!(no_control_chars("plan", "pro ȸ˴", false), Ok(()));
        let nul = no_control_chars("plan", "pro\0", false).expect_err("NUL refused");
        assert_eq!(
            nul.to_string(),
            "plan: must not contain control characters, found '\\0'"
        );
        assert!(no_control_chars("description", "a\nb\tc", true).is_ok());
        assert!(no_control_chars("description", "a\nb", false).is_err());
        assert!(no_control_chars("description", "a\u{1b}b", true).is_err());
    }

    #[test]
    fn long_reasons_are_cut_and_the_message_stays_small() {
        let long = FieldViolation::new("id", format!("{:?} is not a UUID", "é".repeat(70_000)));
        assert_eq!(long.reason.chars().count(), MAX_TEXT + 1);
        let many = vec![long; 20];
        let status = invalid_argument(&many);
        assert!(
            status.message().len() <= MAX_MESSAGE_BYTES + 500,
            "{}",
            status.message().len()
        );
        assert!(status.message().ends_with("more invalid fields"));
        let read = violations_of(&status);
        assert!(!read.is_empty() && read.len() < 20);
        assert_eq!(read[0], many[0]);
    }

    #[test]
    fn internal_errors_do_not_leak_their_text() {
        let err = std::io::Error::other("password=hunter2");
        let status = internal(&err, "writing events");
        assert!(!status.message().contains("hunter2"));
        assert_eq!(status.code(), Code::Internal);
    }
}
