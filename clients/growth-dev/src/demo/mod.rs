//! `growth-dev demo`: both services on a local database with demo data.
//!
//! Uses `DATABASE_URL` when set, else a throwaway cluster made with the
//! machine's `initdb`/`pg_ctl`; applies both schemas' migrations, starts the
//! metrics and lifecycle services on loopback, seeds a synthetic SaaS through
//! the ingest RPCs, prints what to try, and stops everything on Ctrl-C.

mod lifecycle;
pub mod postgres;
mod roles;

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use growth_runtime::config::AuthPolicy;
use growth_runtime::{RunningServer, Serve, Shutdown, db};
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;

use crate::cli::DemoArgs;
use growthctl::cli::Format;
use growthctl::clients::Target;
use growthctl::seed;
use postgres::LocalCluster;

/// The RPC token the demo services accept.
pub const DEMO_TOKEN: &str = "demo-token";
/// The token the demo's dashboard signs people in with.
pub const DEMO_DASHBOARD_TOKEN: &str = "demo-dashboard-token";

/// Starts a service on `preferred` port, or any free port if that is taken.
async fn start_service<F, Fut>(
    name: &str,
    preferred: u16,
    auth: &AuthPolicy,
    shutdown: &Shutdown,
    pool: PgPool,
    start: F,
) -> anyhow::Result<RunningServer>
where
    F: Fn(PgPool, Serve) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<RunningServer>>,
{
    let serve = |port: u16| Serve {
        grpc_addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        ..Serve::loopback(auth.clone(), shutdown.clone())
    };
    match start(pool.clone(), serve(preferred)).await {
        Ok(server) => Ok(server),
        Err(e) if preferred != 0 => {
            eprintln!("note: {name}: {e:#}; using a free port instead");
            start(pool, serve(0)).await
        }
        Err(e) => Err(e),
    }
}

/// Runs the demo. Ctrl-C or SIGTERM at any point, start-up included, stops
/// what has been started and removes the throwaway cluster.
pub async fn run(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    growth_runtime::telemetry::init(growth_runtime::config::LogFormat::Pretty);
    let shutdown = Shutdown::new();
    shutdown.trigger_on_signals();
    let (url, cluster) = match &args.database_url {
        Some(url) => {
            eprintln!("demo: using the database in DATABASE_URL");
            (url.clone(), None)
        }
        None => {
            eprintln!("demo: DATABASE_URL is not set; creating a throwaway PostgreSQL cluster ...");
            let cluster = tokio::task::spawn_blocking(LocalCluster::start)
                .await
                .context("cluster set-up panicked")?
                .context("creating a throwaway PostgreSQL cluster")?;
            eprintln!(
                "demo: PostgreSQL is running at {} (files in {})",
                cluster.url(),
                cluster.dir().display()
            );
            (SecretString::from(cluster.url()), Some(cluster))
        }
    };
    let result = if shutdown.is_triggered() {
        Ok(ExitCode::SUCCESS)
    } else {
        run_on(args, &url, &shutdown).await
    };
    if let Some(cluster) = cluster {
        cluster
            .stop()
            .context("stopping the throwaway PostgreSQL cluster")?;
        eprintln!("demo: throwaway PostgreSQL stopped and removed");
    }
    result
}

async fn run_on(
    args: &DemoArgs,
    url: &SecretString,
    shutdown: &Shutdown,
) -> anyhow::Result<ExitCode> {
    let pool = db::connect(url, 20, Duration::from_secs(30)).await?;
    // The roles first: the migrations grant them their schema.
    let own_roles = roles::bootstrap(&pool).await;
    db::migrate(&pool, &metrics_svc::migrator())
        .await
        .context("migrating the metrics schema")?;
    db::migrate(&pool, &lifecycle_svc::migrator())
        .await
        .context("migrating the lifecycle schema")?;
    let (metrics_pool, lifecycle_pool) = if own_roles {
        (
            roles::pool_as(&pool, "growth_metrics").await,
            roles::pool_as(&pool, "growth_lifecycle").await,
        )
    } else {
        (pool.clone(), pool.clone())
    };

    let auth = AuthPolicy::Tokens(vec![SecretString::from(DEMO_TOKEN.to_owned())]);
    // The weekly report asks lifecycle for its stages where lifecycle is
    // about to listen.
    let metrics_args = metrics_svc::config::MetricsArgs {
        lifecycle_addr: format!("127.0.0.1:{}", args.lifecycle_port),
        lifecycle_token: DEMO_TOKEN.into(),
        dashboard_tokens: DEMO_DASHBOARD_TOKEN.into(),
        ..metrics_svc::config::MetricsArgs::default()
    };
    let metrics = start_service(
        "metrics-svc",
        args.metrics_port,
        &auth,
        shutdown,
        metrics_pool,
        |pool, serve| metrics_svc::start_with(pool, serve, metrics_args.clone()),
    )
    .await?;
    let lifecycle_args = lifecycle_svc::LifecycleArgs::for_metrics(
        &metrics.grpc_addr.to_string(),
        Some(SecretString::from(DEMO_TOKEN.to_owned())),
    );
    let lifecycle = start_service(
        "lifecycle-svc",
        args.lifecycle_port,
        &auth,
        shutdown,
        lifecycle_pool,
        |pool, serve| lifecycle_svc::start(pool, serve, lifecycle_args.clone()),
    )
    .await?;

    let token = SecretString::from(DEMO_TOKEN.to_owned());
    let target = Target::new(
        &metrics.grpc_addr.to_string(),
        &lifecycle.grpc_addr.to_string(),
        Some(&token),
    )?;
    lifecycle::add_example_rule(&target).await?;
    eprintln!(
        "demo: seeding {} users over {} months ...",
        args.seed.users, args.seed.months
    );
    let seeded = tokio::select! {
        report = seed::seed(target.metrics().await?, &args.seed, true) => Some(report?),
        _ = shutdown.wait() => None,
    };
    if let Some(report) = seeded {
        seed::print_report(Format::Table, &report);
        eprintln!("demo: evaluating every user's lifecycle stage ...");
        let evaluated = lifecycle::evaluate(&target).await?;
        eprintln!(
            "demo: {} users evaluated, {} transitions recorded",
            evaluated.evaluated, evaluated.transitions
        );
        eprintln!("demo: refreshing the cohort matrices (the nightly CronJob's job) ...");
        let refreshed = target
            .metrics()
            .await?
            .refresh_cohorts(growth_proto::metrics::v1::RefreshCohortsRequest::default())
            .await?
            .into_inner();
        eprintln!(
            "demo: {} cohorts refreshed, {} cells written in {} ms",
            refreshed.cohorts_refreshed, refreshed.cells_written, refreshed.duration_ms
        );
        print_next_steps(&metrics, &lifecycle, url);
        if !args.exit_after_seed {
            eprintln!("\ndemo: running; press Ctrl-C to stop");
            shutdown.wait().await;
        }
    }
    shutdown.trigger();
    metrics.wait().await?;
    lifecycle.wait().await?;
    pool.close().await;
    eprintln!("demo: services stopped");
    Ok(ExitCode::SUCCESS)
}

