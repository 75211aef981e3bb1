//! The reporting settings as PostgreSQL sees them: whether it knows the
//! time zone, today in it, and the settings the stored rollup was built with.

use chrono::NaiveDate;

use super::Pool;
use crate::reporting::Settings;

/// Whether PostgreSQL knows `time_zone`.
pub async fn zone_known(pool: &Pool, time_zone: &str) -> Result<bool, sqlx::Error> {
    let ok: Option<bool> =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1)")
            .bind(time_zone)
            .fetch_optional(pool)
            .await?;
    Ok(ok == Some(true))
}

/// The settings the stored rollup was built with.
pub async fn stored(pool: &Pool) -> Result<Settings, sqlx::Error> {
    let (time_zone, activity_events): (String, Option<Vec<String>>) = sqlx::query_as(
        "SELECT time_zone, activity_events FROM metrics.rollup_settings WHERE singleton",
    )
    .fetch_one(pool)
    .await?;
    Ok(Settings {
        time_zone,
        activity_events,
    })
}

/// Today in `time_zone`, as PostgreSQL (which cuts the days) sees it.
pub async fn today(pool: &Pool, time_zone: &str) -> Result<NaiveDate, sqlx::Error> {
    sqlx::query_scalar("SELECT (now() AT TIME ZONE $1)::date")
        .bind(time_zone)
        .fetch_one(pool)
        .await
}

/// The first instant of each of `days` in `time_zone`
/// (`metrics.local_day_start`).
pub async fn day_starts(
    pool: &Pool,
    days: &[NaiveDate],
    time_zone: &str,
) -> Result<Vec<chrono::DateTime<chrono::Utc>>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT metrics.local_day_start(d, $2) FROM unnest($1::date[]) WITH ORDINALITY AS t(d, n)
         ORDER BY n",
    )
    .bind(days)
    .bind(time_zone)
    .fetch_all(pool)
    .await
}
