//! `metrics.events` writes, and the feed's ordering guarantee.
//!
//! Feed positions (`sequence`) must become visible in increasing order, or a
//! consumer that has read position 11 would never see a 10 committed after
//! it. So every insert into `metrics.events` draws its positions while
//! holding [`FEED_LOCK`] (a transaction-scoped advisory lock) and keeps it
//! until commit: positions are then assigned in commit order. Any future
//! writer of `metrics.events` must do the same.

use std::sync::LazyLock;

use sqlx::PgPool;

use super::locks::FEED_LOCK;
use crate::domain::NewEvent;
use crate::domain::event::unknown_user_violations;
use crate::error::MetricsError;
use crate::reporting::Settings;

/// The NOTIFY channel that announces new feed positions.
pub const FEED_CHANNEL: &str = "metrics_events";

/// What a `TrackEvents` batch stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackOutcome {
    /// Events newly stored.
    pub inserted: u32,
    /// Events whose id was already stored.
    pub duplicates: u32,
    /// Highest position assigned (0 when none).
    pub last_sequence: i64,
}

/// Stores a validated batch: all of it or, when a user is unknown, none
/// (and every row naming an unknown user is reported).
/// Events whose id is already stored are skipped. The same statement appends
/// the batch's activity (per user of its newly stored, counted events, the
/// distinct local days, with the batch's highest feed position) to
/// `metrics.activity_pending`, which `cohorts::fold` merges into the users'
/// bitmaps; a re-sent batch inserts nothing and so changes nothing.
#[tracing::instrument(skip_all, fields(rows = events.len()))]
pub async fn track(
    pool: &PgPool,
    rollup: &Settings,
    events: &[NewEvent],
) -> Result<TrackOutcome, MetricsError> {
    let columns = Columns::of(events);
    // No other transaction inserts events while we hold the lock, so the
    // batch is first inserted as it is: new events of known users, the common
    // case, then cost one index descent each, as in a COPY. Only when that
    // trips over a stored id (a re-sent batch) is the transaction rolled back
    // and the batch inserted again skipping the stored ids; an unknown user
    // rolls it back and is reported. Three round trips: BEGIN with the lock,
    // the statement (which also notifies), COMMIT. The statement runs its
    // generic plan (planned once per connection), which is right for any
    // batch: it has no join that the batch's size could change, and planning
    // each batch cost half a millisecond when that was measured.
    let mut skip_stored = false;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let mut tx = pool.begin_with(BEGIN.as_str()).await?;
        match insert(&mut tx, rollup, &columns, skip_stored).await {
            Ok((inserted, last_sequence)) => {
                tx.commit().await?;
                let inserted = u32::try_from(inserted).unwrap_or(u32::MAX);
                return Ok(TrackOutcome {
                    inserted,
                    duplicates: u32::try_from(events.len()).unwrap_or(u32::MAX) - inserted,
                    last_sequence,
                });
            }
            Err(sqlx::Error::Database(e))
                if !skip_stored && e.constraint() == Some("events_pkey") =>
            {
                tx.rollback().await?;
                skip_stored = true;
            }
            Err(sqlx::Error::Database(e)) if e.constraint() == Some("events_user_id_fkey") => {
                tx.rollback().await?;
                let mut users: Vec<String> =
                    columns.users.iter().map(|u| (*u).to_owned()).collect();
                users.sort_unstable();
                users.dedup();
                let mut conn = pool.acquire().await?;
                let unknown = super::unknown_users(&mut conn, users).await?;
                if !unknown.is_empty() {
                    return Err(MetricsError::Invalid(unknown_user_violations(
                        events, &unknown,
                    )));
                }
                // The users were upserted meanwhile: try again.
                if attempts >= 3 {
                    return Err(sqlx::Error::Database(e).into());
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// A batch as one array per column.
struct Columns<'a> {
    ids: Vec<&'a str>,
    users: Vec<&'a str>,
    names: Vec<&'a str>,
    times: Vec<chrono::DateTime<chrono::Utc>>,
    properties: Vec<&'a str>,
}

impl<'a> Columns<'a> {
    fn of(events: &'a [NewEvent]) -> Self {
        let mut c = Columns {
            ids: Vec::with_capacity(events.len()),
            users: Vec::with_capacity(events.len()),
            names: Vec::with_capacity(events.len()),
            times: Vec::with_capacity(events.len()),
            properties: Vec::with_capacity(events.len()),
        };
        for e in events {
            c.ids.push(e.event_id.as_str());
            c.users.push(e.user_id.as_str());
            c.names.push(e.name.as_str());
            c.times.push(e.occurred_at);
            c.properties.push(e.properties.as_str());
        }
        c
    }
}

/// `BEGIN` under the feed lock, with the insert's generic plan (see [`track`]).
static BEGIN: LazyLock<String> = LazyLock::new(|| {
    format!(
        "BEGIN; SET LOCAL plan_cache_mode = force_generic_plan; SELECT pg_advisory_xact_lock({FEED_LOCK})"
    )
});

/// The insert statement, as is and skipping stored ids; built once.
static INSERT: LazyLock<[String; 2]> = LazyLock::new(|| [statement(false), statement(true)]);

fn statement(skip_stored: bool) -> String {
    // The LATERAL ... LIMIT 1 form pins the plan to one index probe per row:
    // as a plain anti-join the planner, seeing 1,000 input rows, picks a hash
    // join over a full scan of metrics.events.
    let skip = if skip_stored {
        "LEFT JOIN LATERAL (
             SELECT true AS stored FROM metrics.events e
             WHERE e.event_id = input.event_id LIMIT 1
         ) existing ON true
         WHERE existing.stored IS NULL"
    } else {
        ""
    };
    format!(
        "WITH input AS (
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[])
                 WITH ORDINALITY AS t(event_id, user_id, name, occurred_at, properties, n)
         ), written AS (
             INSERT INTO metrics.events (event_id, user_id, name, occurred_at, properties)
             SELECT event_id, user_id, name, occurred_at, properties::jsonb
             FROM input
             {skip}
             ORDER BY n
             RETURNING sequence, user_id, name, occurred_at
         ), counted AS (
             SELECT DISTINCT user_id, (occurred_at AT TIME ZONE $6)::date AS day
             FROM written
             WHERE $7::text[] IS NULL OR name = ANY($7)
         ), pending AS (
             INSERT INTO metrics.activity_pending (user_id, days, seq)
             SELECT user_id, array_agg(day), (SELECT max(sequence) FROM written)
             FROM counted GROUP BY user_id
         )
         SELECT count(*), coalesce(max(sequence), 0),
                CASE WHEN count(*) > 0 THEN pg_notify($8, max(sequence)::text)::text END
         FROM written",
    )
}

/// Inserts the batch in input order, appends its activity to the pending
/// rollup rows and announces the new positions on [`FEED_CHANNEL`], in one
/// statement; with `skip_stored`, events whose id is stored are left out
/// (without it a stored id fails the statement). Returns (inserted, highest
/// position).
async fn insert(
    conn: &mut sqlx::PgConnection,
    rollup: &Settings,
    c: &Columns<'_>,
    skip_stored: bool,
) -> Result<(i64, i64), sqlx::Error> {
    let sql = INSERT[usize::from(skip_stored)].as_str();
    let (inserted, last_sequence, _notified): (i64, i64, Option<String>) = sqlx::query_as(sql)
        .bind(&c.ids)
        .bind(&c.users)
        .bind(&c.names)
        .bind(&c.times)
        .bind(&c.properties)
        .bind(&rollup.time_zone)
        .bind(&rollup.activity_events)
        .bind(FEED_CHANNEL)
        .fetch_one(&mut *conn)
        .await?;
    Ok((inserted, last_sequence))
}
