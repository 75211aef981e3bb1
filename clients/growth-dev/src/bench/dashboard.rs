//! `growth-dev bench dashboard`: the dashboard's pages on the retention
//! benchmark's data (200,000 users, about 10M events over 12 months, so a
//! DAY matrix of 365 cohorts × 31 offsets). Loads it through the ingest RPCs
//! into a scratch database, refreshes the matrices, starts metrics-svc
//! in-process with a dashboard token, signs in over HTTP, then measures:
//!
//! - the retention page's DAY matrix (`/dashboard/retention?period=day`):
//!   server time and bytes (targets < 100 ms, < 300 kB), asked for as a
//!   browser asks (`Accept-Encoding: gzip`); the bytes that count are those
//!   sent over the wire, and the page's uncompressed size is printed beside
//!   them;
//! - the overview page (`/dashboard/overview`): server time (< 150 ms) with
//!   `DASHBOARD_REMEMBER_SECONDS=0`, so every load does all its reads, and
//!   as deployed (the default 60 s, on a second service: loads after the
//!   first show remembered reads), each with its reads' `Server-Timing`;
//! - Chromium's `load` event for the DAY page (< 1 s), by the browser
//!   script `tests/browser/bench-load.mjs` (playwright-core, Debian's
//!   chromium), when node and that script's packages are there.
//!
//! Server time is the `Server-Timing` header's `dur` when the page sends
//! one; otherwise the HTTP round trip on loopback (request sent to the last
//! byte read), which is the server's time plus loopback transfer: an upper
//! bound of it. Which one was measured is printed. Bytes are the body as sent
//! (reqwest here does not decode gzip, so they are the compressed bytes).
//! The round trip is printed too: it adds the transfer to what the header
//! says.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use growth_proto::common::v1::Granularity;
use growth_proto::metrics::v1 as pb;
use growth_runtime::config::AuthPolicy;
use growth_runtime::{Serve, Shutdown, db};
use secrecy::SecretString;
use sqlx::postgres::PgConnectOptions;

use growthctl::clients::Target;
use growthctl::seed::{self, SeedParams};

use super::page_timing::{BROWSER_ENCODINGS, Timed, time_page};
use super::timing::ms;

/// The dashboard token of the benchmark's service.
const TOKEN: &str = "bench-dashboard-token-0123456789abcdef";

/// `bench dashboard` options.
#[derive(Debug, Clone, Args)]
pub struct DashboardBenchArgs {
    /// Server to benchmark on; a scratch database is created there.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: SecretString,
    /// Users to load (the retention benchmark's data by default).
    #[arg(long, default_value_t = 200_000)]
    pub users: u64,
    /// Mean events per user.
    #[arg(long, default_value_t = 50.0)]
    pub events_per_user: f64,
    /// Months of history.
    #[arg(long, default_value_t = 12)]
    pub months: u32,
    /// Timed requests of each page, after two untimed ones; the median counts.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub runs: u32,
    /// The script that times Chromium's load event (empty: not measured).
    #[arg(long, default_value = "tests/browser/bench-load.mjs")]
    pub browser_script: String,
    /// The browser the script starts.
    #[arg(long, env = "CHROMIUM", default_value = "/usr/bin/chromium")]
    pub chromium: PathBuf,
}

/// Runs the benchmark; exit 0 when every measured target is met, 1 if not.
pub async fn run(args: &DashboardBenchArgs) -> anyhow::Result<ExitCode> {
    super::with_scratch_database(&args.database_url, "dashboard", |options| {
        run_in(args, options)
    })
    .await
}

/// Signs in with the form's POST; returns the `Cookie` header to send.
async fn sign_in(client: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let response = client
        .post(format!("{base}/dashboard/sign-in"))
        .header(reqwest::header::ORIGIN, base)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(serde_urlencoded::to_string([
            ("token", TOKEN),
            ("next", "/dashboard/retention"),
        ])?)
        .send()
        .await?;
    anyhow::ensure!(
        response.status() == reqwest::StatusCode::SEE_OTHER,
        "sign-in answered {}",
        response.status()
    );
    let set_cookie = response
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .context("sign-in set no cookie")?
        .to_str()?;
    Ok(set_cookie.split(';').next().unwrap_or_default().to_owned())
}

fn verdict(met: bool) -> &'static str {
    if met { "MET" } else { "NOT MET" }
}

