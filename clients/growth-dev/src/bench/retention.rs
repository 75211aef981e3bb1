//! `growth-dev bench retention`: loads a synthetic SaaS (200,000 users, about
//! 10M events over 12 months) through the project's own ingest into a scratch
//! database, then measures in one run: a full refresh of all three matrices,
//! the rollup rebuild from raw events, an incremental refresh after one more
//! day of events, `GetRetentionMatrix` latency, and the weekly insights'
//! daily active users and report (`super::active_users`). It writes the
//! users, events, its results and its timings to `--out`, and hands them
//! (with the still-existing scratch database) to `bench/retention/run.sh`,
//! which times DuckDB, ClickHouse (chDB) and set-based PostgreSQL on the same
//! rows and compares every cell, then DuckDB's daily active users, every day.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use clap::Args;
use growth_proto::common::v1::Granularity;
use growth_proto::metrics::v1 as pb;
use growth_runtime::config::AuthPolicy;
use growth_runtime::{Serve, Shutdown, db};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sqlx::postgres::PgConnectOptions;

use super::live_traffic::{pending_state, traffic};
use super::retention_export::{copy_rate, export, ours, reference};
use super::timing::{best, ms, time};
use growthctl::clients::{Metrics, Target};
use growthctl::seed::{self, SeedParams};

/// `bench retention` options.
#[derive(Debug, Clone, Args)]
pub struct RetentionBenchArgs {
    /// Server to benchmark on; a scratch database is created there.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: SecretString,
    /// Users to load.
    #[arg(long, default_value_t = 200_000)]
    pub users: u64,
    /// Mean events per user.
    #[arg(long, default_value_t = 50.0)]
    pub events_per_user: f64,
    /// Months of history.
    #[arg(long, default_value_t = 12)]
    pub months: u32,
    /// Where the data, matrices and timings are written.
    #[arg(long, default_value = "target/bench-retention")]
    pub out: PathBuf,
    /// The reference script run on `--out` (empty: skip the other engines).
    #[arg(long, default_value = "bench/retention/run.sh")]
    pub engines: String,
    /// Timed runs of each measurement; the best counts.
    #[arg(long, default_value_t = 3)]
    pub runs: u32,
}

/// Runs the benchmark; the exit code is the reference script's (1 when a
/// cell or a day differs).
pub async fn run(args: &RetentionBenchArgs) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    super::with_scratch_database(&args.database_url, "retention", |options| {
        run_in(args, options)
    })
    .await
}

async fn refresh(
    client: &Metrics,
    r: pb::RefreshCohortsRequest,
) -> anyhow::Result<pb::RefreshCohortsResponse> {
    Ok(client.clone().refresh_cohorts(r).await?.into_inner())
}

