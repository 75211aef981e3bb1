//! The RPCs' behaviour, transport-agnostic: wire request in, wire response
//! or a [`LifecycleError`](crate::error::LifecycleError) out. `grpc.rs` only
//! adapts these to tonic.

pub mod stages;
pub mod triggers;

use crate::error::LifecycleError;

/// Checks a user id the way the metrics service does: 1 to 128 characters.
pub fn user_id(field: &str, id: &str) -> Result<String, LifecycleError> {
    let id = id.trim();
    if id.is_empty() {
        return Err(LifecycleError::invalid(field, "is required"));
    }
    if id.chars().count() > 128 {
        return Err(LifecycleError::invalid(
            field,
            "must be at most 128 characters",
        ));
    }
    Ok(id.to_owned())
}

/// An optional user-id filter ("" = any).
pub fn user_filter(field: &str, id: &str) -> Result<Option<String>, LifecycleError> {
    if id.trim().is_empty() {
        Ok(None)
    } else {
        user_id(field, id).map(Some)
    }
}
