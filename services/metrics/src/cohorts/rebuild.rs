//! Rebuilding the whole activity rollup (`metrics.user_cohorts`) from the raw
//! events, after a change of time zone or activity definition, or on request.
//!
//! PostgreSQL runs no parallel workers for a statement that writes, so the
//! bitmaps are computed from one parallel `SELECT` and written by a second
//! statement. The `SELECT` groups the events by user and absolute 64-day word
//! (no join to the cohorts: that join cost more than the extra groups); the
//! bits are moved to each user's cohort-relative bitmap here, compared with
//! the stored one, and only the users that differ are written.

use std::collections::HashMap;

use futures::TryStreamExt as _;
use sqlx::{PgConnection, PgPool, Row as _};

use super::fold::{MARK, MARK_CONFLICT};
use super::matrix::BITMAP_BYTES;
use super::phases::Phases;
use super::rollup::WINDOW_DAYS;
use super::store;
use crate::repo::locks;
use crate::reporting::Settings;

/// Words of a bitmap: `WINDOW_DAYS` bits in 64-bit words, most significant
/// bit first (bit 0 of the bitmap = the top bit of word 0).
const WORDS: usize = (WINDOW_DAYS as usize).div_ceil(64);

/// Rebuilds the whole rollup from the raw events with `settings`, records
/// them, and marks every cohort dirty; one transaction, under the feed lock
/// (ingest waits) and the fold lock. What is pending is discarded: every
/// event it came from is committed (under the feed lock, no batch is in
/// flight) and read here, with the activity definition of `settings`,
/// which pending rows may not have been made with. Returns the users whose
/// row changed, so a rebuild that confirms the rollup writes nothing.
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
    add_event_words(&mut tx, settings, &mut users).await?;
    phases.mark("events");
    let days: Vec<i32> = users
        .values()
        .map(|b| b.cohort_day)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let columns = Columns::from(users);
    phases.mark("columns");
    let changed = write_bitmaps(&mut tx, &columns).await?;
    phases.mark("write");
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

/// One user's bitmap being assembled: the cohort day and, from the events,
/// the active days after it and the latest offset; and what is stored, to
/// write only what differs.
#[derive(Debug, Clone, PartialEq)]
struct Bitmap {
    cohort_day: i32,
    words: [u64; WORDS],
    last_offset: Option<i32>,
    stored: ([u8; BITMAP_BYTES], Option<i32>),
}

impl Bitmap {
    /// An empty bitmap for `cohort_day`, with the stored bits and latest
    /// offset.
    fn new(cohort_day: i32, stored: ([u8; BITMAP_BYTES], Option<i32>)) -> Self {
        Self {
            cohort_day,
            words: [0; WORDS],
            last_offset: None,
            stored,
        }
    }

    /// The bitmap in its stored layout (bit 0 = top bit of byte 0).
    fn bytes(&self) -> [u8; BITMAP_BYTES] {
        let mut bytes = [0; BITMAP_BYTES];
        for (chunk, word) in bytes.chunks_mut(8).zip(self.words) {
            chunk.copy_from_slice(&word.to_be_bytes()[..chunk.len()]);
        }
        bytes
    }

    /// Whether the computed bitmap differs from the stored one.
    fn changed(&self) -> bool {
        (self.bytes(), self.last_offset) != self.stored
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

/// Every user's cohort day and stored bitmap, with an empty bitmap to fill.
async fn cohort_days(tx: &mut PgConnection) -> Result<HashMap<String, Bitmap>, sqlx::Error> {
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
        users.insert(row.try_get(0)?, Bitmap::new(row.try_get(1)?, stored));
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
    settings: &Settings,
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

/// The users whose computed bitmap differs from the stored one, as
/// bind-ready columns: ids, one column per word, latest offsets (NULL: no
/// activity on or after the cohort day).
struct Columns {
    users: Vec<String>,
    words: [Vec<i64>; WORDS],
    last_offsets: Vec<Option<i32>>,
}

impl From<HashMap<String, Bitmap>> for Columns {
    fn from(bitmaps: HashMap<String, Bitmap>) -> Self {
        let mut columns = Columns {
            users: Vec::new(),
            words: Default::default(),
            last_offsets: Vec::new(),
        };
        for (user, bitmap) in bitmaps {
            if !bitmap.changed() {
                continue;
            }
            columns.users.push(user);
            for (column, word) in columns.words.iter_mut().zip(bitmap.words) {
                column.push(word as i64);
            }
            columns.last_offsets.push(bitmap.last_offset);
        }
        columns
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Nothing stored: an empty bitmap, no latest day.
    const NONE: ([u8; BITMAP_BYTES], Option<i32>) = ([0; BITMAP_BYTES], None);

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
        let mut bitmap = Bitmap::new(cohort, NONE);
        for day in [100, 101, 163, 164, 400, 515] {
            let (word, bits) = word_of(day);
            bitmap.add_word(word, bits, day);
        }
        assert_eq!(offsets(&bitmap), vec![0, 1, 63, 64, 300, 415]);
        assert_eq!(bitmap.last_offset, Some(415));
    }

    #[test]
    fn days_before_the_cohort_and_past_the_window() {
        let mut bitmap = Bitmap::new(70, NONE);
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
        let mut bitmap = Bitmap::new(10, NONE);
        let (word, bits) = word_of(9);
        bitmap.add_word(word, bits, 9);
        assert_eq!(offsets(&bitmap), Vec::<i64>::new());
        assert_eq!(bitmap.last_offset, None);
        let columns = Columns::from(HashMap::from([("u".to_owned(), bitmap)]));
        assert!(columns.users.is_empty());
    }

    #[test]
    fn days_before_the_epoch_round_down() {
        let mut bitmap = Bitmap::new(-70, NONE);
        for day in [-70, -65, -64, -1, 0] {
            let (word, bits) = word_of(day);
            bitmap.add_word(word, bits, day);
        }
        assert_eq!(offsets(&bitmap), vec![0, 5, 6, 69, 70]);
        assert_eq!(bitmap.last_offset, Some(70));
    }

    #[test]
    fn bytes_are_the_stored_layout_and_only_changes_are_written() {
        let mut bitmap = Bitmap::new(0, NONE);
        for day in [0, 9, 415] {
            let (word, bits) = word_of(day);
            bitmap.add_word(word, bits, day);
        }
        let mut expected = [0u8; BITMAP_BYTES];
        expected[0] = 0b1000_0000;
        expected[1] = 0b0100_0000;
        expected[51] = 0b0000_0001;
        assert_eq!(bitmap.bytes(), expected);
        assert!(bitmap.changed());

        // Events that confirm the stored bitmap write nothing.
        let mut confirmed = Bitmap::new(0, (expected, Some(415)));
        for day in [0, 9, 415] {
            let (word, bits) = word_of(day);
            confirmed.add_word(word, bits, day);
        }
        // A stored bitmap that no event supports any more is cleared.
        let stale = Bitmap::new(0, (expected, Some(415)));
        let columns = Columns::from(HashMap::from([
            ("confirmed".to_owned(), confirmed),
            ("stale".to_owned(), stale),
        ]));
        assert_eq!(columns.users, vec!["stale".to_owned()]);
        assert_eq!(columns.last_offsets, vec![None]);
        assert!(columns.words.iter().all(|w| w == &vec![0]));
    }
}