fn print_next_steps(metrics: &RunningServer, lifecycle: &RunningServer, url: &SecretString) {
    let m = metrics.grpc_addr;
    let l = lifecycle.grpc_addr;
    let local_db = url
        .expose_secret()
        .starts_with("postgres://postgres@127.0.0.1:");
    println!(
        r#"
Both services are running:
  metrics-svc    gRPC {m}   Prometheus http://{mh}/metrics
  lifecycle-svc  gRPC {l}   Prometheus http://{lh}/metrics
  RPC token      {DEMO_TOKEN}
  dashboard      http://{mh}/dashboard   (sign in with {DEMO_DASHBOARD_TOKEN})
{db}
Try, in another terminal:
  export GROWTH_METRICS_ADDR={m} GROWTH_LIFECYCLE_ADDR={l} GROWTH_TOKEN={DEMO_TOKEN}
  cargo run --release -p growthctl -- health
  cargo run --release -p growthctl -- events watch --after 0 --limit 20
  echo '{{"event_id":"hello-1","user_id":"u42_0000001","name":"login","occurred_at":"{now}"}}' \
    | cargo run --release -p growthctl -- events track
  cargo run --release -p growthctl -- lifecycle stages
  cargo run --release -p growthctl -- lifecycle get u42_0000001
  cargo run --release -p growthctl -- lifecycle deliveries --status skipped   # no Kit key in the demo
  cargo run --release -p growthctl -- cohorts show --period week
  cargo run --release -p growthctl -- cohorts show --period month --metric revenue --breakdown plan
  cargo run --release -p growthctl -- cohorts overview --period month
  cargo run --release -p growthctl -- revenue summary --from {six_months_ago} --to {this_month}
  cargo run --release -p growthctl -- cohorts churn --month {last_month}
  cargo run --release -p growthctl -- --format md insights weekly   # last week's growth report (rule-based: no Anthropic key in the demo)
  cargo run --release -p growthctl -- insights active              # DAU, WAU, MAU and stickiness of the last 28 days
  cargo run --release -p growthctl -- cohorts value                # LTV curves per monthly cohort and currency
  cargo run --release -p growthctl -- --help

With grpcurl (reflection is on; health and reflection need no token):
  grpcurl -plaintext {m} list
  grpcurl -plaintext {m} describe growth.metrics.v1.MetricsService
  grpcurl -plaintext -d '{{"service":"growth.metrics.v1.MetricsService"}}' {m} grpc.health.v1.Health/Check
  grpcurl -plaintext -H 'authorization: Bearer {DEMO_TOKEN}' \
    -d '{{"after_sequence":0,"stop_at_end":true,"max_batch_size":3}}' {m} growth.metrics.v1.MetricsService/WatchEvents"#,
        mh = metrics.http_addr,
        lh = lifecycle.http_addr,
        db = if local_db {
            format!("  database       {}\n", url.expose_secret())
        } else {
            String::new()
        },
        now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        six_months_ago = month_ago(5),
        this_month = month_ago(0),
        last_month = month_ago(1),
    );
}

/// `YYYY-MM` of the month `n` months before the current one (UTC).
fn month_ago(n: u32) -> String {
    let today = chrono::Utc::now().date_naive();
    today
        .checked_sub_months(chrono::Months::new(n))
        .unwrap_or(today)
        .format("%Y-%m")
        .to_string()
}