async fn run_in(args: &DashboardBenchArgs, options: PgConnectOptions) -> anyhow::Result<ExitCode> {
    let pool = db::pool_options(8).connect_with(options).await?;
    db::migrate(&pool, &metrics_svc::migrator()).await?;
    let shutdown = Shutdown::new();
    let server = metrics_svc::start_with(
        pool.clone(),
        Serve::loopback(AuthPolicy::Disabled, shutdown.clone()),
        metrics_svc::config::MetricsArgs {
            dashboard_tokens: TOKEN.into(),
            // Every load reads: the overview's time is its reads', not a
            // remembered answer's.
            dashboard_remember_seconds: 0,
            ..metrics_svc::config::MetricsArgs::default()
        },
    )
    .await?;
    let target = Target::new(&server.grpc_addr.to_string(), "127.0.0.1:1", None)?;
    let client = target.metrics().await?;

    eprintln!(
        "bench: loading {} users over {} months ({} events per user) through UpsertUsers/TrackEvents ...",
        args.users, args.months, args.events_per_user
    );
    let started = Instant::now();
    let params = SeedParams {
        users: args.users,
        months: args.months,
        events_per_user: args.events_per_user,
        ..SeedParams::default()
    };
    seed::seed(client.clone(), &params, true).await?;
    metrics_svc::repo::cohorts::fold::fold(&pool).await?;
    client
        .clone()
        .refresh_cohorts(pb::RefreshCohortsRequest::default())
        .await?;
    sqlx::query("VACUUM ANALYZE").execute(&pool).await?;
    let day = client
        .clone()
        .get_retention_matrix(pb::GetRetentionMatrixRequest {
            granularity: Granularity::Day as i32,
            ..Default::default()
        })
        .await?
        .into_inner();
    let offsets = growth_proto::export::matrix::max_offset(&day) + 1;
    eprintln!(
        "bench: loaded and refreshed in {:.1} s; the DAY matrix has {} cohorts × {offsets} offsets",
        started.elapsed().as_secs_f64(),
        day.rows.len()
    );

    let base = format!("http://{}", server.http_addr);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let cookie = sign_in(&http, &base).await?;
    let day_url = format!("{base}/dashboard/retention?period=day");
    let retention = time_page(&http, &day_url, &cookie, args.runs, BROWSER_ENCODINGS)
        .await?
        .context("the retention page answered 404")?;
    let plain = time_page(&http, &day_url, &cookie, 1, "identity")
        .await?
        .context("the retention page answered 404")?;
    let overview = time_page(
        &http,
        &format!("{base}/dashboard/overview"),
        &cookie,
        args.runs,
        BROWSER_ENCODINGS,
    )
    .await?
    .context("the overview page answered 404")?;
    let load = super::browser_load::median(
        &args.browser_script,
        &args.chromium,
        args.runs,
        &base,
        &day_url,
        TOKEN,
    )
    .await;
    // The overview as deployed: a second service on the same database with
    // the default DASHBOARD_REMEMBER_SECONDS; its loads after the first show
    // remembered reads while one task reads them again.
    let remembered_server = metrics_svc::start_with(
        pool.clone(),
        Serve::loopback(AuthPolicy::Disabled, shutdown.clone()),
        metrics_svc::config::MetricsArgs {
            dashboard_tokens: TOKEN.into(),
            ..metrics_svc::config::MetricsArgs::default()
        },
    )
    .await?;
    let remembered_base = format!("http://{}", remembered_server.http_addr);
    let remembered_cookie = sign_in(&http, &remembered_base).await?;
    let remembered = time_page(
        &http,
        &format!("{remembered_base}/dashboard/overview"),
        &remembered_cookie,
        args.runs,
        BROWSER_ENCODINGS,
    )
    .await?
    .context("the overview page answered 404")?;

    let what = |t: &Timed| {
        if t.from_header {
            "Server-Timing"
        } else {
            "round trip, no Server-Timing header"
        }
    };
    let mut all_met = true;
    println!(
        "\nDashboard on {} users, DAY matrix {} cohorts × {offsets} offsets ({} runs each, median; best–worst):",
        args.users,
        day.rows.len(),
        args.runs
    );
    let met = retention.median < Duration::from_millis(100);
    all_met &= met;
    println!(
        "  retention page (DAY) server time  {:>8.1} ms ({:.1}–{:.1}; {}; round trip {:.1} ms)  target < 100 ms: {}",
        ms(retention.median),
        ms(retention.best),
        ms(retention.worst),
        what(&retention),
        ms(retention.round_trip),
        verdict(met)
    );
    let met = retention.bytes < 300_000;
    all_met &= met;
    println!(
        "  retention page (DAY) bytes        {:>8.1} kB ({} bytes on the wire, gzip; {:.1} kB uncompressed)  target < 300 kB: {}",
        retention.bytes as f64 / 1000.0,
        retention.bytes,
        plain.bytes as f64 / 1000.0,
        verdict(met)
    );
    match &load {
        Ok(load_ms) => {
            let met = *load_ms < 1000.0;
            all_met &= met;
            println!(
                "  retention page (DAY) load event   {load_ms:>8.1} ms (headless Chromium, median)  target < 1 s: {}",
                verdict(met)
            );
        }
        Err(why) => println!("  retention page (DAY) load event   not measured: {why}"),
    }
    let overview_rows = [
        ("overview, every load reads (REMEMBER 0)", &overview),
        ("overview, as deployed (REMEMBER 60 s) ", &remembered),
    ];
    for (name, t) in overview_rows {
        let met = t.median < Duration::from_millis(150);
        all_met &= met;
        println!(
            "  {name} {:>8.1} ms ({:.1}–{:.1}; {}; round trip {:.1} ms; {:.1} kB)  target < 150 ms: {}",
            ms(t.median),
            ms(t.best),
            ms(t.worst),
            what(t),
            ms(t.round_trip),
            t.bytes as f64 / 1000.0,
            verdict(met)
        );
        println!("    its last answer's Server-Timing: {}", t.timing);
    }

    shutdown.trigger();
    server.wait().await?;
    remembered_server.wait().await?;
    pool.close().await;
    Ok(if all_met {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
