//! Assembling and starting the metrics service.

use std::sync::Arc;

use growth_proto::metrics::v1::metrics_service_server::MetricsServiceServer;
use growth_runtime::{RunningServer, Serve, ServerBuilder, ServiceSpec};
use sqlx::migrate::Migrator;

use crate::config::MetricsArgs;
use crate::grpc::MetricsGrpc;
use crate::repo::Pool;
use crate::state::Metrics;
use crate::stripe::StripeClient;
use crate::watch::FeedSignal;

/// The service name in logs and metrics.
pub const SERVICE: &str = "metrics-svc";
/// The health-check name of the database (NOT_SERVING while it does not
/// answer; `growth_runtime::db_health`).
pub const DATABASE_HEALTH: &str = "metrics.database";
/// Largest gRPC message accepted (a 10,000-row batch with properties).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// The `metrics` schema's migrations; their history is kept in
/// `metrics._sqlx_migrations`, apart from the lifecycle service's.
pub fn migrator() -> Migrator {
    let mut migrator = sqlx::migrate!("../../migrations/metrics");
    migrator.create_schema("metrics");
    migrator.dangerous_set_table_name("metrics._sqlx_migrations");
    migrator
}

/// How `metrics-svc` starts: name, default ports, migrations.
pub fn spec() -> ServiceSpec {
    ServiceSpec {
        name: SERVICE,
        about: "The metrics service: users, events, payments, revenue audit, cohorts, growth insights",
        grpc_port: 50051,
        http_port: 8081,
        migrator: migrator(),
    }
}

/// [`start_with`] and no Stripe key (audits are refused).
pub async fn start(pool: Pool, serve: Serve) -> anyhow::Result<RunningServer> {
    start_with(pool, serve, MetricsArgs::default()).await
}

/// Binds and serves until `serve.shutdown` fires; the pool must be migrated.
pub async fn start_with(
    pool: Pool,
    serve: Serve,
    args: MetricsArgs,
) -> anyhow::Result<RunningServer> {
    let reporting = args.reporting();
    crate::cohorts::rollup::ensure_at_start(&pool, &reporting).await?;
    let feed = FeedSignal::spawn(pool.clone(), serve.shutdown.clone());
    crate::cohorts::fold::spawn(pool.clone(), feed.subscribe(), serve.shutdown.clone());
    growth_runtime::config::log_integrations(&args.integrations());
    let stripe = args.stripe().map(|c| StripeClient::new(&c)).transpose()?;
    let alerts = crate::alerts::spawn(pool.clone(), args.alerts()?, serve.shutdown.clone())?;
    let webhook = crate::webhook::router(pool.clone(), args.stripe_webhook_secret.get().cloned());
    let database_healthy = growth_runtime::db_health::watch(pool.clone(), serve.shutdown.clone());
    let state = Metrics {
        pool,
        reporting: Arc::new(reporting),
        feed,
        shutdown: serve.shutdown.clone(),
        stripe,
        thresholds: args.thresholds(),
        drift: Arc::new(args.drift.settings().map_err(anyhow::Error::msg)?),
        alerts,
        lifecycle: match args.lifecycle_addr.trim() {
            "" => None,
            addr => Some(crate::lifecycle::Lifecycle::new(
                addr,
                args.lifecycle_token.get(),
            )?),
        },
        ai: args.anthropic(),
    };
    let dashboard = crate::dashboard::router(state.clone(), args.dashboard());
    let grpc = MetricsServiceServer::new(MetricsGrpc::new(state))
        .max_decoding_message_size(MAX_MESSAGE_BYTES);
    ServerBuilder::new(
        SERVICE,
        growth_proto::METRICS_DESCRIPTOR_SET,
        serve.auth,
        serve.shutdown,
        serve.grace,
    )
    .add_service(grpc)
    .health_component(DATABASE_HEALTH, database_healthy)
    .http_routes(webhook)
    .http_routes(dashboard)
    .start(serve.grpc_addr, serve.http_addr)
    .await
}
