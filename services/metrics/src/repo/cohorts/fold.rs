//! Folding pending activity into the bitmaps. `TrackEvents` appends to
//! `metrics.activity_pending` one row per user of its counted events (the
//! user's distinct local days, and the batch's highest feed position)
//! instead of updating the user's bitmap; [`fold`] merges those rows into
//! `metrics.user_cohorts` and deletes them, in one transaction. A background
//! task (`crate::cohorts::fold::spawn`) folds whenever events are committed,
//! off the ingest path; every reader of the bitmaps folds first (a refresh, a
//! breakdown), and a rebuild discards what is pending, as it reads every
//! event anyway.
//!
//! Folds are serialised by [`FOLD_LOCK`]. Anything else that updates
//! `metrics.user_cohorts` rows while events are ingested takes it too, after
//! the feed lock if it holds that, so that two multi-row updates never
//! deadlock.

use sqlx::{PgConnection, PgPool};

use crate::cohorts::rollup::WINDOW_DAYS;
use crate::repo::locks::{self, FOLD_LOCK};

/// Folds every pending row committed so far, in a transaction of its own.
/// Returns how many users' rollup rows changed.
pub async fn fold(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    locks::hold(&mut tx, FOLD_LOCK).await?;
    let changed = fold_in(&mut tx).await?;
    tx.commit().await?;
    Ok(changed)
}

/// [`fold`] inside a transaction that holds [`FOLD_LOCK`].
///
/// Each pair sets the bit of its day counted from the user's cohort day
/// (days before it or past the window set none) and raises the latest
/// active day (on or after the cohort day, at any distance). A row is
/// written only when that changes something: folding the same activity
/// twice writes nothing. The cohort days of the users written are marked in
/// `metrics.cohort_activity` with the highest position of the batches that
/// changed them, which is how a refresh finds them.
pub async fn fold_in(tx: &mut PgConnection) -> Result<u64, sqlx::Error> {
    let sql = format!(
        "WITH taken AS (
             DELETE FROM metrics.activity_pending RETURNING user_id, days, seq
         ), pairs AS (
             SELECT t.user_id, d.day, t.seq FROM taken t, unnest(t.days) AS d(day)
         ), {per_user}, folded AS (
             UPDATE metrics.user_cohorts uc
             SET active_days = uc.active_days | p.bits,
                 last_active_day = GREATEST(uc.last_active_day, p.last_day)
             FROM per_user p
             WHERE uc.user_id = p.user_id
               AND ((uc.active_days | p.bits) <> uc.active_days
                    OR p.last_day > coalesce(uc.last_active_day, '-infinity'))
             RETURNING uc.cohort_day, p.seq
         ), marked AS (
             {MARK}
             SELECT cohort_day, max(seq) FROM folded GROUP BY cohort_day
             {MARK_CONFLICT}
         )
         SELECT count(*) FROM folded",
        per_user = per_user_sql(),
    );
    let folded: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_one(tx)
        .await?;
    Ok(u64::try_from(folded).unwrap_or(0))
}

/// The CTE `per_user` (user_id, bits, last_day, seq) over a CTE `pairs`
/// (user_id, day, seq): per user, the bitmap of its days counted from its
/// cohort day (days before it or past the window set no bit), its latest
/// day on or after the cohort day (at any distance; NULL when none), and the
/// highest position. Users without a cohort row are left out.
pub fn per_user_sql() -> String {
    let w = WINDOW_DAYS;
    format!(
        "per_user AS (
             SELECT c.user_id,
                    bit_or(CASE WHEN p.day - c.cohort_day BETWEEN 0 AND {last}
                                THEN set_bit(B'0'::bit({w}), p.day - c.cohort_day, 1)
                                ELSE B'0'::bit({w}) END) AS bits,
                    max(p.day) FILTER (WHERE p.day >= c.cohort_day) AS last_day,
                    max(p.seq) AS seq
             FROM pairs p JOIN metrics.user_cohorts c USING (user_id)
             GROUP BY c.user_id
         )",
        last = w - 1,
    )
}

/// The head of a statement that marks cohort days (`SELECT cohort_day,
/// position` goes between it and [`MARK_CONFLICT`]); the caller holds
/// [`FOLD_LOCK`]. A mark only ever moves forward.
pub const MARK: &str = "INSERT INTO metrics.cohort_activity AS a (cohort_day, changed_seq)";
/// See [`MARK`].
pub const MARK_CONFLICT: &str = "ON CONFLICT (cohort_day) DO UPDATE
             SET changed_seq = GREATEST(a.changed_seq, excluded.changed_seq)";
