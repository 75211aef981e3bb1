//! Cohorts and retention: the per-user activity rollup kept at ingest
//! (`rollup`, with what ingest appends folded in by `fold`) and rebuilt from
//! the raw events (`rebuild`), calendar periods (`period`), the one-pass
//! matrix computation (`matrix`), revenue cells from payments and refunds (`revenue`), storing
//! and refreshing cells (`store`, `refresh`), and reading them (`read`,
//! `overview`, `breakdown` for segments computed at read time); what a
//! matrix counts and how (`measure`). `crate::api::cohorts` turns wire
//! requests into these. docs/METRICS.md has the definitions and the reasons.

pub mod breakdown;
pub mod fold;
pub mod matrix;
pub mod measure;
pub mod overview;
pub mod period;
pub mod phases;
pub mod read;
pub mod rebuild;
pub mod refresh;
pub mod revenue;
pub mod rollup;
pub mod store;
