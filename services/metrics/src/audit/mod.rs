//! The revenue audit: does the database agree with Stripe for a month?
//!
//! [`reconcile`] is the pure engine; [`verdict`] turns its findings into
//! PASS / WARNING / FAIL and recommendations.

pub mod findings;
pub mod model;
pub mod month;
pub mod reconcile;
pub mod refunds;
pub mod report;
pub mod run;
pub mod verdict;

#[cfg(test)]
mod tests;
