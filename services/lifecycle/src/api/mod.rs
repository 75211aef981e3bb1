//! The RPCs' behaviour, transport-agnostic: wire request in, wire response
//! or a [`LifecycleError`](crate::error::LifecycleError) out. `grpc.rs` only
//! adapts these to tonic.

pub mod stages;
pub mod triggers;

use growth_runtime::status::FieldViolation;

use crate::error::LifecycleError;

/// A user id, held to the one rule ([`growth_proto::user_id`], the metrics
/// service's too), so that a bad id is refused here with the field named
/// instead of reaching the metrics service or the database.
pub fn user_id(field: &str, id: &str) -> Result<String, FieldViolation> {
    growth_proto::user_id::check(id)
        .map(|()| id.to_owned())
        .map_err(|e| FieldViolation::new(field, e.to_string()))
}

/// An optional user-id filter: empty means any user.
pub fn user_filter(field: &str, id: &str) -> Result<Option<String>, LifecycleError> {
    if id.is_empty() {
        Ok(None)
    } else {
        Ok(Some(user_id(field, id)?))
    }
}
