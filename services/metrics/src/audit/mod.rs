//! The revenue audit: does the database agree with Stripe for a month?
//!
//! [`reconcile`] is the pure engine; [`verdict`] turns its findings into
//! PASS / WARNING / FAIL and recommendations; [`missed`] finds (and a
//! repair replays) the Stripe events the webhook never recorded.

pub mod findings;
pub mod missed;
pub mod missed_report;
pub mod model;
pub mod month;
pub mod reconcile;
pub mod repair_summary;
pub mod report;
pub mod run;
pub mod verdict;

#[cfg(test)]
mod tests;