async fn run_in(args: &RetentionBenchArgs, options: PgConnectOptions) -> anyhow::Result<ExitCode> {
    let pool = db::pool_options(8).connect_with(options.clone()).await?;
    db::migrate(&pool, &metrics_svc::migrator()).await?;
    let shutdown = Shutdown::new();
    let server = metrics_svc::start(
        pool.clone(),
        Serve::loopback(AuthPolicy::Disabled, shutdown.clone()),
    )
    .await?;
    let target = Target::new(&server.grpc_addr.to_string(), "127.0.0.1:1", None)?;
    let client = target.metrics().await?;

    // The pending activity must keep itself small without autovacuum (off on
    // these machines, and in production it may be slow to reach a busy
    // table): it is off for the benchmark's tables whatever the server says.
    let server_autovacuum: String = sqlx::query_scalar("SHOW autovacuum")
        .fetch_one(&pool)
        .await?;
    sqlx::query(
        "DO $$ DECLARE t regclass; BEGIN
             FOR t IN SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                      WHERE n.nspname = 'metrics' AND c.relkind = 'r' LOOP
                 EXECUTE format('ALTER TABLE %s SET (autovacuum_enabled = false)', t);
             END LOOP;
         END $$",
    )
    .execute(&pool)
    .await?;
    eprintln!(
        "bench: autovacuum is {server_autovacuum} on the server and off for the benchmark's tables"
    );
    let params = SeedParams {
        users: args.users,
        months: args.months,
        events_per_user: args.events_per_user,
        ..SeedParams::default()
    };
    eprintln!(
        "bench: loading {} users over {} months through UpsertUsers/TrackEvents ...",
        args.users, args.months
    );
    let started = Instant::now();
    let report = seed::seed(client.clone(), &params, true).await?;
    // Until the activity rollup has caught up too.
    metrics_svc::repo::cohorts::fold::fold(&pool).await?;
    let loaded = started.elapsed();
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM metrics.events")
        .fetch_one(&pool)
        .await?;
    let track_rate = events as f64 / loaded.as_secs_f64();
    eprintln!(
        "bench: {} events stored in {:.1} s ({track_rate:.0} events/s with users and payments)",
        events,
        loaded.as_secs_f64()
    );
    let _ = report;

    // Refreshes as the service meets them, before any VACUUM: the first
    // (everything); after a month of live traffic (events in time order,
    // folded in the background as they arrive) one with nothing to do; then
    // one after one more day.
    refresh(&client, pb::RefreshCohortsRequest::default()).await?;
    let now = chrono::Utc::now();
    let today = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc();
    let month = (events as f64 / f64::from(args.months.max(1))) as usize;
    let live = traffic(
        &client,
        &pool,
        month,
        (today - chrono::Duration::days(30), today),
        "live",
    )
    .await?;
    eprintln!(
        "bench: a month of live traffic ({month} events in time order) stored and folded in {:.1} s; {}",
        live.as_secs_f64(),
        pending_state(&pool).await?
    );
    refresh(&client, pb::RefreshCohortsRequest::default()).await?;
    let started = Instant::now();
    refresh(&client, pb::RefreshCohortsRequest::default()).await?;
    let idle_time = started.elapsed();
    let day = (events as f64 / (f64::from(args.months) * 30.4)) as usize;
    let ingested = traffic(
        &client,
        &pool,
        day,
        (today, now.max(today + chrono::Duration::seconds(1))),
        "day",
    )
    .await?;
    let started = Instant::now();
    let incremental = refresh(&client, pb::RefreshCohortsRequest::default()).await?;
    let incremental_time = started.elapsed();
    let pending = pending_state(&pool).await?;
    eprintln!(
        "bench: without VACUUM: a refresh with nothing to do {:.1} ms; one more day ({day} events) stored and folded into the rollup in {:.1} ms, then incremental refresh {:.1} ms ({} cohorts, {} cells written); {pending}",
        ms(idle_time),
        ms(ingested),
        ms(incremental_time),
        incremental.cohorts_refreshed,
        incremental.cells_written
    );

    sqlx::query("VACUUM ANALYZE").execute(&pool).await?;
    let copy = copy_rate(&pool, events.min(1_000_000)).await?;

    // The engines compute the user matrices: ours are timed alone for the
    // comparison, then with the revenue cells too.
    let full_users = pb::RefreshCohortsRequest {
        full: true,
        metric: pb::RetentionMetric::Users as i32,
        ..Default::default()
    };
    let (full_time, refreshed) = time(args.runs, || async {
        sqlx::query("TRUNCATE metrics.retention_rows")
            .execute(&pool)
            .await?;
        refresh(&client, full_users.clone()).await
    })
    .await?;
    eprintln!(
        "bench: full refresh of the user matrices {:.3} s ({} cells)",
        full_time.as_secs_f64(),
        refreshed.cells_written
    );
    let full = pb::RefreshCohortsRequest {
        full: true,
        ..Default::default()
    };
    let (full_revenue_time, refreshed) = time(args.runs, || async {
        sqlx::query("TRUNCATE metrics.retention_rows, metrics.retention_revenue")
            .execute(&pool)
            .await?;
        refresh(&client, full.clone()).await
    })
    .await?;
    eprintln!(
        "bench: full refresh with the revenue cells {:.3} s ({} cells)",
        full_revenue_time.as_secs_f64(),
        refreshed.cells_written
    );

    // A rebuild that confirms the rollup writes nothing; one after a change
    // of definition rewrites every row (simulated by clearing the bitmaps).
    let settings = metrics_svc::reporting::Settings::default();
    let (unchanged_time, written) = time(args.runs.min(2), || async {
        Ok(metrics_svc::repo::cohorts::rebuild::rebuild(&pool, &settings).await?)
    })
    .await?;
    eprintln!(
        "bench: rollup rebuild from raw events, rollup already right: {:.3} s ({written} rows written)",
        unchanged_time.as_secs_f64()
    );
    let mut rewrites = Vec::new();
    for _ in 0..args.runs.min(2) {
        sqlx::query(
            "UPDATE metrics.user_cohorts SET active_days = B'0'::bit(416), last_active_day = NULL",
        )
        .execute(&pool)
        .await?;
        sqlx::query("VACUUM ANALYZE metrics.user_cohorts")
            .execute(&pool)
            .await?;
        let started = Instant::now();
        let written = metrics_svc::repo::cohorts::rebuild::rebuild(&pool, &settings).await?;
        rewrites.push(started.elapsed());
        eprintln!(
            "bench: rollup rebuild from raw events, every row cleared: {:.3} s ({written} rows written)",
            started.elapsed().as_secs_f64()
        );
    }
    let rebuild_time = best(&rewrites);

    let mut reads = Vec::new();
    for _ in 0..200 {
        let started = Instant::now();
        client
            .clone()
            .get_retention_matrix(pb::GetRetentionMatrixRequest {
                granularity: Granularity::Day as i32,
                ..Default::default()
            })
            .await?;
        reads.push(started.elapsed());
    }
    reads.sort_unstable();
    let (p50, p99) = (reads[reads.len() / 2], reads[reads.len() * 99 / 100]);
    eprintln!(
        "bench: GetRetentionMatrix(DAY) p50 {:.1} ms, p99 {:.1} ms",
        ms(p50),
        ms(p99)
    );

    // The weekly insights' series and report on the same data.
    let active =
        super::active_users::measure(&client, &pool, args.runs, &args.out, &settings.time_zone)
            .await?;

    // The reference engines read the same rows; all events count.
    refresh(&client, full.clone()).await?;
    export(
        &pool,
        "SELECT user_id, signup_at FROM metrics.users",
        &args.out.join("users.csv"),
    )
    .await?;
    export(
        &pool,
        "SELECT user_id, occurred_at FROM metrics.events",
        &args.out.join("events.csv"),
    )
    .await?;
    std::fs::write(
        args.out.join("ours.json"),
        serde_json::to_vec(&ours(&pool).await?)?,
    )?;
    let today: chrono::NaiveDate = sqlx::query_scalar("SELECT (now() AT TIME ZONE 'UTC')::date")
        .fetch_one(&pool)
        .await?;
    let database = options.get_database().unwrap_or_default().to_owned();
    let url = format!(
        "{}/{database}",
        args.database_url
            .expose_secret()
            .rsplit_once('/')
            .map_or("", |(base, _)| base)
    );
    let meta = json!({
        "time_zone": settings.time_zone,
        "activity_events": settings.activity_events,
        "today": today.to_string(),
        "database_url": url,
        "ours": {
            "full_refresh_seconds": full_time.as_secs_f64(),
            "full_refresh_with_revenue_seconds": full_revenue_time.as_secs_f64(),
            "rebuild_seconds": rebuild_time.as_secs_f64(),
            "rebuild_unchanged_seconds": unchanged_time.as_secs_f64(),
            "incremental_refresh_ms": ms(incremental_time),
            "idle_refresh_ms": ms(idle_time),
            "read_p50_ms": ms(p50),
            "read_p99_ms": ms(p99),
            "track_events_rows_per_s": track_rate,
            "copy_rows_per_s": copy,
        },
        "active": active,
    });
    std::fs::write(
        args.out.join("meta.json"),
        serde_json::to_vec_pretty(&meta)?,
    )?;
    shutdown.trigger();
    server.wait().await?;
    pool.close().await;

    if args.engines.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    reference(&args.engines, &args.out, &url, args.runs).await
}
