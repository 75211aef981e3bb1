//! `growth-dev bench audit`: whole `RunRevenueAudit`s through the real
//! service (fetch, reconcile, store findings) against the fake Stripe with a
//! fixed latency per page, next to the bound the rate limit sets: the pages
//! served at the lower of the client's rate and the fake's own limit
//! (`--server-rate`, 429 beyond it). Targets: within 1.1× of the bound, or,
//! with the fake limiting below the client's rate, every run complete and
//! within 1.5× of the bound.
//!
//! The audited month is the current one, to date, with the fake's objects
//! created from its first day until the benchmark starts: Stripe keeps
//! events 30 days, so only a recent month has its events listed (an older
//! one is audited without them). Each run lists everything an audit lists:
//! the month's five resource types (subscriptions with `status=all`), every
//! live subscription (entitlement drift) and the month's events of the
//! handled types (missed webhooks); the pages of each listing are printed.
//! With `RUST_LOG` set (e.g. `RUST_LOG=metrics_svc=info`), the service's log
//! is shown too, with how long each phase of each audit took.

use std::process::ExitCode;
use std::time::Instant;

use chrono::Utc;
use clap::Args;
use growth_proto::metrics::v1 as pb;
use growth_runtime::config::AuthPolicy;
use growth_runtime::{Serve, Shutdown, db};
use metrics_svc::audit::month::Month;
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
    /// Audits to run, one after the other.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub runs: u32,
}

/// Runs the benchmark.
pub async fn run(args: &AuditBenchArgs) -> anyhow::Result<ExitCode> {
    with_scratch_database(&args.database_url, "audit", |options| run_in(args, options)).await
}

async fn run_in(args: &AuditBenchArgs, options: PgConnectOptions) -> anyhow::Result<ExitCode> {
    if std::env::var_os("RUST_LOG").is_some() {
        growth_runtime::telemetry::init(growth_runtime::config::LogFormat::Pretty);
    }
    let pool = db::pool_options(8).connect_with(options).await?;
    db::migrate(&pool, &metrics_svc::migrator()).await?;
    let now = Utc::now();
    let current = Month::current(now);
    let month_start = current.start();
    let month = current.to_string();
    let fake = args
        .fake
        .start_over(month_start.timestamp(), now.timestamp())
        .await?;
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
    let limited = args
        .fake
        .server_rate
        .is_some_and(|s| s < f64::from(args.fake.rate));
    let target = if limited { 1.5 } else { 1.1 };
    eprintln!(
        "bench: audit of {month} (objects created {} to {}), {} objects x 5 types and 3 events per payment, {} ms per page, client rate {}/s, fake's limit {}, {} slices, empty database, {} run(s)",
        month_start.format("%Y-%m-%d %H:%M"),
        now.format("%Y-%m-%d %H:%M UTC"),
        args.fake.objects,
        args.fake.latency_ms,
        args.fake.rate,
        args.fake
            .server_rate
            .map_or("none".to_owned(), |r| format!("{r}/s")),
        args.fake.slices,
        args.runs
    );

    let mut table = output::table([
        "run",
        "pages",
        "429s",
        "bound s",
        "audit s",
        "audit / bound",
        "outcome",
    ]);
    let mut all_met = true;
    let mut last_started = Instant::now();
    for i in 1..=args.runs {
        let (pages_before, refused_before) = (fake.pages(), fake.refused());
        let started = Instant::now();
        last_started = started;
        let run = client
            .run_revenue_audit(pb::RunRevenueAuditRequest {
                month: month.clone(),
                ..Default::default()
            })
            .await?
            .into_inner()
            .run
            .unwrap_or_default();
        let wall = started.elapsed();
        let pages = fake.pages() - pages_before;
        let refused = fake.refused() - refused_before;
        let bound = args.fake.bound(pages).as_secs_f64();
        let ratio = wall.as_secs_f64() / bound;
        let completed = run.error.is_empty();
        let met = completed && ratio <= target;
        all_met &= met;
        table.add_row(vec![
            i.to_string(),
            pages.to_string(),
            format!(
                "{refused} ({:.1}%)",
                100.0 * refused as f64 / (pages + refused).max(1) as f64
            ),
            format!("{bound:.2}"),
            format!("{:.2}", wall.as_secs_f64()),
            format!("{ratio:.2}x"),
            if completed {
                format!("{} findings stored", run.finding_count)
            } else {
                format!("FAILED: {}", run.error)
            },
        ]);
    }
    shutdown.trigger();
    server.wait().await?;
    pool.close().await;
    println!("{table}");
    let mut listings = output::table([
        "listing",
        "pages (all runs)",
        "last page, s into the last run",
    ]);
    for (name, listing) in fake.listings() {
        listings.add_row(vec![
            name,
            listing.pages.to_string(),
            format!(
                "{:.2}",
                listing
                    .last
                    .saturating_duration_since(last_started)
                    .as_secs_f64()
            ),
        ]);
    }
    println!("{listings}");
    println!(
        "every run complete and within {target}x of the bound: {}",
        if all_met { "MET" } else { "MISSED" }
    );
    Ok(if all_met {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
