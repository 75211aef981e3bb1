//! Rebuilding the whole activity rollup (`metrics.user_cohorts`, and the
//! calendar years of `metrics.user_active_years`) from the raw events, after
//! a change of time zone or activity definition, or on request.
//!
//! PostgreSQL runs no parallel workers for a statement that writes, so the
//! bitmaps are computed from one parallel `SELECT` and written by a second
//! statement. The `SELECT` groups the events by user and absolute 64-day word
//! (no join to the cohorts: that join cost more than the extra groups); the
//! bits are moved to each user's cohort-relative bitmap and calendar years
//! here (one entry per user for both), compared with the stored ones, and
//! only the rows that differ are written.

use std::collections::HashMap;

use chrono::NaiveDate;
use futures::TryStreamExt as _;
use sqlx::{PgConnection, PgPool, Row as _};

use super::fold::{MARK, MARK_CONFLICT};
use super::store;
use crate::active::year::UserYears;
use crate::cohorts::bitmap::{Bitmap, Columns, WORDS};
use crate::cohorts::phases::Phases;
use crate::cohorts::rollup::WINDOW_DAYS;
use crate::repo::active_years;
use crate::repo::locks;
use crate::reporting::Settings;

/// Rebuilds the whole rollup from the raw events with `settings`, records
/// them, and marks every cohort dirty; one transaction, under the feed lock
/// (ingest waits) and the fold lock. What is pending is discarded: every
/// event it came from is committed (under the feed lock, no batch is in
/// flight) and read here, with the activity definition of `settings`,
/// which pending rows may not have been made with. Returns the rows written
/// (users' rollup rows and calendar years), so a rebuild that confirms the
/// rollup writes nothing.
#[tracing::instrument(skip_all, fields(time_zone = %settings.time_zone))]
pub async fn rebuild(pool: &PgPool, settings: &Settings) -> Result<u64, sqlx::Error> {
    let mut phases = Phases::default();
    phases.mark("start");
    let mut tx = pool.begin().await?;
    locks::hold(&mut tx, locks::FEED_LOCK).await?;
    locks::hold(&mut tx, locks::FOLD_LOCK).await?;
    sqlx::query("DELETE FROM metrics.activity_pending")
        .execute(&mut *tx)
        .await?;
    // Only the users whose cohort day is missing or differs are written: an
    // upsert of every user would lock (and so rewrite) every row.
    sqlx::query(
        "INSERT INTO metrics.user_cohorts AS uc (user_id, cohort_day)
         SELECT u.user_id, u.cohort_day
         FROM (SELECT user_id, (signup_at AT TIME ZONE $1)::date AS cohort_day FROM metrics.users) u
         LEFT JOIN metrics.user_cohorts c USING (user_id)
         WHERE c.cohort_day IS DISTINCT FROM u.cohort_day
         ON CONFLICT (user_id) DO UPDATE SET cohort_day = excluded.cohort_day
         WHERE uc.cohort_day <> excluded.cohort_day",
    )
    .bind(&settings.time_zone)
    .execute(&mut *tx)
    .await?;
    phases.mark("assign");
    // The aggregation holds one entry per user and active word: with the
    // default work_mem it spills to disk from a few hundred thousand users.
    sqlx::query("SET LOCAL work_mem = '256MB'")
        .execute(&mut *tx)
        .await?;
    let mut users = cohort_days(&mut tx).await?;
    phases.mark("cohort_days");
    active_years::each_stored(&mut tx, |user, year, days| {
        // Every stored year's user has a cohort row (the foreign keys and the
        // assignment above).
        if let Some(u) = users.get_mut(user) {
            u.years.store(year, days);
        }
    })
    .await?;
    phases.mark("stored_years");
    add_event_words(&mut tx, settings, &mut users).await?;
    phases.mark("events");
    let days: Vec<i32> = users
        .values()
        .map(|u| u.bitmap.cohort_day)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut columns = Columns::default();
    let (mut years_changed, mut years_gone) = (Vec::new(), Vec::new());
    for (user, u) in users {
        let (changed, gone) = u.years.changes();
        years_changed.extend(changed.into_iter().map(|(y, d)| ((user.clone(), y), d)));
        years_gone.extend(gone.into_iter().map(|y| (user.clone(), y)));
        columns.push(user, &u.bitmap);
    }
    phases.mark("columns");
    let mut changed = write_bitmaps(&mut tx, &columns).await?;
    phases.mark("write");
    changed += active_years::write(&mut tx, &years_changed, &years_gone).await?;
    phases.mark("years");
    sqlx::query(
        "UPDATE metrics.rollup_settings SET time_zone = $1, activity_events = $2, built_at = now()",
    )
    .bind(&settings.time_zone)
    .bind(&settings.activity_events)
    .execute(&mut *tx)
    .await?;
    // Every cohort must be recomputed: every cohort day is marked (some may
    // be new, after a change of time zone) and every position forgotten.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "WITH position AS MATERIALIZED (SELECT nextval('metrics.event_sequence') AS seq)
         {MARK}
         SELECT {EPOCH} + d, position.seq FROM unnest($1::int[]) d, position
         {MARK_CONFLICT}"
    )))
    .bind(&days)
    .execute(&mut *tx)
    .await?;
    phases.mark("mark");
    sqlx::query("UPDATE metrics.retention_refreshes SET refreshed_seq = 0")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    phases.mark("commit");
    tracing::debug!(phases = %phases, changed, "rebuild phases");
    Ok(changed)
}

