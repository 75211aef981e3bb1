//! The metrics service's one error table: every failure becomes exactly one
//! gRPC code here.

use growth_runtime::status::{self, FieldViolation};
use tonic::Status;

/// Everything an RPC of the metrics service can fail with.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The request is invalid; nothing was written.
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    /// A referenced id does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The service is not configured for this RPC.
    #[error("{0}")]
    Precondition(String),
    /// Refused because a conflicting operation is running.
    #[error("{0}")]
    Aborted(String),
    /// A bug or an unexpected state; the text is logged, never sent.
    #[error("{0}")]
    Internal(String),
    /// A database failure.
    #[error("database error")]
    Database(#[from] crate::repo::DbError),
}

impl MetricsError {
    /// A single invalid field.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldViolation::new(field, reason)])
    }
}

impl From<Vec<FieldViolation>> for MetricsError {
    fn from(violations: Vec<FieldViolation>) -> Self {
        Self::Invalid(violations)
    }
}

impl From<growth_proto::paging::PageError> for MetricsError {
    fn from(error: growth_proto::paging::PageError) -> Self {
        Self::invalid(error.field, error.reason)
    }
}

impl From<MetricsError> for Status {
    fn from(error: MetricsError) -> Self {
        match error {
            MetricsError::Invalid(violations) => status::invalid_argument(&violations),
            MetricsError::NotFound(what) => Status::not_found(what),
            MetricsError::Precondition(what) => Status::failed_precondition(what),
            MetricsError::Aborted(what) => Status::aborted(what),
            MetricsError::Internal(what) => {
                tracing::error!(error = %what, "internal error");
                Status::internal("internal error; the cause is in the service log")
            }
            MetricsError::Database(e) => status::from_db_error(&e),
        }
    }
}
