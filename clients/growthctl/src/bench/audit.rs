//! `growthctl bench audit`: a whole `RunRevenueAudit` through the real
//! service (fetch, reconcile, store findings) against the fake Stripe with a
//! fixed latency per page, next to the bound the rate limit sets.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use growth_proto::metrics::v1 as pb;
use growth_runtime::config::AuthPolicy;
use growth_runtime::{Serve, Shutdown, db};
use metrics_svc::config::MetricsArgs;
use secrecy::SecretString;
use sqlx::postgres::PgConnectOptions;

use super::{fake_stripe, with_scratch_database};
use crate::clients::Target;
use crate::output;

/// November 2025, UTC.
const MONTH: (i64, i64) = (1_761_955_200, 1_764_547_200);

/// `bench audit` options.
#[derive(Debug, Clone, Args)]
pub struct AuditBenchArgs {
    /// Server to benchmark on; a scratch database is created there.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: SecretString,
    /// Objects per resource type in the month.
    #[arg(long, default_value_t = 20_000)]
    pub objects: usize,
    /// Latency the fake adds to every page, milliseconds.
    #[arg(long, default_value_t = 50)]
    pub latency_ms: u64,
    /// Client-side rate limit, requests per second.
    #[arg(long, default_value_t = 80)]
    pub rate: u32,
    /// Time slices per resource type.
    #[arg(long, default_value_t = 8)]
    pub slices: u32,
}

/// Runs the benchmark.
pub async fn run(args: &AuditBenchArgs) -> anyhow::Result<ExitCode> {
    with_scratch_database(&args.database_url, "audit", |options| run_in(args, options)).await
}

async fn run_in(args: &AuditBenchArgs, options: PgConnectOptions) -> anyhow::Result<ExitCode> {
    let pool = db::pool_options(8).connect_with(options).await?;
    db::migrate(&pool, &metrics_svc::migrator()).await?;
    let fake = fake_stripe::start(
        args.objects,
        MONTH.0,
        MONTH.1,
        Duration::from_millis(args.latency_ms),
    )
    .await?;
    let shutdown = Shutdown::new();
    let settings = MetricsArgs {
        stripe_secret_key: Some(SecretString::from("sk_live_bench".to_owned())),
        stripe_api_base: fake.url.clone(),
        stripe_rate_limit: Some(args.rate),
        stripe_time_slices: args.slices,
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
        args.objects, args.latency_ms, args.rate, args.slices
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
    let bound = pages as f64 / f64::from(args.rate);
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
