//! Assembling and starting the lifecycle service.

use growth_proto::lifecycle::v1::lifecycle_service_server::LifecycleServiceServer;
use growth_runtime::{RunningServer, Serve, ServerBuilder, ServiceSpec};
use sqlx::PgPool;
use sqlx::migrate::Migrator;

use crate::grpc::LifecycleGrpc;

/// The service name in logs and metrics.
pub const SERVICE: &str = "lifecycle-svc";

/// The `lifecycle` schema's migrations; their history is kept in
/// `lifecycle._sqlx_migrations`, apart from the metrics service's.
pub fn migrator() -> Migrator {
    let mut migrator = sqlx::migrate!("../../migrations/lifecycle");
    migrator.create_schema("lifecycle");
    migrator.dangerous_set_table_name("lifecycle._sqlx_migrations");
    migrator
}

/// How `lifecycle-svc` starts: name, default ports, migrations.
pub fn spec() -> ServiceSpec {
    ServiceSpec {
        name: SERVICE,
        about: "The lifecycle service: lifecycle stages, engagement scores, Kit (ConvertKit) triggers",
        grpc_port: 50052,
        http_port: 8082,
        migrator: migrator(),
    }
}

/// Binds and serves until `serve.shutdown` fires; the pool must be migrated.
pub async fn start(pool: PgPool, serve: Serve) -> anyhow::Result<RunningServer> {
    ServerBuilder::new(
        SERVICE,
        growth_proto::LIFECYCLE_DESCRIPTOR_SET,
        serve.auth,
        serve.shutdown,
        serve.grace,
    )
    .add_service(LifecycleServiceServer::new(LifecycleGrpc::new(pool)))
    .start(serve.grpc_addr, serve.http_addr)
    .await
}
