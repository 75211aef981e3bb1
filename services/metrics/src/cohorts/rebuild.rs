//! Rebuilding the whole activity rollup (`metrics.user_cohorts`) from the raw
//! events, after a change of time zone or activity definition, or on request.
//!
//! PostgreSQL runs no parallel workers for a statement that writes, so the
//! bitmaps are computed by one parallel `SELECT` and written by a second
//! statement, only where they differ. The `SELECT` groups the events by user
//! and absolute 64-day word (no join to the cohorts: that join cost more than
//! the extra groups), and the bits are moved to each user's cohort-relative
//! bitmap here.

use std::collections::HashMap;

use futures::TryStreamExt as _;
use sqlx::{PgConnection, PgPool, Row as _};

use super::rollup::WINDOW_DAYS;
use super::settings::RollupSettings;

/// Words of a bitmap: `WINDOW_DAYS` bits in 64-bit words, most significant
/// bit first (bit 0 of the bitmap = the top bit of word 0).
const WORDS: usize = (WINDOW_DAYS as usize).div_ceil(64);

/// Rebuilds the whole rollup from the raw events with `settings`, records
/// them, and marks every cohort dirty; one transaction, under the feed lock
/// (ingest waits). Returns the users whose row changed, so a rebuild that
/// confirms the rollup writes nothing.
#[tracing::instrument(skip_all, fields(time_zone = %settings.time_zone))]
pub async fn rebuild(pool: &PgPool, settings: &RollupSettings) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(crate::repo::events::FEED_LOCK)
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
    // The aggregation holds one entry per user and active word: with the
    // default work_mem it spills to disk from a few hundred thousand users.
    sqlx::query("SET LOCAL work_mem = '256MB'")
        .execute(&mut *tx)
        .await?;
    let mut users = cohort_days(&mut tx).await?;
    add_event_words(&mut tx, settings, &mut users).await?;
    let changed = write_bitmaps(&mut tx, &Columns::from(users)).await?;
    sqlx::query(
        "UPDATE metrics.rollup_settings SET time_zone = $1, activity_events = $2, built_at = now()",
    )
    .bind(&settings.time_zone)
    .bind(&settings.activity_events)
    .execute(&mut *tx)
    .await?;
    // Every cohort must be recomputed.
    sqlx::query("UPDATE metrics.retention_refreshes SET refreshed_seq = 0")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(changed)
}

/// Days are counted from this date in the statements and here.
const EPOCH: &str = "DATE '2000-01-01'";

/// One user's bitmap being assembled: the cohort day and, from the events,
/// the active days after it and the latest offset.
#[derive(Debug, Clone, PartialEq)]
struct Bitmap {
    cohort_day: i32,
    words: [u64; WORDS],
    last_offset: Option<i32>,
}

impl Bitmap {
    fn new(cohort_day: i32) -> Self {
        Self {
            cohort_day,
            words: [0; WORDS],
            last_offset: None,
        }
    }

    /// Adds the absolute word `word` (days `64 * word ..= 64 * word + 63`,
    /// the earliest in the top bit) whose latest day is `latest_day`. Days
    /// before the cohort day are not activity; days past the window only
    /// count for the latest offset.
    fn add_word(&mut self, word: i32, mut bits: u64, latest_day: i32) {
        let first_day = i64::from(word) * 64;
        while bits != 0 {
            let position = bits.trailing_zeros();
            bits &= bits - 1;
            let offset = first_day + 63 - i64::from(position) - i64::from(self.cohort_day);
            if (0..i64::from(WINDOW_DAYS)).contains(&offset) {
                self.words[(offset / 64) as usize] |= 1 << (63 - offset % 64);
            }
        }
        let latest = latest_day - self.cohort_day;
        if latest >= 0 && self.last_offset.is_none_or(|l| l < latest) {
            self.last_offset = Some(latest);
        }
    }
}

/// Every user's cohort day, with an empty bitmap.
async fn cohort_days(tx: &mut PgConnection) -> Result<HashMap<String, Bitmap>, sqlx::Error> {
    let sql = format!("SELECT user_id, cohort_day - {EPOCH} FROM metrics.user_cohorts");
    let mut users = HashMap::new();
    let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&mut *tx);
    while let Some(row) = rows.try_next().await? {
        users.insert(row.try_get(0)?, Bitmap::new(row.try_get(1)?));
    }
    Ok(users)
}

/// Reads the counted events as (user, absolute word, bits, latest day) and
/// adds them to the users' bitmaps.
///
/// The local day is computed once per event: PostgreSQL inlines a
/// subquery's column into every expression that uses it, but evaluates a
/// set-returning function in the select list once per row. `>> 6` and `& 63`
/// divide by 64 rounding down, days before the epoch included.
async fn add_event_words(
    tx: &mut PgConnection,
    settings: &RollupSettings,
    users: &mut HashMap<String, Bitmap>,
) -> Result<(), sqlx::Error> {
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
        if let Some(bitmap) = users.get_mut(user) {
            let bits: i64 = row.try_get(2)?;
            bitmap.add_word(row.try_get(1)?, bits as u64, row.try_get(3)?);
        }
    }
    Ok(())
}

