//! Cohorts and retention: the per-user activity rollup kept at ingest
//! (`rollup`, with what ingest appends folded in by `fold`) and rebuilt from
//! the raw events (`rebuild`), calendar periods (`period`), the one-pass
//! matrix computation (`matrix`), revenue cells from payments and refunds (`revenue`), storing
//! and refreshing cells (`store`, `refresh`), and reading them (`read`,
//! `overview`, `breakdown` for segments computed at read time, `wire`). `api` turns wire requests into these. docs/METRICS.md has
//! the definitions and the reasons.

pub mod api;
pub mod breakdown;
pub mod fold;
pub mod matrix;
pub mod overview;
pub mod period;
pub mod phases;
pub mod read;
pub mod rebuild;
pub mod refresh;
pub mod revenue;
pub mod rollup;
pub mod settings;
pub mod store;
pub mod wire;

use std::sync::Arc;

use sqlx::PgPool;

use settings::RollupSettings;

/// The cohort side of the metrics service.
#[derive(Clone)]
pub struct CohortService {
    pool: PgPool,
    settings: Arc<RollupSettings>,
}

impl CohortService {
    /// Over `pool`, with the rollup's `settings` (already ensured).
    pub fn new(pool: PgPool, settings: RollupSettings) -> Self {
        Self {
            pool,
            settings: Arc::new(settings),
        }
    }

    /// The rollup's settings, which ingest maintains it with.
    pub fn settings(&self) -> &RollupSettings {
        &self.settings
    }

    /// The pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}
