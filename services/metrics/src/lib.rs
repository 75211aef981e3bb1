//! The metrics service: users, activity events and payments, the revenue
//! audit against Stripe and the Stripe webhook, cohorts and retention, and
//! MRR, movements and churn from the subscription history (growth insights
//! are planned work).
//!
//! Layers: [`grpc`] forwards each RPC in one line to [`api`], which parses
//! the request into [`domain`] types (validated once, every violation
//! reported), calls the pure algorithms ([`audit`], [`cohorts`],
//! [`revenue`]) and [`repo`] (all SQL and the advisory locks), and builds
//! the reply; [`state`] is what they share, [`reporting`] the service's one
//! time zone and activity definition, [`error`] the one error table.
//! [`dashboard`] serves the same `api` functions to browsers.

pub mod active;
pub mod alerts;
pub mod api;
pub mod app;
pub mod audit;
pub mod cohorts;
pub mod config;
pub mod dashboard;
pub mod domain;
pub mod error;
pub mod grpc;
pub mod insights;
pub mod lifecycle;
pub mod repo;
pub mod reporting;
pub mod revenue;
pub mod state;
pub mod stripe;
pub mod watch;
pub mod webhook;

pub use app::{migrator, spec, start, start_with};
