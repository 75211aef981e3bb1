//! The command line of `growth-dev`.

use clap::{Args, Parser, Subcommand};
use growthctl::seed::SeedParams;
use secrecy::SecretString;

/// Developer tool of the growth services: the demo and the benchmarks.
///
/// Both start the real services in-process; growthctl is the client to use
/// against them.
#[derive(Debug, Parser)]
#[command(name = "growth-dev", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run both services on a local database with demo data, until Ctrl-C.
    Demo(DemoArgs),
    /// Benchmarks (not tests): measured side by side with a reference.
    #[command(subcommand)]
    Bench(BenchCommand),
}

/// `demo` options.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Use this database instead of a throwaway local cluster.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<SecretString>,
    /// gRPC port of the metrics service (0 = any free port).
    #[arg(long, default_value_t = 50051)]
    pub metrics_port: u16,
    /// gRPC port of the lifecycle service (0 = any free port).
    #[arg(long, default_value_t = 50052)]
    pub lifecycle_port: u16,
    /// Stop right after seeding instead of waiting for Ctrl-C (smoke tests).
    #[arg(long)]
    pub exit_after_seed: bool,
    /// The demo data.
    #[command(flatten)]
    pub seed: SeedParams,
}

/// `bench` subcommands.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// TrackEvents (batches through the real gRPC server) next to a plain
    /// COPY of the same rows into the same table, in one run.
    Ingest(crate::bench::IngestArgs),
    /// The revenue-audit reconciliation engine on 1M Stripe payments against
    /// 1M database rows, timed in CPU seconds.
    Reconcile(crate::bench::reconcile::ReconcileArgs),
    /// Fetching a month from a fake Stripe with 50 ms per page, next to the
    /// rate-limit bound and a strictly sequential paginator.
    StripeFetch(crate::bench::stripe::StripeFetchArgs),
    /// A whole RunRevenueAudit (fetch, reconcile, store) against the fake
    /// Stripe, next to the rate-limit bound.
    Audit(crate::bench::audit::AuditBenchArgs),
    /// EvaluateUsers over all users at growing sizes (next to paging the
    /// activity summaries alone), then the live feed's lag at a steady rate.
    Lifecycle(crate::bench::lifecycle::LifecycleBenchArgs),
    /// Retention: full refresh, rebuild, incremental refresh and reads on
    /// ~10M events, then DuckDB, ClickHouse (chDB) and set-based PostgreSQL
    /// on the same rows (bench/retention/run.sh), every cell compared.
    Retention(crate::bench::retention::RetentionBenchArgs),
    /// Signed Stripe webhook events from concurrent senders, next to the
    /// same number of plain INSERT … ON CONFLICT statements.
    Webhook(crate::bench::webhook::WebhookBenchArgs),
    /// The dashboard's pages on the retention benchmark's data: the DAY
    /// retention page's server time and bytes, Chromium's load event, the
    /// overview page's server time.
    Dashboard(crate::bench::dashboard::DashboardBenchArgs),
}
