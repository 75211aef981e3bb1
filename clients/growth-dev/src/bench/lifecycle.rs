//! `growth-dev bench lifecycle`: `EvaluateUsers` over every user at growing
//! sizes (the scaling curve), next to the floor it cannot beat — paging the
//! same users' activity summaries out of metrics with nothing else done —
//! and the live feed: events tracked at a steady rate, with the lag from
//! `TrackEvents` returning to lifecycle having committed the new stages.
//!
//! Users and their events are generated inside PostgreSQL (`generate_series`)
//! in a scratch database: loading is not what is measured.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use growth_proto::common::v1::PageRequest;
use growth_proto::lifecycle::v1 as lc;
use growth_proto::metrics::v1 as pb;
use growth_runtime::config::AuthPolicy;
use growth_runtime::{RunningServer, Serve, Shutdown, db};
use secrecy::SecretString;
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;

use super::lifecycle_feed;
use growthctl::clients::Target;

/// `bench lifecycle` options.
#[derive(Debug, Clone, Args)]
pub struct LifecycleBenchArgs {
    /// Server to benchmark on; a scratch database is created there.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: SecretString,
    /// User counts to evaluate at, ascending (users are added between steps).
    #[arg(long, value_delimiter = ',', default_value = "50000,100000,200000")]
    pub users: Vec<u64>,
    /// Events per user, spread over the last 40 days.
    #[arg(long, default_value_t = 8)]
    pub events_per_user: u64,
    /// Feed part: events per second to track.
    #[arg(long, default_value_t = 2000)]
    pub feed_rate: u64,
    /// Feed part: how long to track at that rate (0 skips the feed part).
    #[arg(long, default_value_t = 20)]
    pub feed_seconds: u64,
}

/// Runs the lifecycle benchmark.
pub async fn run(args: &LifecycleBenchArgs) -> anyhow::Result<ExitCode> {
    let mut sizes = args.users.clone();
    sizes.sort_unstable();
    sizes.dedup();
    if sizes.first().is_none_or(|n| *n == 0) {
        anyhow::bail!("--users: give one or more positive counts, e.g. --users 100000,200000");
    }
    super::with_scratch_database(&args.database_url, "lifecycle", |options| {
        run_in(args, sizes, options)
    })
    .await
}

/// Adds users `from..to` (ids `lc_0000000`…), each with `events` events over
/// the last 40 days; every fifth user paid 10 days ago; every tenth has a
/// running trial.
async fn load(pool: &PgPool, from: u64, to: u64, events: u64) -> anyhow::Result<()> {
    let (from, to, events) = (from as i64, to as i64 - 1, events as i64);
    sqlx::query(
        "INSERT INTO metrics.users (user_id, email, signup_at, plan, trial_ends_at)
         SELECT 'lc_' || lpad(g::text, 7, '0'), 'lc_' || g || '@example.com',
                now() - ((g % 400) + 1) * interval '1 day',
                CASE WHEN g % 10 = 0 THEN 'trial' WHEN g % 5 = 0 THEN 'pro' ELSE 'free' END,
                CASE WHEN g % 10 = 0 THEN now() + interval '7 days' END
         FROM generate_series($1::bigint, $2::bigint) g",
    )
    .bind(from)
    .bind(to)
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO metrics.events (event_id, user_id, name, occurred_at)
         SELECT 'lc_' || g || '_' || k, 'lc_' || lpad(g::text, 7, '0'),
                (ARRAY['login','dashboard_viewed','report_created','export_downloaded','invite_sent'])[1 + (g + k) % 5],
                now() - (((g * 7 + k * 13) % (40 * 24 * (1 + g % 3))) + 1) * interval '1 hour'
         FROM generate_series($1::bigint, $2::bigint) g, generate_series(1, $3::bigint) k",
    )
    .bind(from)
    .bind(to)
    .bind(events)
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO metrics.payments (stripe_id, user_id, amount_minor, currency, status, created_at)
         SELECT 'pi_lc_' || g, 'lc_' || lpad(g::text, 7, '0'), 4900, 'usd', 'succeeded', now() - interval '10 days'
         FROM generate_series($1::bigint, $2::bigint) g WHERE g % 5 = 0",
    )
    .bind(from)
    .bind(to)
    .execute(pool)
    .await?;
    sqlx::query("ANALYZE").execute(pool).await?;
    Ok(())
}