/// The users with activity on or after their cohort day, as bind-ready
/// columns: ids, one column per word, latest offsets.
struct Columns {
    users: Vec<String>,
    words: [Vec<i64>; WORDS],
    last_offsets: Vec<i32>,
}

impl From<HashMap<String, Bitmap>> for Columns {
    fn from(bitmaps: HashMap<String, Bitmap>) -> Self {
        let mut columns = Columns {
            users: Vec::new(),
            words: Default::default(),
            last_offsets: Vec::new(),
        };
        for (user, bitmap) in bitmaps {
            let Some(last) = bitmap.last_offset else {
                continue;
            };
            columns.users.push(user);
            for (column, word) in columns.words.iter_mut().zip(bitmap.words) {
                column.push(word as i64);
            }
            columns.last_offsets.push(last);
        }
        columns
    }
}

/// Writes the computed bitmaps where they differ from the stored ones; users
/// without any activity get an empty bitmap. Returns the rows written.
async fn write_bitmaps(tx: &mut PgConnection, computed: &Columns) -> Result<u64, sqlx::Error> {
    let params: Vec<String> = (0..WORDS).map(|w| format!("${}::int8[]", w + 2)).collect();
    let names: Vec<String> = (0..WORDS).map(|w| format!("w{w}")).collect();
    let bits = names
        .iter()
        .map(|n| format!("t.{n}::bit(64)"))
        .collect::<Vec<_>>()
        .join(" || ");
    let sql = format!(
        "UPDATE metrics.user_cohorts uc
         SET active_days = n.bits, last_active_day = n.last_day
         FROM (
             SELECT c.user_id,
                    coalesce(({bits})::bit({WINDOW_DAYS}), B'0'::bit({WINDOW_DAYS})) AS bits,
                    c.cohort_day + t.last_off AS last_day
             FROM metrics.user_cohorts c
             LEFT JOIN unnest($1::text[], {params}, ${last}::int4[])
                 AS t(user_id, {names}, last_off) USING (user_id)
         ) n
         WHERE uc.user_id = n.user_id
           AND (uc.active_days, uc.last_active_day) IS DISTINCT FROM (n.bits, n.last_day)",
        params = params.join(", "),
        names = names.join(", "),
        last = WORDS + 2,
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&computed.users);
    for column in &computed.words {
        query = query.bind(column);
    }
    Ok(query
        .bind(&computed.last_offsets)
        .execute(&mut *tx)
        .await?
        .rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The absolute word and bit of `day`, as the statement computes them.
    fn word_of(day: i32) -> (i32, u64) {
        (day >> 6, 1u64 << (63 - (day & 63)))
    }

    fn offsets(bitmap: &Bitmap) -> Vec<i64> {
        (0..i64::from(WINDOW_DAYS))
            .filter(|&o| bitmap.words[(o / 64) as usize] & (1 << (63 - o % 64)) != 0)
            .collect()
    }

    #[test]
    fn days_move_to_their_offset_from_the_cohort_day() {
        let cohort = 100;
        let mut bitmap = Bitmap::new(cohort);
        for day in [100, 101, 163, 164, 400, 515] {
            let (word, bits) = word_of(day);
            bitmap.add_word(word, bits, day);
        }
        assert_eq!(offsets(&bitmap), vec![0, 1, 63, 64, 300, 415]);
        assert_eq!(bitmap.last_offset, Some(415));
    }

    #[test]
    fn days_before_the_cohort_and_past_the_window() {
        let mut bitmap = Bitmap::new(70);
        // One word holding days 64..=127: 65 is before the cohort day.
        let (word, low) = word_of(65);
        let (_, high) = word_of(90);
        bitmap.add_word(word, low | high, 90);
        // Past the window: not a bit, but the latest offset.
        let (word, bits) = word_of(70 + 500);
        bitmap.add_word(word, bits, 570);
        assert_eq!(offsets(&bitmap), vec![20]);
        assert_eq!(bitmap.last_offset, Some(500));
    }

    #[test]
    fn only_days_before_the_cohort_leave_no_activity() {
        let mut bitmap = Bitmap::new(10);
        let (word, bits) = word_of(9);
        bitmap.add_word(word, bits, 9);
        assert_eq!(offsets(&bitmap), Vec::<i64>::new());
        assert_eq!(bitmap.last_offset, None);
        let columns = Columns::from(HashMap::from([("u".to_owned(), bitmap)]));
        assert!(columns.users.is_empty());
    }

    #[test]
    fn days_before_the_epoch_round_down() {
        let mut bitmap = Bitmap::new(-70);
        for day in [-70, -65, -64, -1, 0] {
            let (word, bits) = word_of(day);
            bitmap.add_word(word, bits, day);
        }
        assert_eq!(offsets(&bitmap), vec![0, 5, 6, 69, 70]);
        assert_eq!(bitmap.last_offset, Some(70));
    }
}
