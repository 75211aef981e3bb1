//! Writing the rollup at `UpsertUsers`: assigning users to their cohort day
//! and recomputing the bitmaps of users whose cohort day moved.

use chrono::NaiveDate;
use sqlx::PgConnection;

use super::fold::{MARK, MARK_CONFLICT, per_user_sql};
use crate::cohorts::rollup::WINDOW_DAYS;
use crate::repo::locks;
use crate::reporting::Settings;

/// Assigns upserted users to their cohort day; users whose cohort day
/// changed (a corrected signup time) get their bitmap recomputed from their
/// events. The cohorts new and moved users join are marked with a fresh feed
/// position, drawn under the feed lock like the events' (so in commit
/// order), and both cohorts of a moved user in `metrics.cohort_changes`
/// (their revenue changed too). Runs in the
/// upsert's transaction, which then holds the fold lock too: the upsert
/// locks the users' rows, as a fold does.
pub async fn assign(
    tx: &mut PgConnection,
    settings: &Settings,
    user_ids: &[&str],
) -> Result<(), sqlx::Error> {
    locks::hold(tx, locks::FEED_LOCK).await?;
    locks::hold(tx, locks::FOLD_LOCK).await?;
    let sql = format!(
        "WITH old AS (
             SELECT user_id, cohort_day FROM metrics.user_cohorts WHERE user_id = ANY($1)
         ), position AS MATERIALIZED (
             SELECT nextval('metrics.event_sequence') AS seq
         ), assigned AS (
             INSERT INTO metrics.user_cohorts AS uc (user_id, cohort_day)
             SELECT u.user_id, (u.signup_at AT TIME ZONE $2)::date
             FROM metrics.users u WHERE u.user_id = ANY($1)
             ON CONFLICT (user_id) DO UPDATE SET cohort_day = excluded.cohort_day
             WHERE uc.cohort_day <> excluded.cohort_day
             RETURNING uc.user_id, uc.cohort_day
         ), marked AS (
             {MARK}
             SELECT DISTINCT a.cohort_day, position.seq FROM assigned a, position
             {MARK_CONFLICT}
         )
         SELECT a.user_id, a.cohort_day, o.cohort_day FROM assigned a LEFT JOIN old o USING (user_id)",
    );
    let changed: Vec<(String, NaiveDate, Option<NaiveDate>)> =
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(user_ids)
            .bind(&settings.time_zone)
            .fetch_all(&mut *tx)
            .await?;
    let moved: Vec<String> = changed
        .iter()
        .filter(|(_, _, old)| old.is_some())
        .map(|(id, _, _)| id.clone())
        .collect();
    if !moved.is_empty() {
        rebuild_users(tx, settings, &moved).await?;
        // The cohorts the users left and joined changed, revenue included:
        // a refresh finds them by the marks recorded here.
        let left: Vec<NaiveDate> = changed
            .iter()
            .filter(|(_, _, old)| old.is_some())
            .flat_map(|(_, new, old)| [Some(*new), *old])
            .flatten()
            .collect();
        sqlx::query(
            "INSERT INTO metrics.cohort_changes (cohort_day, changed_seq)
             SELECT d, currval('metrics.event_sequence') FROM unnest($1::date[]) d",
        )
        .bind(&left)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Recomputes the bitmaps of `user_ids` from their raw events, with the
/// fold's computation over each user's distinct active days.
pub async fn rebuild_users(
    tx: &mut PgConnection,
    settings: &Settings,
    user_ids: &[String],
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "WITH pairs AS (
             SELECT DISTINCT user_id, (occurred_at AT TIME ZONE $2)::date AS day, 0::bigint AS seq
             FROM metrics.events
             WHERE user_id = ANY($1) AND ($3::text[] IS NULL OR name = ANY($3))
         ), {per_user}
         UPDATE metrics.user_cohorts uc
         SET active_days = coalesce(p.bits, B'0'::bit({WINDOW_DAYS})), last_active_day = p.last_day
         FROM metrics.user_cohorts c LEFT JOIN per_user p USING (user_id)
         WHERE uc.user_id = c.user_id AND uc.user_id = ANY($1)",
        per_user = per_user_sql(),
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(user_ids)
        .bind(&settings.time_zone)
        .bind(&settings.activity_events)
        .execute(&mut *tx)
        .await?;
    Ok(())
}
