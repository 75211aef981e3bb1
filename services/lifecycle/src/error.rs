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
    /// The metrics service failed or is unreachable.
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
