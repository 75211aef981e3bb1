//! The revenue audit: does the database agree with Stripe for a month?
//!
//! [`reconcile`] is the pure engine; [`drift`] (entitlements), [`stale`]
//! (money states) and [`missed`] (the Stripe events the webhook never
//! recorded, which a repair replays) add findings beside it; [`verdict`]
//! turns the findings into PASS / WARNING / FAIL and recommendations;
//! [`settings`] holds what the drift and stale checks are configured with.

pub mod drift;
pub mod entitlements;
pub mod findings;
pub mod missed;
pub mod missed_report;
pub mod model;
pub mod month;
pub mod phases;
pub mod reconcile;
pub mod record;
pub mod refunds;
pub mod repair;
pub mod repair_summary;
pub mod report;
pub mod run;
pub mod settings;
pub mod stale;
pub mod verdict;

#[cfg(test)]
mod tests;
