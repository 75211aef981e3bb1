//! Assembling and starting the lifecycle service: the gRPC server, the feed
//! consumer and the Kit outbox worker.

use std::sync::Arc;

use growth_proto::lifecycle::v1::lifecycle_service_server::LifecycleServiceServer;
use growth_runtime::{RunningServer, Serve, ServerBuilder, ServiceSpec};
use sqlx::migrate::Migrator;
use tokio::sync::{Notify, watch};

use crate::config::LifecycleArgs;
use crate::grpc::LifecycleGrpc;
use crate::kit::KitClient;
use crate::repo::Pool;
use crate::state::Lifecycle;

/// The service name in logs and metrics.
pub const SERVICE: &str = "lifecycle-svc";

/// The health-check name of the feed consumer (NOT_SERVING while degraded).
pub const FEED_HEALTH: &str = "lifecycle.feed";

/// The health-check name of the database (NOT_SERVING while it does not
/// answer; `growth_runtime::db_health`).
pub const DATABASE_HEALTH: &str = "lifecycle.database";

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
pub async fn start(pool: Pool, serve: Serve, args: LifecycleArgs) -> anyhow::Result<RunningServer> {
    growth_runtime::tls::install_crypto_provider();
    let tuning = Arc::new(args.tuning()?);
    let metrics = crate::upstream::metrics_client(&args.metrics_addr, args.metrics_token.get())?;
    let kit = args.kit().map(KitClient::new).transpose()?;
    growth_runtime::config::log_integrations(&args.integrations());
    if let Some(api) = args.kit_api() {
        tracing::info!(?api, "kit deliveries enabled");
    }
    let database_healthy = growth_runtime::db_health::watch(pool.clone(), serve.shutdown.clone());
    let state = Lifecycle {
        pool: pool.clone(),
        metrics,
        tuning,
        outbox: Arc::new(Notify::new()),
    };
    if args.outbox_disabled {
        tracing::info!(
            "OUTBOX_DISABLED: this replica queues Kit actions but does not deliver them"
        );
    } else {
        crate::outbox::spawn(
            pool,
            kit,
            args.outbox(),
            state.outbox.clone(),
            serve.shutdown.clone(),
        );
    }
    let feed_healthy = if args.feed_disabled {
        tracing::info!("FEED_DISABLED: stages change only by EvaluateUsers");
        watch::channel(true).1
    } else {
        crate::feed::spawn(state.clone(), args.feed(), serve.shutdown.clone()).1
    };
    ServerBuilder::new(
        SERVICE,
        growth_proto::LIFECYCLE_DESCRIPTOR_SET,
        serve.auth,
        serve.shutdown,
        serve.grace,
    )
    .add_service(LifecycleServiceServer::new(LifecycleGrpc::new(state)))
    .health_component(FEED_HEALTH, feed_healthy)
    .health_component(DATABASE_HEALTH, database_healthy)
    .start(serve.grpc_addr, serve.http_addr)
    .await
}
