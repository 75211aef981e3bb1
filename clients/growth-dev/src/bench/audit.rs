//! `growth-dev bench audit`: a whole `RunRevenueAudit` through the real
//! service (fetch, reconcile, store findings) against the fake Stripe with a
//! fixed latency per page, next to the bound the rate limit sets.

use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use growth_proto::metrics::v1 as pb;
use growth_runtime::config::AuthPolicy;
use growth_runtime::{Serve, Shutdown, db};
use metrics_svc::config::MetricsArgs;
use secrecy::SecretString;
use sqlx::postgres::PgConnectOptions;

use super::fake_stripe::FakeStripeArgs;
use super::with_scratch_database;
use growthctl::clients::Target;
use growthctl::output;

/// `bench audit` options.
#[derive(Debug, Clone, Args)]
pub struct AuditBenchArgs {
    /// Server to benchmark on; a scratch database is created there.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: SecretString,
    /// The fake Stripe and the client's limits.
    #[command(flatten)]
    pub fake: FakeStripeArgs,
}

/// Runs the benchmark.
pub async fn run(args: &AuditBenchArgs) -> anyhow::Result<ExitCode> {
    with_scratch_database(&args.database_url, "audit", |options| run_in(args, options)).await
}

async fn run_in(args: &AuditBenchArgs, options: PgConnectOptions) -> anyhow::Result<ExitCode> {
    let pool = db::pool_options(8).connect_with(options).await?;
    db::migrate(&pool, &metrics_svc::migrator()).await?;
    let fake = args.fake.start().await?;
    let shutdown = Shutdown::new();
    let settings = MetricsArgs {
        stripe_secret_key: growth_runtime::config::OptionalSecret::from("sk_live_bench"),
        stripe_api_base: fake.url.clone(),
        stripe_rate_limit: Some(args.fake.rate),
        stripe_time_slices: args.fake.slices,
        ..MetricsArgs::default()
    };
    let server = metrics_svc::start_with(
        pool.clone(),
        Serve::loopback(AuthPolicy::Disabled, shutdown.clone()),
        settings,
    )
    .await?;
    let mut client = Target::new(&server.grpc_addr.to_string(), "127.0.0.1:1", None)?
        .metrics()
        .await?;
    eprintln!(
        "bench: audit of 2025-11, {} objects x 5 types, {} ms per page, rate {}/s, {} slices, empty database",
        args.fake.objects, args.fake.latency_ms, args.fake.rate, args.fake.slices
    );

    let started = Instant::now();
    let run = client
        .run_revenue_audit(pb::RunRevenueAuditRequest {
            month: "2025-11".into(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .run
        .unwrap_or_default();
    let wall = started.elapsed();
    shutdown.trigger();
    server.wait().await?;
    pool.close().await;
    anyhow::ensure!(run.error.is_empty(), "the audit failed: {}", run.error);

    let pages = fake.pages();
    let bound = pages as f64 / f64::from(args.fake.rate);
    let mut table = output::table(["what", "pages", "seconds"]);
    table.add_row(vec![
        "bound: pages / rate".to_owned(),
        pages.to_string(),
        format!("{bound:.2}"),
    ]);
    table.add_row(vec![
        format!("RunRevenueAudit ({} findings stored)", run.finding_count),
        pages.to_string(),
        format!("{:.2}", wall.as_secs_f64()),
    ]);
    println!("{table}");
    let ratio = wall.as_secs_f64() / bound;
    println!(
        "audit / bound = {ratio:.2}x (target <= 1.3x): {}",
        if ratio <= 1.3 { "MET" } else { "MISSED" }
    );
    Ok(ExitCode::SUCCESS)
}
