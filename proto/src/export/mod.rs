//! Reports as files: the one writer of each export format, shared by
//! growthctl (`cohorts show --output csv|json`) and the metrics service's
//! dashboard (`?format=csv|json`), so both give the same bytes for the same
//! answer. Pure: a wire response in, text out.

pub mod matrix;
pub mod names;