/// Days are counted from this date in the statements and here.
const EPOCH: &str = "DATE '2000-01-01'";

/// One user's rollup bitmap and calendar years, being assembled.
struct User {
    bitmap: Bitmap,
    years: UserYears,
}

/// Every user's cohort day and stored bitmap, with an empty bitmap and no
/// years to fill.
async fn cohort_days(tx: &mut PgConnection) -> Result<HashMap<String, User>, sqlx::Error> {
    let sql = format!(
        "SELECT user_id, cohort_day - {EPOCH}, active_days, last_active_day - cohort_day
         FROM metrics.user_cohorts"
    );
    let mut users = HashMap::new();
    let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&mut *tx);
    while let Some(row) = rows.try_next().await? {
        let bits = store::bitmap(
            row.try_get_raw(2)?
                .as_bytes()
                .map_err(sqlx::Error::Decode)?,
        )?;
        let stored = (bits, row.try_get(3)?);
        let bitmap = Bitmap::new(row.try_get(1)?, stored);
        let years = UserYears::default();
        users.insert(row.try_get(0)?, User { bitmap, years });
    }
    Ok(users)
}

/// Reads the counted events as (user, absolute word, bits, latest day) and
/// adds them to the users' bitmaps and to their calendar years.
///
/// The local day is computed once per event: PostgreSQL inlines a
/// subquery's column into every expression that uses it, but evaluates a
/// set-returning function in the select list once per row. `>> 6` and `& 63`
/// divide by 64 rounding down, days before the epoch included.
async fn add_event_words(
    tx: &mut PgConnection,
    settings: &Settings,
    users: &mut HashMap<String, User>,
) -> Result<(), sqlx::Error> {
    let epoch = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default();
    let sql = format!(
        "SELECT user_id, day >> 6, bit_or(1::bigint << (63 - (day & 63))), max(day)
         FROM (
             SELECT user_id, unnest(ARRAY[(occurred_at AT TIME ZONE $1)::date - {EPOCH}]) AS day
             FROM metrics.events
             WHERE $2::text[] IS NULL OR name = ANY($2)
         ) e
         GROUP BY user_id, day >> 6"
    );
    let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&settings.time_zone)
        .bind(&settings.activity_events)
        .fetch(&mut *tx);
    while let Some(row) = rows.try_next().await? {
        // Every event's user has a cohort row (the foreign key and the
        // assignment above), so a miss cannot happen in one snapshot.
        let user: &str = row.try_get(0)?;
        let (word, bits): (i32, i64) = (row.try_get(1)?, row.try_get(2)?);
        if let Some(u) = users.get_mut(user) {
            u.bitmap.add_word(word, bits as u64, row.try_get(3)?);
            let first = epoch + chrono::Duration::days(i64::from(word) * 64);
            u.years.add_word(first, bits as u64);
        }
    }
    Ok(())
}

/// Writes the changed bitmaps. Returns the rows written.
async fn write_bitmaps(tx: &mut PgConnection, changed: &Columns) -> Result<u64, sqlx::Error> {
    if changed.users.is_empty() {
        return Ok(0);
    }
    let params: Vec<String> = (0..WORDS).map(|w| format!("${}::int8[]", w + 2)).collect();
    let names: Vec<String> = (0..WORDS).map(|w| format!("w{w}")).collect();
    let bits = names
        .iter()
        .map(|n| format!("t.{n}::bit(64)"))
        .collect::<Vec<_>>()
        .join(" || ");
    let sql = format!(
        "UPDATE metrics.user_cohorts uc
         SET active_days = ({bits})::bit({WINDOW_DAYS}), last_active_day = uc.cohort_day + t.last_off
         FROM unnest($1::text[], {params}, ${last}::int4[]) AS t(user_id, {names}, last_off)
         WHERE uc.user_id = t.user_id",
        params = params.join(", "),
        names = names.join(", "),
        last = WORDS + 2,
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&changed.users);
    for column in &changed.words {
        query = query.bind(column);
    }
    Ok(query
        .bind(&changed.last_offsets)
        .execute(&mut *tx)
        .await?
        .rows_affected())
}
