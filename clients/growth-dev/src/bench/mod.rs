//! Benchmarks. `growth-dev bench ingest`: `TrackEvents` in batches through the real gRPC
//! server next to a plain `COPY` of the same rows into the same table (same
//! indexes and constraints), alternating rounds in one run so that both see
//! the same machine. TrackEvents is timed until the activity rollup has
//! caught up. A scratch database is created and dropped.

mod active_users;
pub mod audit;
pub mod browser_load;
pub mod dashboard;
mod fake_stripe;
pub mod lifecycle;
mod lifecycle_feed;
mod live_traffic;
mod page_timing;
pub mod reconcile;
pub mod retention;
mod retention_export;
pub mod stripe;
mod timing;
mod token_bucket;
pub mod webhook;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{TimeZone, Utc};
use clap::Args;
use growth_proto::metrics::v1 as pb;
use growth_proto::timestamp::from_utc;
use growth_runtime::config::AuthPolicy;
use growth_runtime::{Serve, Shutdown, db};
use secrecy::SecretString;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgPool};

use growthctl::clients::Target;
use growthctl::output;

/// `bench ingest` options.
#[derive(Debug, Clone, Args)]
pub struct IngestArgs {
    /// Server to benchmark on; a scratch database is created there.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: SecretString,
    /// Events per round.
    #[arg(long, default_value_t = 200_000)]
    pub events: u64,
    /// Users the events belong to.
    #[arg(long, default_value_t = 10_000)]
    pub users: u64,
    /// Rows per TrackEvents call.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub batch_size: u32,
    /// TrackEvents calls in flight at once.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub concurrency: u32,
    /// Rounds of each method (alternating); the best round of each counts.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub rounds: u32,
}

