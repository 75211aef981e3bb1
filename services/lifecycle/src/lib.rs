//! The lifecycle service: every user's lifecycle stage and explainable
//! engagement score, stage transitions, and Kit (ConvertKit) email triggers
//! delivered exactly once through an outbox. It learns about users only from
//! the metrics service over gRPC and never reads the `metrics` schema.

pub mod api;
pub mod app;
pub mod config;
pub mod convert;
pub mod domain;
pub mod error;
pub mod evaluate;
pub mod feed;
pub mod grpc;
pub mod kit;
pub mod outbox;
pub mod repo;
pub mod state;
pub mod upstream;

pub use app::{FEED_HEALTH, migrator, spec, start};
pub use config::LifecycleArgs;
