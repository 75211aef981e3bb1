//! Cohorts and retention, without SQL: the per-user activity rollup's
//! window and settings check (`rollup`), the background fold (`fold`), a
//! bitmap rebuilt from event words (`bitmap`), calendar periods and cohort
//! ranges (`period`), the one-pass matrix computation (`matrix`), what a
//! matrix counts and how (`measure`), revenue cells from payments and
//! refunds (`revenue`), the refresh's plan (`refresh`), rows as shown
//! (`read`, `overview`), segments computed at read time (`breakdown`), and
//! cohort value: LTV curves (`value`) projected with the chain-ladder
//! (`ladder`).
//! Their SQL is in `crate::repo::cohorts`; `crate::api::cohorts` turns wire
//! requests into these. docs/METRICS.md has the definitions and the reasons.

pub mod bitmap;
pub mod breakdown;
pub mod fold;
pub mod ladder;
pub mod matrix;
pub mod measure;
pub mod overview;
pub mod period;
pub mod phases;
pub mod read;
pub mod refresh;
pub mod revenue;
pub mod rollup;
pub mod value;
