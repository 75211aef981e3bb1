//! `RefreshCohorts`: recompute stored retention cells (users and revenue),
//! incrementally (the cohorts with rollup, membership or payment changes
//! past the feed position the last refresh of that granularity covered) or
//! fully,
//! in one transaction under an advisory lock so that two refreshes never
//! interleave (the second waits, then finds less to do). A dry run does all
//! of it and rolls back. Activity still pending is folded into the bitmaps
//! first, in a transaction of its own (a dry run too: that changes no
//! result, only where the activity is kept).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::NaiveDate;

use super::period::{Cohorts, Period};
use super::phases::Phases;
use super::revenue;
use crate::repo::cohorts::refreshes::{self, Change};
use crate::repo::cohorts::store::{self, Targets};
use crate::repo::cohorts::{fold, revenue as revenue_cells};
use crate::repo::{DbError, Pool, locks};

/// A validated refresh request.
#[derive(Debug, Clone)]
pub struct Refresh {
    /// Granularities to write.
    pub periods: Vec<Period>,
    /// Only cohorts starting in this range.
    pub cohorts: Cohorts,
    /// Every cohort in range, not only dirty ones.
    pub full: bool,
    /// Roll back at the end.
    pub dry_run: bool,
    /// The reporting time zone (revenue days are cut in it).
    pub time_zone: String,
    /// Recompute the user cells.
    pub users: bool,
    /// Recompute the revenue cells.
    pub revenue: bool,
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
pub async fn refresh(pool: &Pool, r: &Refresh) -> Result<Refreshed, DbError> {
    let started = Instant::now();
    fold::fold(pool).await?;
    let mut tx = pool.begin().await?;
    locks::hold(&mut tx, locks::REFRESH_LOCK).await?;
    let marks = refreshes::marks(&mut tx).await?;
    let mark = |p: Period| {
        marks
            .iter()
            .find(|(t, _)| t == p.name())
            .map_or(0, |(_, m)| *m)
    };

    // First the change positions past the lowest covered one, in one
    // statement (one snapshot): rollup rows (activity and membership) and
    // marks (payments, and the cohorts a moved user left and joined). Every
    // position is drawn under the feed lock, held to commit, so this snapshot
    // holds every change up to the highest position it sees; the users read
    // afterwards are at least that recent. Except for activity appended
    // after the fold above and not folded yet: the refresh claims the changes
    // only up to just before the lowest such position, so that the next one
    // covers them.
    let mut phases = Phases::default();
    phases.mark("start");
    let lowest = r.periods.iter().map(|p| mark(*p)).min().unwrap_or(0);
    let changes: Vec<Change> = refreshes::changes(&mut tx, lowest).await?;
    let seen = changes
        .iter()
        .flat_map(|(_, a, b, _)| [*a, *b])
        .flatten()
        .fold(lowest, i64::max);
    let high = match changes.first().and_then(|(_, _, _, pending)| *pending) {
        Some(pending) => seen.min(pending - 1),
        None => seen,
    };
    phases.mark("changes");

    // The cohorts of each granularity changed past its own position: by any
    // change for the user cells, by a mark for the revenue cells (activity
    // does not change revenue).
    let changed = |p: Period, marks_only: bool| -> BTreeSet<NaiveDate> {
        changes
            .iter()
            .filter(|(_, user, marked, _)| {
                marked.is_some_and(|s| s > mark(p))
                    || (!marks_only && user.is_some_and(|s| s > mark(p)))
            })
            .map(|(d, _, _, _)| p.start_of(*d))
            .filter(|c| r.cohorts.contains(*c))
            .collect()
    };
    let per_period = |cohorts: &dyn Fn(Period) -> BTreeSet<NaiveDate>| -> Targets {
        r.periods.iter().map(|p| (*p, cohorts(*p))).collect()
    };
    let none = || per_period(&|_| BTreeSet::new());
    // Incremental targets; a full refresh fills them in below from what is
    // stored and what is computed.
    let incremental = |wanted: bool, marks_only: bool| -> Targets {
        if wanted && !r.full {
            per_period(&|p| changed(p, marks_only))
        } else {
            none()
        }
    };
    let user_targets = incremental(r.users, false);
    let revenue_targets = incremental(r.revenue, true);
    let (from, to) = r.cohorts.member_days();
    let range = store::Scope::Range(from, to);

    // Payments are read on another connection while the users are read on
    // this one (both only read; the other snapshot is at least as recent as
    // the change positions').
    let revenue_days: Option<Option<Vec<NaiveDate>>> = if !r.revenue {
        None
    } else if r.full {
        Some(None)
    } else if revenue_targets.iter().any(|(_, c)| !c.is_empty()) {
        Some(Some(days_of(&revenue_targets)))
    } else {
        None
    };
    let flows = revenue_days.map(|days| {
        let (pool, zone) = (pool.clone(), r.time_zone.clone());
        let (from, to, _) = range.bounds();
        tokio::spawn(async move {
            let mut conn = pool.acquire().await?;
            let scope = days
                .as_deref()
                .map_or(store::Scope::Range(from, to), store::Scope::Days);
            revenue_cells::load(&mut conn, &zone, scope, None).await
        })
    });

    let loaded = if !r.users {
        None
    } else if r.full {
        Some(store::load(&mut tx, range).await?)
    } else {
        // Only the users of the changed cohorts are read.
        let days = days_of(&user_targets);
        Some(store::load(&mut tx, store::Scope::Days(&days)).await?)
    };
    phases.mark("load");
    let revenue_cells = match flows {
        Some(task) => {
            let flows = task
                .await
                .map_err(|e| DbError::Protocol(format!("revenue read task failed: {e}")))??;
            Some(revenue::compute(&flows, &r.periods))
        }
        None => None,
    };
    phases.mark("revenue_load");

    let (user_targets, revenue_targets) = if r.full {
        let stored = refreshes::stored(&mut tx, r.cohorts.from, r.cohorts.to).await?;
        // Every cohort in range stored or computed: a stored one no longer
        // computed is deleted.
        let all = |revenue: bool, computed: &dyn Fn(Period) -> Vec<NaiveDate>| -> Targets {
            per_period(&|p| {
                let stale = stored
                    .iter()
                    .filter(|(t, _, m)| t == p.name() && *m == revenue)
                    .map(|(_, c, _)| *c);
                let fresh = computed(p).into_iter().filter(|c| r.cohorts.contains(*c));
                stale.chain(fresh).collect()
            })
        };
        let users = loaded.as_ref().map_or_else(none, |l| {
            all(false, &|p| {
                l.matrices
                    .by_period
                    .get(&p)
                    .map(|m| m.keys().copied().collect())
                    .unwrap_or_default()
            })
        });
        let money = revenue_cells.as_ref().map_or_else(none, |cells| {
            all(true, &|p| {
                cells
                    .get(&p)
                    .map(|m| m.keys().copied().collect())
                    .unwrap_or_default()
            })
        });
        (users, money)
    } else {
        (user_targets, revenue_targets)
    };

    let (mut cells_written, mut cells_unchanged) = (0, 0);
    if let Some(loaded) = &loaded {
        (cells_written, cells_unchanged) =
            store::write(&mut tx, &loaded.matrices, &user_targets).await?;
    }
    phases.mark("write");
    if let Some(cells) = &revenue_cells {
        let (written, unchanged) = revenue_cells::write(&mut tx, cells, &revenue_targets).await?;
        cells_written += written;
        cells_unchanged += unchanged;
    }
    phases.mark("revenue_write");
    let cohorts = user_targets
        .iter()
        .chain(&revenue_targets)
        .flat_map(|(p, c)| c.iter().map(move |c| (*p, *c)))
        .collect::<BTreeSet<_>>()
        .len() as u64;
    tracing::debug!(
        phases = %phases,
        users = loaded.as_ref().map_or(0, |l| l.users),
        "refresh phases"
    );

    // A refresh of every cohort and both metrics in a granularity has
    // covered the changes up to `high` for it; a limited one has not.
    let unbounded = r.cohorts == Cohorts::default() && r.users && r.revenue;
    let names: Vec<&str> = r.periods.iter().map(|p| p.name()).collect();
    refreshes::record(&mut tx, &names, high, unbounded).await?;
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
