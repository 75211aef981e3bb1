//! The shared runtime of the growth services, written once and used by both:
//! configuration, telemetry, the database pool and migrations, the bearer-token
//! auth layer, request spans and Prometheus metrics, the HTTP side listener,
//! graceful shutdown, the gRPC server bootstrap with health and reflection,
//! and the outbox kit every side effect on the outside world goes through.

pub mod auth;
pub mod config;
pub mod db;
pub mod db_health;
pub mod http;
pub mod launch;
pub mod observe;
pub mod outbox;
pub mod server;
pub mod session_lock;
pub mod shutdown;
pub mod status;
pub mod telemetry;
pub mod tls;

pub use config::RuntimeArgs;
pub use launch::{Serve, ServiceSpec};
pub use server::{GrpcService, RunningServer, ServerBuilder};
pub use session_lock::SessionLock;
pub use shutdown::Shutdown;
