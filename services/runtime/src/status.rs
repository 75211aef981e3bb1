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
    /// A violation of `field` for `reason`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
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

impl fmt::Display for FieldViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// How many violations one status lists; the message says how many more.
const MAX_LISTED: usize = 20;

/// `INVALID_ARGUMENT` naming every violated field (the first 20) in the
/// message, with a `BadRequest` detail that rich clients can read.
pub fn invalid_argument(violations: &[FieldViolation]) -> Status {
    let mut message = violations
        .iter()
        .take(MAX_LISTED)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    if violations.len() > MAX_LISTED {
        message.push_str(&format!(
            "; and {} more invalid fields",
            violations.len() - MAX_LISTED
        ));
    }
    let mut details = ErrorDetails::new();
    for v in violations.iter().take(MAX_LISTED) {
        details.add_bad_request_violation(v.field.clone(), v.reason.clone());
    }
    Status::with_error_details(Code::InvalidArgument, message, details)
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
    fn internal_errors_do_not_leak_their_text() {
        let err = std::io::Error::other("password=hunter2");
        let status = internal(&err, "writing events");
        assert!(!status.message().contains("hunter2"));
        assert_eq!(status.code(), Code::Internal);
    }
}
