//! The RPCs' behaviour, one module per area: each function parses its wire
//! request into domain types (every violation reported at once), calls the
//! domain and repository code, and builds the wire reply, or returns a
//! [`MetricsError`](crate::error::MetricsError). `grpc.rs` only adapts these
//! to tonic.

pub mod active_users;
pub mod activity;
pub mod audit;
pub mod cohorts;
pub mod ingest;
pub mod insights;
pub mod revenue;
pub mod stripe_events;
pub mod today;
pub mod watch;
