//! Page requests of the list RPCs: a size (default 50, at most 1,000) and an
//! opaque token, which is an offset for audit runs and the last id seen
//! (`after:<id>`) for user activity.

use growth_proto::common::v1::PageRequest;

use crate::error::MetricsError;

/// Default page size.
pub const DEFAULT_PAGE: i64 = 50;
/// Largest page size.
pub const MAX_PAGE: i64 = 1000;

fn bad_token() -> MetricsError {
    MetricsError::invalid("page.page_token", "is not a token this service issued")
}

/// The page size asked for.
pub fn limit(page: Option<&PageRequest>) -> Result<i64, MetricsError> {
    let size = page.map_or(0, |p| p.page_size);
    if size < 0 {
        return Err(MetricsError::invalid(
            "page.page_size",
            format!("must not be negative, got {size}"),
        ));
    }
    Ok(if size == 0 {
        DEFAULT_PAGE
    } else {
        i64::from(size).min(MAX_PAGE)
    })
}

fn token(page: Option<&PageRequest>) -> &str {
    page.map_or("", |p| p.page_token.as_str())
}

/// (limit, offset) of a page whose token is an offset.
pub fn by_offset(page: Option<&PageRequest>) -> Result<(i64, i64), MetricsError> {
    let offset = match token(page) {
        "" => 0,
        t => t
            .parse::<i64>()
            .ok()
            .filter(|o| *o >= 0)
            .ok_or_else(bad_token)?,
    };
    Ok((limit(page)?, offset))
}

/// (limit, last id seen) of a page whose token is `after:<id>`.
pub fn by_key(page: Option<&PageRequest>) -> Result<(i64, &str), MetricsError> {
    let after = match token(page) {
        "" => "",
        t => t.strip_prefix("after:").ok_or_else(bad_token)?,
    };
    Ok((limit(page)?, after))
}

/// The token of the page after one that ended at `last_id`.
pub fn after(last_id: &str) -> String {
    format!("after:{last_id}")
}