fn synthetic_events(args: &IngestArgs) -> Vec<pb::Event> {
    let start = Utc
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_else(Utc::now);
    const NAMES: [&str; 5] = [
        "login",
        "dashboard_viewed",
        "report_created",
        "export_downloaded",
        "invite_sent",
    ];
    (0..args.events)
        .map(|i| {
            let user = (i.wrapping_mul(2_654_435_761)) % args.users;
            pb::Event {
                event_id: format!(
                    "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
                    i.wrapping_mul(0x9e37_79b9) as u32,
                    i % 0xffff,
                    i % 0xfff,
                    (i / 7) % 0xfff,
                    i
                ),
                user_id: format!("bench_{user:07}"),
                name: NAMES[(i % 5) as usize].to_owned(),
                occurred_at: Some(from_utc(
                    start + chrono::Duration::seconds((i * 131 % 31_536_000) as i64),
                )),
                properties_json: format!(r#"{{"source":"web","n":{}}}"#, i % 100),
            }
        })
        .collect()
}

/// Text-format COPY rows of `events` (the same values TrackEvents stores).
fn copy_text(events: &[pb::Event]) -> Vec<u8> {
    let mut out = Vec::with_capacity(events.len() * 120);
    for e in events {
        let at = e
            .occurred_at
            .as_ref()
            .and_then(|t| Utc.timestamp_opt(t.seconds, 0).single())
            .unwrap_or_default();
        let line = format!(
            "{}\t{}\t{}\t{}\t{}\n",
            escape(&e.event_id),
            escape(&e.user_id),
            escape(&e.name),
            at.to_rfc3339(),
            escape(&e.properties_json)
        );
        out.extend_from_slice(line.as_bytes());
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

async fn reset(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::query("TRUNCATE metrics.events, metrics.activity_pending")
        .execute(pool)
        .await?;
    // The rollup starts empty too, so every round of TrackEvents maintains it.
    sqlx::query(
        "UPDATE metrics.user_cohorts SET active_days = B'0'::bit(416), last_active_day = NULL",
    )
    .execute(pool)
    .await?;
    sqlx::query("VACUUM metrics.user_cohorts")
        .execute(pool)
        .await?;
    sqlx::query("CHECKPOINT").execute(pool).await?;
    Ok(())
}

async fn time_copy(pool: &PgPool, rows: &[u8]) -> anyhow::Result<Duration> {
    let mut conn = pool.acquire().await?;
    let started = Instant::now();
    copy_in(
        &mut conn,
        "COPY metrics.events (event_id, user_id, name, occurred_at, properties) FROM STDIN",
        rows,
    )
    .await?;
    Ok(started.elapsed())
}

/// Sends `rows` (COPY text format) through `statement`, a `COPY … FROM
/// STDIN`, in 1 MiB chunks.
async fn copy_in(
    conn: &mut sqlx::PgConnection,
    statement: &str,
    rows: &[u8],
) -> anyhow::Result<()> {
    let mut copy = conn.copy_in_raw(statement).await?;
    for chunk in rows.chunks(1 << 20) {
        copy.send(chunk).await?;
    }
    copy.finish().await?;
    Ok(())
}

/// Times TrackEvents of `events` until the rollup has caught up: the service
/// folds the appended activity into the bitmaps in the background, and what
/// is still pending when the last batch returns is folded inside the timing.
/// Returns (total, that final fold).
async fn time_track(
    target: &Target,
    pool: &PgPool,
    events: &[pb::Event],
    args: &IngestArgs,
) -> anyhow::Result<(Duration, Duration)> {
    let client = target.metrics().await?;
    let batches: Vec<Vec<pb::Event>> = events
        .chunks(args.batch_size as usize)
        .map(<[pb::Event]>::to_vec)
        .collect();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for batch in batches {
        while tasks.len() >= args.concurrency as usize {
            tasks.join_next().await.context("task")???;
        }
        let mut client = client.clone();
        tasks.spawn(async move {
            let r = client
                .track_events(pb::TrackEventsRequest { events: batch })
                .await?;
            anyhow::Ok(r)
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    let last_fold = Instant::now();
    metrics_svc::repo::cohorts::fold::fold(pool).await?;
    Ok((started.elapsed(), last_fold.elapsed()))
}

/// Runs the ingest benchmark and prints both rates and their ratio.
pub async fn ingest(args: &IngestArgs) -> anyhow::Result<ExitCode> {
    with_scratch_database(&args.database_url, "ingest", |options| {
        run_in(args, options)
    })
    .await
}

/// Runs `bench` on a database created for it on the server in `url`, and
/// drops that database afterwards, whatever the outcome (unless
/// `BENCH_KEEP_DATABASE=1`, to look into it after).
pub async fn with_scratch_database<F, Fut>(
    url: &SecretString,
    name: &str,
    bench: F,
) -> anyhow::Result<ExitCode>
where
    F: FnOnce(PgConnectOptions) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<ExitCode>>,
{
    let admin: PgConnectOptions = db::connect_options(url)?;
    let database = format!("growth_bench_{name}_{}", std::process::id());
    let mut conn = sqlx::PgConnection::connect_with(&admin)
        .await
        .context("connecting to DATABASE_URL")?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .execute(&mut conn)
        .await?;
    let result = bench(admin.clone().database(&database)).await;
    if std::env::var_os("BENCH_KEEP_DATABASE").is_some_and(|v| v == "1") {
        eprintln!("bench: BENCH_KEEP_DATABASE=1: database {database} is kept; drop it when done");
        return result;
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await?;
    result
}

async fn run_in(args: &IngestArgs, options: PgConnectOptions) -> anyhow::Result<ExitCode> {
    let pool = db::pool_options(8).connect_with(options).await?;
    db::migrate(&pool, &metrics_svc::migrator()).await?;
    let shutdown = Shutdown::new();
    let server = metrics_svc::start(
        pool.clone(),
        Serve::loopback(AuthPolicy::Disabled, shutdown.clone()),
    )
    .await?;
    let target = Target::new(&server.grpc_addr.to_string(), "127.0.0.1:1", None)?;

    eprintln!(
        "bench: {} users, {} events, batches of {}, {} round(s) each",
        args.users, args.events, args.batch_size, args.rounds
    );
    let mut client = target.metrics().await?;
    let day = Utc
        .with_ymd_and_hms(2024, 12, 1, 0, 0, 0)
        .single()
        .unwrap_or_else(Utc::now);
    for chunk in (0..args.users).collect::<Vec<_>>().chunks(10_000) {
        let users = chunk
            .iter()
            .map(|i| pb::User {
                user_id: format!("bench_{i:07}"),
                email: format!("bench_{i}@example.com"),
                signup_at: Some(from_utc(day)),
                plan: "pro".into(),
                ..Default::default()
            })
            .collect();
        client
            .upsert_users(pb::UpsertUsersRequest { users })
            .await?;
    }
    let events = synthetic_events(args);
    let rows = copy_text(&events);
    sqlx::query("VACUUM ANALYZE metrics.users")
        .execute(&pool)
        .await?;

    let mut track = Vec::new();
    let mut copy = Vec::new();
    for round in 0..args.rounds {
        // Alternate which goes first, so neither always gets the warmer cache.
        for first in [round % 2 == 0, round % 2 != 0] {
            reset(&pool).await?;
            if first {
                let (t, last_fold) = time_track(&target, &pool, &events, args).await?;
                eprintln!(
                    "  round {}: TrackEvents {:>9.0} rows/s (the last fold {:.1} ms of it)",
                    round + 1,
                    args.events as f64 / t.as_secs_f64(),
                    last_fold.as_secs_f64() * 1000.0
                );
                track.push(t);
            } else {
                let t = time_copy(&pool, &rows).await?;
                eprintln!(
                    "  round {}: COPY        {:>9.0} rows/s",
                    round + 1,
                    args.events as f64 / t.as_secs_f64()
                );
                copy.push(t);
            }
        }
    }
    shutdown.trigger();
    server.wait().await?;
    pool.close().await;

    let best = |times: &[Duration]| times.iter().min().copied().unwrap_or_default();
    let rate = |t: Duration| args.events as f64 / t.as_secs_f64();
    let (track_rate, copy_rate) = (rate(best(&track)), rate(best(&copy)));
    let ratio = track_rate / copy_rate;
    let mut table = output::table(["method (best round)", "rows", "seconds", "rows/s"]);
    for (method, t) in [
        ("TrackEvents via gRPC", best(&track)),
        ("COPY FROM STDIN", best(&copy)),
    ] {
        table.add_row(vec![
            method.to_owned(),
            args.events.to_string(),
            format!("{:.3}", t.as_secs_f64()),
            format!("{:.0}", rate(t)),
        ]);
    }
    println!("{table}");
    println!(
        "TrackEvents / COPY = {:.1}% (target >= 50%): {}",
        ratio * 100.0,
        if ratio >= 0.5 { "MET" } else { "MISSED" }
    );
    Ok(ExitCode::SUCCESS)
}
