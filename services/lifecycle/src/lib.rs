//! The lifecycle service: every user's lifecycle stage and explainable
//! engagement score, stage transitions, and Kit (ConvertKit) email triggers
//! delivered exactly once through an outbox. It learns about users only from
//! the metrics service over gRPC and never reads the `metrics` schema.

pub mod app;
pub mod grpc;

pub use app::{migrator, spec, start};
