//! Requests whose dates are checked against today in the reporting time zone
//! (no cohort or month in the future): parsed once before any SQL, against
//! the latest date any time zone has reached, so that bad input is refused
//! even while the database is down; then again, once today's date in the
//! reporting time zone has been read from the database, against it.

use chrono::{Duration, NaiveDate, Utc};

use crate::error::MetricsError;
use crate::repo;
use crate::state::Metrics;

/// The latest date anywhere now: the easternmost time zones are 14 hours
/// ahead of UTC.
fn latest_date() -> NaiveDate {
    (Utc::now() + Duration::hours(14)).date_naive()
}

/// `parse` applied before any SQL, then against today in the reporting time
/// zone; returns its result and that date.
pub async fn parse<T, E: Into<MetricsError>>(
    state: &Metrics,
    parse: impl Fn(NaiveDate) -> Result<T, E>,
) -> Result<(T, NaiveDate), MetricsError> {
    parse(latest_date()).map_err(Into::into)?;
    let today = repo::reporting::today(&state.pool, &state.reporting.time_zone).await?;
    Ok((parse(today).map_err(Into::into)?, today))
}
