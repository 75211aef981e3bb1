//! The per-user activity rollup (`metrics.user_cohorts`): its window, and
//! making the stored rollup match the reporting settings before the service
//! serves. It is assigned at `UpsertUsers` (`crate::repo::cohorts::rollup`),
//! kept current from the activity `TrackEvents` appends in its own
//! transaction (see `repo::events` and `crate::repo::cohorts::fold`), and
//! rebuilt from the raw events (`crate::repo::cohorts::rebuild`) on request
//! or when the settings change. Every write marks the cohort days it touched
//! dirty.

use crate::repo::{DbError, Pool};
use crate::reporting::Settings;

/// Days the bitmap covers after the cohort day (bit i = cohort_day + i).
pub const WINDOW_DAYS: i32 = 416;

/// Makes the stored rollup match `settings` before the service serves. When
/// the database cannot be reached at start, the service starts anyway (it
/// answers UNAVAILABLE until the database is back) and the check is retried in
/// the background; a rebuild then fixes whatever ingest wrote meanwhile.
pub async fn ensure_at_start(pool: &Pool, settings: &Settings) -> anyhow::Result<()> {
    match ensure(pool, settings).await {
        Ok(()) => Ok(()),
        Err(e) if unreachable(&e) => {
            tracing::warn!(error = %e, "database unreachable at start; checking the activity rollup once it is back");
            let (pool, settings) = (pool.clone(), settings.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                    match ensure(&pool, &settings).await {
                        Ok(()) => return,
                        Err(e) if unreachable(&e) => continue,
                        Err(e) => {
                            tracing::error!(error = %format!("{e:#}"), "activity rollup check failed");
                            return;
                        }
                    }
                }
            });
            Ok(())
        }
        Err(e) => Err(e),
    }
}

fn unreachable(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<DbError>(),
        Some(DbError::PoolTimedOut | DbError::Io(_) | DbError::PoolClosed)
    )
}

/// Makes the stored rollup match `settings`, rebuilding it if needed.
pub async fn ensure(pool: &Pool, settings: &Settings) -> anyhow::Result<()> {
    let zone_known = crate::repo::reporting::zone_known(pool, &settings.time_zone).await?;
    settings.validate(zone_known)?;
    let stored = crate::repo::reporting::stored(pool).await?;
    if &stored != settings {
        tracing::warn!(from = ?stored, to = ?settings, "rollup settings changed: rebuilding the activity rollup from the raw events");
        let started = std::time::Instant::now();
        crate::repo::cohorts::rebuild::rebuild(pool, settings).await?;
        tracing::info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "activity rollup rebuilt"
        );
    }
    Ok(())
}
