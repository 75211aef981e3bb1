//! Page sizes and the opaque keyset tokens of the list RPCs.

use chrono::{DateTime, Utc};
use growth_proto::common::v1::PageRequest;
use uuid::Uuid;

use crate::error::LifecycleError;

const DEFAULT_PAGE: i64 = 50;
const MAX_PAGE: i64 = 1000;

fn bad_token() -> LifecycleError {
    LifecycleError::invalid(
        "page.page_token",
        "is not a token this RPC returned (pass next_page_token unchanged)",
    )
}

/// The page size asked for: 0 means 50, more than 1000 means 1000.
pub fn limit(page: Option<&PageRequest>) -> Result<i64, LifecycleError> {
    match page.map_or(0, |p| p.page_size) {
        size if size < 0 => Err(LifecycleError::invalid(
            "page.page_size",
            format!("must not be negative, got {size}"),
        )),
        0 => Ok(DEFAULT_PAGE),
        size => Ok(i64::from(size).min(MAX_PAGE)),
    }
}

fn token(page: Option<&PageRequest>) -> &str {
    page.map_or("", |p| p.page_token.as_str())
}

/// Transitions: the id to page below (`i64::MAX` for the first page).
pub fn before_id(page: Option<&PageRequest>) -> Result<i64, LifecycleError> {
    match token(page) {
        "" => Ok(i64::MAX),
        t => t
            .strip_prefix("t:")
            .and_then(|id| id.parse().ok())
            .ok_or_else(bad_token),
    }
}

/// The token after a transitions page ending at `id`.
pub fn after_id(id: i64) -> String {
    format!("t:{id}")
}

/// Deliveries: the (created_at, id) to page after.
pub fn after_row(
    page: Option<&PageRequest>,
) -> Result<Option<(DateTime<Utc>, Uuid)>, LifecycleError> {
    match token(page) {
        "" => Ok(None),
        t => {
            let (micros, id) = t
                .strip_prefix("d:")
                .and_then(|rest| rest.split_once(':'))
                .ok_or_else(bad_token)?;
            let at = micros
                .parse()
                .ok()
                .and_then(DateTime::from_timestamp_micros)
                .ok_or_else(bad_token)?;
            let id = Uuid::parse_str(id).map_err(|_| bad_token())?;
            Ok(Some((at, id)))
        }
    }
}

/// The token after a deliveries page ending at this row.
pub fn after_delivery(created_at: DateTime<Utc>, id: Uuid) -> String {
    format!("d:{}:{id}", created_at.timestamp_micros())
}
