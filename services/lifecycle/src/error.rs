//! The lifecycle service's one error table: every failure becomes exactly
//! one gRPC code here.

use growth_runtime::status::{self, FieldViolation};
use tonic::Status;

use crate::evaluate::apply::ApplyError;

/// Everything an RPC of the lifecycle service can fail with.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    /// The request is invalid; nothing was written.
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    /// A referenced id does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The operation does not apply to the thing in its current state.
    #[error("{0}")]
    Precondition(String),
    /// Refused because a conflicting operation is running.
    #[error("{0}")]
    Aborted(String),
    /// A call to the metrics service failed: its INVALID_ARGUMENT,
    /// NOT_FOUND and FAILED_PRECONDITION reach the caller with that code
    /// (violations named as in the caller's request, see
    /// `upstream::signals_of`), UNAVAILABLE and DEADLINE_EXCEEDED as
    /// UNAVAILABLE, anything else as a logged, generic INTERNAL.
    #[error("metrics service: {0}")]
    Upstream(Status),
    /// A database failure.
    #[error("database error")]
    Database(#[from] crate::repo::DbError),
}

impl LifecycleError {
    /// A single invalid field.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldViolation::new(field, reason)])
    }
}

impl From<Vec<FieldViolation>> for LifecycleError {
    fn from(violations: Vec<FieldViolation>) -> Self {
        Self::Invalid(violations)
    }
}

impl From<FieldViolation> for LifecycleError {
    fn from(violation: FieldViolation) -> Self {
        Self::Invalid(vec![violation])
    }
}

impl From<growth_proto::paging::PageError> for LifecycleError {
    fn from(error: growth_proto::paging::PageError) -> Self {
        Self::invalid(error.field, error.reason)
    }
}

impl From<ApplyError> for LifecycleError {
    fn from(error: ApplyError) -> Self {
        match error {
            ApplyError::Database(e) => Self::Database(e),
            ApplyError::LostLeadership => Self::Aborted(error.to_string()),
        }
    }
}

impl From<LifecycleError> for Status {
    fn from(error: LifecycleError) -> Self {
        match error {
            LifecycleError::Invalid(violations) => status::invalid_argument(&violations),
            LifecycleError::NotFound(what) => Status::not_found(what),
            LifecycleError::Precondition(what) => Status::failed_precondition(what),
            LifecycleError::Aborted(what) => Status::aborted(what),
            LifecycleError::Upstream(s) => {
                tracing::warn!(code = ?s.code(), message = s.message(), "metrics service call failed");
                match s.code() {
                    tonic::Code::InvalidArgument => match status::violations_of(&s) {
                        v if v.is_empty() => Status::invalid_argument(format!(
                            "the metrics service refused the request: {}",
                            s.message()
                        )),
                        v => status::invalid_argument(&v),
                    },
                    tonic::Code::NotFound => Status::not_found(format!(
                        "not known to the metrics service: {}",
                        s.message()
                    )),
                    tonic::Code::FailedPrecondition => Status::failed_precondition(format!(
                        "the metrics service cannot answer yet: {}",
                        s.message()
                    )),
                    tonic::Code::Unavailable | tonic::Code::DeadlineExceeded => {
                        Status::unavailable(format!(
                            "the metrics service is unavailable: {}",
                            s.message()
                        ))
                    }
                    _ => Status::internal(
                        "the metrics service failed; the cause is in the service log",
                    ),
                }
            }
            LifecycleError::Database(e) => status::from_db_error(&e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(upstream: Status) -> Status {
        LifecycleError::Upstream(upstream).into()
    }

    #[test]
    fn metrics_refusals_keep_their_code_and_other_failures_do_not_leak() {
        let invalid = through(status::invalid_argument(&[FieldViolation::new(
            "user_ids[3]",
            "may contain only letters, digits and _-.:@",
        )]));
        assert_eq!(invalid.code(), tonic::Code::InvalidArgument);
        assert_eq!(
            invalid.message(),
            "user_ids[3]: may contain only letters, digits and _-.:@"
        );
        assert_eq!(
            status::violations_of(&invalid)[0].field,
            "user_ids[3]",
            "the BadRequest detail is kept"
        );
        let bare = through(Status::invalid_argument("no"));
        assert_eq!(bare.code(), tonic::Code::InvalidArgument);
        assert!(bare.message().contains("refused the request: no"));
        assert_eq!(
            through(Status::not_found("no user")).code(),
            tonic::Code::NotFound
        );
        assert_eq!(
            through(Status::failed_precondition("not yet")).code(),
            tonic::Code::FailedPrecondition
        );
        assert_eq!(
            through(Status::unavailable("down")).code(),
            tonic::Code::Unavailable
        );
        let internal = through(Status::internal("secret detail"));
        assert_eq!(internal.code(), tonic::Code::Internal);
        assert!(!internal.message().contains("secret"));
    }
}
