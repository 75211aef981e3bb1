//! The metrics service: users, activity events and payments, and (in later
//! work) the revenue audit, cohorts, retention and growth insights.
//!
//! Layers: [`grpc`] adapts the wire API onto [`domain`] types (validated once)
//! and [`repo`] (set-based SQL); [`error`] is the one error table.

pub mod alerts;
pub mod app;
pub mod audit;
pub mod cohorts;
pub mod config;
pub mod convert;
pub mod domain;
pub mod error;
pub mod grpc;
pub mod paging;
pub mod repo;
pub mod revenue;
pub mod stripe;
pub mod watch;
pub mod webhook;

pub use app::{migrator, spec, start, start_with};
