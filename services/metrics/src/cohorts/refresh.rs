//! `RefreshCohorts`: recompute stored retention cells (users and revenue),
//! incrementally (the cohorts with rollup, membership or payment changes
//! past the feed position the last refresh of that granularity covered) or
//! fully,
//! in one transaction under an advisory lock so that two refreshes never
//! interleave (the second waits, then finds less to do). A dry run does all
//! of it and rolls back.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use sqlx::PgPool;

use super::matrix::Matrices;
use super::period::Period;
use super::revenue;
use super::store::{self, Targets};

/// Serialises refreshes (and nothing else).
pub const REFRESH_LOCK: i64 = 0x6d65_7472_6963_7302; // "metrics" + 2

/// A validated refresh request.
#[derive(Debug, Clone)]
pub struct Refresh {
    /// Granularities to write.
    pub periods: Vec<Period>,
    /// Only cohorts starting in this inclusive range.
    pub from: Option<NaiveDate>,
    /// See `from`.
    pub to: Option<NaiveDate>,
    /// Every cohort in range, not only dirty ones.
    pub full: bool,
    /// Roll back at the end.
    pub dry_run: bool,
    /// The reporting time zone (revenue days are cut in it).
    pub time_zone: String,
}

/// What a refresh did (or would do).
#[derive(Debug, Clone, Default)]
pub struct Refreshed {
    /// Cohorts recomputed (over all granularities written).
    pub cohorts: u64,
    /// Cells inserted, changed or deleted.
    pub cells_written: u64,
    /// Cells recomputed with an unchanged value.
    pub cells_unchanged: u64,
    /// Wall time.
    pub duration: Duration,
}

fn in_range(r: &Refresh, cohort: NaiveDate) -> bool {
    r.from.is_none_or(|f| cohort >= f) && r.to.is_none_or(|t| cohort <= t)
}

/// Every day of the target cohorts' first periods (whose users they are).
fn days_of(targets: &Targets) -> Vec<NaiveDate> {
    let mut days = BTreeSet::new();
    for (period, cohorts) in targets {
        for start in cohorts {
            let end = period.nth_start(*start, 1);
            days.extend(start.iter_days().take_while(|d| *d < end));
        }
    }
    days.into_iter().collect()
}

/// Runs `r`.
#[tracing::instrument(skip_all, fields(full = r.full, dry_run = r.dry_run))]
pub async fn refresh(pool: &PgPool, r: &Refresh) -> Result<Refreshed, sqlx::Error> {
    let started = Instant::now();
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(REFRESH_LOCK)
        .execute(&mut *tx)
        .await?;
    let marks: Vec<(String, i64)> =
        sqlx::query_as("SELECT period_type, refreshed_seq FROM metrics.retention_refreshes")
            .fetch_all(&mut *tx)
            .await?;
    let mark = |p: Period| {
        marks
            .iter()
            .find(|(t, _)| t == p.name())
            .map_or(0, |(_, m)| *m)
    };

    // One read of the users (one snapshot) gives the data and the change
    // positions it covers. Other changes (a cohort a user left, payments)
    // are marked in metrics.cohort_changes. Every position is drawn under
    // the feed lock, held to commit, so whatever this snapshot sees up to its
    // highest position is all there is below it.
    let loaded = if r.full {
        // A cohort starting in range has users from its start to at most a
        // month later.
        store::load(&mut tx, r.from, r.to.map(|t| t + chrono::Days::new(31))).await?
    } else {
        store::load(&mut tx, None, None).await?
    };
    let high = loaded.high;
    let lowest = r.periods.iter().map(|p| mark(*p)).min().unwrap_or(0);
    let marked: Vec<(NaiveDate, i64)> = sqlx::query_as(
        "SELECT cohort_day, changed_seq FROM metrics.cohort_changes WHERE changed_seq > $1",
    )
    .bind(lowest)
    .fetch_all(&mut *tx)
    .await?;
    let high = marked.iter().map(|(_, s)| *s).fold(high, i64::max);

    let mut targets: Targets = if r.full {
        let stored: Vec<(String, NaiveDate)> = sqlx::query_as(
            "SELECT DISTINCT period_type, cohort_date FROM metrics.retention_rows
             WHERE ($1::date IS NULL OR cohort_date >= $1) AND ($2::date IS NULL OR cohort_date <= $2)",
        )
        .bind(r.from)
        .bind(r.to)
        .fetch_all(&mut *tx)
        .await?;
        r.periods
            .iter()
            .map(|p| {
                let stale = stored
                    .iter()
                    .filter(|(t, _)| t == p.name())
                    .map(|(_, c)| *c);
                (*p, stale.collect::<BTreeSet<_>>())
            })
            .collect()
    } else {
        let changed: Vec<(NaiveDate, i64)> = loaded
            .changed
            .iter()
            .map(|(d, s)| (*d, *s))
            .chain(marked.iter().copied())
            .collect();
        r.periods
            .iter()
            .map(|p| {
                let cohorts = changed
                    .iter()
                    .filter(|(_, seq)| *seq > mark(*p))
                    .map(|(d, _)| p.start_of(*d))
                    .filter(|c| in_range(r, *c))
                    .collect();
                (*p, cohorts)
            })
            .collect()
    };

    let matrices = Matrices::compute(&loaded.users);
    if r.full {
        for (period, wanted) in &mut targets {
            if let Some(computed) = matrices.by_period.get(period) {
                wanted.extend(computed.keys().copied().filter(|c| in_range(r, *c)));
            }
        }
    }
    let cohorts = targets.iter().map(|(_, c)| c.len() as u64).sum();
    let (mut cells_written, mut cells_unchanged) =
        store::write(&mut tx, &matrices, &targets).await?;

    let unbounded = r.from.is_none() && r.to.is_none();
    let days = (!(r.full && unbounded)).then(|| days_of(&targets));
    let flows = revenue::load(&mut tx, &r.time_zone, days.as_deref(), None).await?;
    let cells = revenue::compute(&flows, &r.periods);
    let (written, unchanged) = revenue::write(&mut tx, &cells, &targets).await?;
    cells_written += written;
    cells_unchanged += unchanged;

    // A refresh of every cohort in a granularity has covered the changes
    // up to `high` for it; a range-limited one has not.
    let names: Vec<&str> = r.periods.iter().map(|p| p.name()).collect();
    sqlx::query(
        "INSERT INTO metrics.retention_refreshes AS rr (period_type, refreshed_at, refreshed_seq)
         SELECT unnest($1::text[]), now(), CASE WHEN $3 THEN $2 ELSE 0 END
         ON CONFLICT (period_type) DO UPDATE SET refreshed_at = excluded.refreshed_at,
             refreshed_seq = CASE WHEN $3 THEN $2 ELSE rr.refreshed_seq END",
    )
    .bind(&names)
    .bind(high)
    .bind(unbounded)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "DELETE FROM metrics.cohort_changes
         WHERE changed_seq <= (SELECT min(refreshed_seq) FROM metrics.retention_refreshes)
           AND (SELECT count(*) FROM metrics.retention_refreshes) = 3",
    )
    .execute(&mut *tx)
    .await?;
    if r.dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    Ok(Refreshed {
        cohorts,
        cells_written,
        cells_unchanged,
        duration: started.elapsed(),
    })
}
