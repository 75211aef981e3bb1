//! `metrics.events` writes, and the feed's ordering guarantee.
//!
//! Feed positions (`sequence`) must become visible in increasing order, or a
//! consumer that has read position 11 would never see a 10 committed after
//! it. So every insert into `metrics.events` draws its positions while
//! holding [`FEED_LOCK`] (a transaction-scoped advisory lock) and keeps it
//! until commit: positions are then assigned in commit order. Any future
//! writer of `metrics.events` must do the same.

use sqlx::PgPool;

use crate::cohorts::rollup::per_user_sql;
use crate::cohorts::settings::RollupSettings;
use crate::domain::NewEvent;
use crate::domain::event::unknown_user_violations;
use crate::error::MetricsError;

/// Advisory lock key serialising the insert-and-commit step of event writes.
pub const FEED_LOCK: i64 = 0x6d65_7472_6963_7301; // "metrics" + 1
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
/// Events whose id is already stored are skipped. The activity rollup of the
/// events' users is updated in the same statement (stamped with the batch's
/// feed position, which is how a refresh finds what changed); a re-sent batch
/// inserts nothing and so changes nothing.
#[tracing::instrument(skip_all, fields(rows = events.len()))]
pub async fn track(
    pool: &PgPool,
    rollup: &RollupSettings,
    events: &[NewEvent],
) -> Result<TrackOutcome, MetricsError> {
    let columns = Columns::of(events);

    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(FEED_LOCK)
        .execute(&mut *tx)
        .await?;
    // No other transaction inserts events while we hold the lock, so the
    // batch is first inserted as it is, inside a savepoint: new events of
    // known users, the common case, then cost one index descent each, as in
    // a COPY. Only when that trips over a stored id (a re-sent batch) is it
    // rolled back and inserted again skipping the stored ids; an unknown user
    // rolls it back and is reported.
    let mut skip_stored = false;
    let (inserted, last_sequence) = loop {
        let mut attempt = sqlx::Connection::begin(&mut *tx).await?;
        match insert(&mut attempt, rollup, &columns, skip_stored).await {
            Ok(done) => {
                attempt.commit().await?;
                break done;
            }
            Err(sqlx::Error::Database(e))
                if !skip_stored && e.constraint() == Some("events_pkey") =>
            {
                attempt.rollback().await?;
                skip_stored = true;
            }
            Err(sqlx::Error::Database(e)) if e.constraint() == Some("events_user_id_fkey") => {
                attempt.rollback().await?;
                let mut users: Vec<String> =
                    columns.users.iter().map(|u| (*u).to_owned()).collect();
                users.sort_unstable();
                users.dedup();
                let unknown = super::unknown_users(&mut tx, users).await?;
                if unknown.is_empty() {
                    return Err(sqlx::Error::Database(e).into());
                }
                return Err(MetricsError::Invalid(unknown_user_violations(
                    events, &unknown,
                )));
            }
            Err(e) => return Err(e.into()),
        }
    };
    if inserted > 0 {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(FEED_CHANNEL)
            .bind(last_sequence.to_string())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    let inserted = u32::try_from(inserted).unwrap_or(u32::MAX);
    Ok(TrackOutcome {
        inserted,
        duplicates: u32::try_from(events.len()).unwrap_or(u32::MAX) - inserted,
        last_sequence,
    })
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

/// Inserts the batch in input order and updates the rollup of its users, in
/// one statement; with `skip_stored`, events whose id is stored are left out
/// (without it a stored id fails the statement). Returns (inserted, highest
/// position).
async fn insert(
    conn: &mut sqlx::PgConnection,
    rollup: &RollupSettings,
    c: &Columns<'_>,
    skip_stored: bool,
) -> Result<(i64, i64), sqlx::Error> {
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
    let sql = format!(
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
         ), {per_user}, rolled AS (
             UPDATE metrics.user_cohorts uc
             SET active_days = uc.active_days | coalesce(p.bits, B'0'::bit(416)),
                 last_active_day = GREATEST(uc.last_active_day, uc.cohort_day + p.last_off),
                 changed_seq = p.seq
             FROM per_user p
             WHERE uc.user_id = p.user_id
               AND ((uc.active_days | coalesce(p.bits, B'0'::bit(416))) <> uc.active_days
                    OR uc.last_active_day IS NULL
                    OR uc.cohort_day + p.last_off > uc.last_active_day)
         )
         SELECT count(*), coalesce(max(sequence), 0) FROM written",
        per_user = per_user_sql("written", "$6", "$7")
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(&c.ids)
        .bind(&c.users)
        .bind(&c.names)
        .bind(&c.times)
        .bind(&c.properties)
        .bind(&rollup.time_zone)
        .bind(&rollup.activity_events)
        .fetch_one(&mut *conn)
        .await
}
