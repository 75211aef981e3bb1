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

/// Folds every pending row committed so far, in a transaction of its own,
/// then reclaims the space of the rows it took ([`reclaim`]). Returns how
/// many users' rollup rows changed.
pub async fn fold(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    locks::hold(&mut tx, FOLD_LOCK).await?;
    let folded = fold_in(&mut tx).await?;
    tx.commit().await?;
    if folded.taken > 0 {
        reclaim(pool).await?;
    }
    Ok(folded.changed)
}

/// Makes the space of deleted pending rows reusable by the next appends, so
/// that `metrics.activity_pending` stays as small as the activity of a few
/// folds whether or not autovacuum ever reaches it (it is off on some
/// servers, and slow to reach a busy table on others). Without this, a
/// table emptied twice a second grows by every row ever appended: 3.5M dead
/// rows (231 MiB) after 10M events, which every fold and every refresh then
/// scan.
///
/// Skipped when another vacuum of the table is running. No truncation of the
/// file's empty tail, which would wait for the appends' locks (the space is
/// reused instead). A vacuum needs the table's owner (or, from PostgreSQL
/// 17, the `MAINTAIN` privilege); without it PostgreSQL warns and skips, and
/// the table grows as it would without this.
pub async fn reclaim(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query("VACUUM (SKIP_LOCKED, TRUNCATE false) metrics.activity_pending")
        .execute(pool)
        .await?;
    Ok(())
}

/// What [`fold_in`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Folded {
    /// Pending rows taken (and deleted).
    pub taken: u64,
    /// Users' rollup rows changed.
    pub changed: u64,
}

/// [`fold`] inside a transaction that holds [`FOLD_LOCK`].
///
/// Each pair sets the bit of its day counted from the user's cohort day
/// (days before it or past the window set none) and raises the latest
/// active day (on or after the cohort day, at any distance); it also sets
/// the day's bit in the user's calendar year ([`YEARS`]). A row is
/// written only when that changes something: folding the same activity
/// twice writes nothing. The cohort days of the users written are marked in
/// `metrics.cohort_activity` with the highest position of the batches that
/// changed them, which is how a refresh finds them.
pub async fn fold_in(tx: &mut PgConnection) -> Result<Folded, sqlx::Error> {
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
         ), years AS (
             {YEARS}
         )
         SELECT (SELECT count(*) FROM taken), (SELECT count(*) FROM folded)",
        per_user = per_user_sql(),
    );
    let (taken, changed): (i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_one(tx)
        .await?;
    Ok(Folded {
        taken: u64::try_from(taken).unwrap_or(0),
        changed: u64::try_from(changed).unwrap_or(0),
    })
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

/// The statement that sets the active days of a CTE `pairs` (user_id, day)
/// in `metrics.user_active_years`; a row is written only when a bit is new.
pub const YEARS: &str = "INSERT INTO metrics.user_active_years AS y (user_id, year, days)
             SELECT user_id, extract(year FROM day)::smallint,
                    bit_or(set_bit(B'0'::bit(366), extract(doy FROM day)::integer - 1, 1))
             FROM pairs GROUP BY 1, 2
             ON CONFLICT (user_id, year) DO UPDATE SET days = y.days | excluded.days
             WHERE (y.days | excluded.days) <> y.days";

/// The head of a statement that marks cohort days (`SELECT cohort_day,
/// position` goes between it and [`MARK_CONFLICT`]); the caller holds
/// [`FOLD_LOCK`]. A mark only ever moves forward.
pub const MARK: &str = "INSERT INTO metrics.cohort_activity AS a (cohort_day, changed_seq)";
/// See [`MARK`].
pub const MARK_CONFLICT: &str = "ON CONFLICT (cohort_day) DO UPDATE
             SET changed_seq = GREATEST(a.changed_seq, excluded.changed_seq)";
