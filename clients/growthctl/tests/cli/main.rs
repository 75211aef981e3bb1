//! The `growthctl` binary as a user runs it, against the real services
//! started in-process on 127.0.0.1:0 with a fresh database per test.

mod audit;
mod cohort_value;
mod cohorts;
mod cohorts_revenue;
mod commands;
mod helpers;
mod insights;
mod lifecycle;
mod resend;
mod revenue;
mod stripe;
mod subscriptions;
