//! Generated Rust code for the growth services' protobuf contracts.
//!
//! Modules mirror the protobuf packages: `growth.metrics.v1` is
//! [`metrics::v1`], and so on. The `client` and `server` features select which
//! gRPC halves are generated, so the CLI can build client-only.
//!
//! Pure modules shared by both services and the CLI, each the one
//! implementation of its idea: [`backoff`] (the retry backoff),
//! [`retry_after`] (the `Retry-After` parser), [`paging`] (page sizes and
//! tokens of the list RPCs), [`timestamp`] (wire timestamps to and from UTC
//! instants), [`user_id`] (what a user id is), [`money`] (amounts as
//! people read them) and [`audit`] (how an audit run's outcome reads); with the `export` feature, `export` (the CSV and JSON
//! writers of reports that growthctl and the dashboard share).

pub mod audit;
pub mod backoff;
#[cfg(feature = "export")]
pub mod export;
pub mod money;
pub mod paging;
pub mod retry_after;
pub mod timestamp;
pub mod user_id;

/// Connecting to a service with a bearer token (the CLI, the tests, and
/// lifecycle calling metrics).
#[cfg(feature = "client")]
pub mod client;
pub mod status;

/// `growth.common.v1`: money, granularity, date ranges, paging.
#[allow(clippy::all, missing_docs)]
pub mod common {
    pub mod v1 {
        tonic::include_proto!("growth.common.v1");
    }
}

/// `growth.metrics.v1`: the metrics service.
#[allow(clippy::all, missing_docs)]
pub mod metrics {
    pub mod v1 {
        tonic::include_proto!("growth.metrics.v1");
    }
}

/// `growth.lifecycle.v1`: the lifecycle service.
#[allow(clippy::all, missing_docs)]
pub mod lifecycle {
    pub mod v1 {
        tonic::include_proto!("growth.lifecycle.v1");
    }
}

/// The encoded `FileDescriptorSet` of the metrics service's proto and its
/// imports, for gRPC server reflection.
pub const METRICS_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("metrics_descriptor");

/// The encoded `FileDescriptorSet` of the lifecycle service's proto and its
/// imports, for gRPC server reflection.
pub const LIFECYCLE_DESCRIPTOR_SET: &[u8] =
    tonic::include_file_descriptor_set!("lifecycle_descriptor");

/// Fully qualified gRPC service names, as reflection lists them.
pub const METRICS_SERVICE_NAME: &str = "growth.metrics.v1.MetricsService";
/// See [`METRICS_SERVICE_NAME`].
pub const LIFECYCLE_SERVICE_NAME: &str = "growth.lifecycle.v1.LifecycleService";