/// Pages through every user's activity summary: the floor of an evaluation.
async fn page_all(target: &Target) -> anyhow::Result<(u64, Duration)> {
    let mut client = target.metrics().await?;
    let started = Instant::now();
    let (mut token, mut users) = (String::new(), 0u64);
    loop {
        let page = client
            .get_user_activity(pb::GetUserActivityRequest {
                user_ids: vec![],
                page: Some(PageRequest {
                    page_size: 1000,
                    page_token: token,
                }),
            })
            .await?
            .into_inner();
        users += page.users.len() as u64;
        if page.next_page_token.is_empty() {
            return Ok((users, started.elapsed()));
        }
        token = page.next_page_token;
    }
}

/// One `EvaluateUsers` over everyone, to the end.
async fn evaluate_all(target: &Target) -> anyhow::Result<(lc::EvaluateUsersResponse, Duration)> {
    let mut client = target.lifecycle().await?;
    let started = Instant::now();
    let last = growthctl::lifecycle::evaluate::to_the_end(&mut client).await?;
    Ok((last, started.elapsed()))
}

/// A lifecycle replica of its own (own shutdown signal), feed on or off.
pub async fn start_lifecycle(
    pool: &PgPool,
    metrics: &RunningServer,
    feed: bool,
) -> anyhow::Result<RunningServer> {
    let mut args = lifecycle_svc::LifecycleArgs::for_metrics(&metrics.grpc_addr.to_string(), None);
    args.feed_disabled = !feed;
    lifecycle_svc::start(
        pool.clone(),
        Serve::loopback(AuthPolicy::Disabled, Shutdown::new()),
        args,
    )
    .await
}

async fn run_in(
    args: &LifecycleBenchArgs,
    sizes: Vec<u64>,
    options: PgConnectOptions,
) -> anyhow::Result<ExitCode> {
    let pool = db::pool_options(16).connect_with(options).await?;
    db::migrate(&pool, &metrics_svc::migrator()).await?;
    db::migrate(&pool, &lifecycle_svc::migrator()).await?;
    let shutdown = Shutdown::new();
    let metrics = metrics_svc::start(
        pool.clone(),
        Serve::loopback(AuthPolicy::Disabled, shutdown.clone()),
    )
    .await?;
    let lifecycle = start_lifecycle(&pool, &metrics, false).await?;
    let target = Target::new(
        &metrics.grpc_addr.to_string(),
        &lifecycle.grpc_addr.to_string(),
        None,
    )?;

    println!(
        "EvaluateUsers over all users ({} events per user), next to paging GetUserActivity alone:",
        args.events_per_user
    );
    println!(
        "{:>10} {:>12} {:>12} {:>8} {:>12} {:>12}",
        "users", "activity s", "evaluate s", "ratio", "users/s", "1M est. s"
    );
    let mut loaded = 0;
    let mut rate = 0.0;
    for &n in &sizes {
        let started = Instant::now();
        load(&pool, loaded, n, args.events_per_user)
            .await
            .context("loading users and events")?;
        eprintln!(
            "bench: loaded users {loaded}..{n} in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        loaded = n;
        let (paged, floor) = page_all(&target).await?;
        anyhow::ensure!(paged == n, "paged {paged} users, expected {n}");
        let (done, took) = evaluate_all(&target).await?;
        anyhow::ensure!(
            done.evaluated == n as i64,
            "evaluated {} users, expected {n}",
            done.evaluated
        );
        rate = n as f64 / took.as_secs_f64();
        println!(
            "{n:>10} {:>12.2} {:>12.2} {:>8.2} {:>12.0} {:>12.1}",
            floor.as_secs_f64(),
            took.as_secs_f64(),
            took.as_secs_f64() / floor.as_secs_f64(),
            rate,
            1_000_000.0 / rate
        );
    }
    let estimate = 1_000_000.0 / rate;
    let verdict = if estimate < 60.0 { "MET" } else { "NOT MET" };
    println!("1M users at the largest size's rate: {estimate:.1} s (target < 60 s): {verdict}");

    let mut ok = estimate < 60.0;
    lifecycle.stop().await?;
    if args.feed_seconds > 0 {
        lifecycle_feed::start_at_the_end(&pool).await?;
        let follower = start_lifecycle(&pool, &metrics, true).await?;
        ok &=
            lifecycle_feed::run(&pool, &target, loaded, args.feed_rate, args.feed_seconds).await?;
        follower.stop().await?;
    }
    shutdown.trigger();
    metrics.wait().await?;
    pool.close().await;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
