//! `growth-dev bench webhook`: signed `payment_intent.succeeded` events
//! posted to the real `POST /stripe/webhook` by concurrent senders, next to
//! the same number of plain `INSERT … ON CONFLICT` statements into
//! `metrics.payments` from as many connections (the reference: what a
//! payment write costs without HTTP, signature, idempotency or the event
//! log). Rounds alternate; the best round of each counts.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use growth_runtime::config::AuthPolicy;
use growth_runtime::{Serve, Shutdown, db};
use metrics_svc::config::MetricsArgs;
use metrics_svc::webhook::signature::sign;
use secrecy::SecretString;
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;

use growthctl::output;

const SECRET: &str = "whsec_bench_secret";

/// `bench webhook` options.
#[derive(Debug, Clone, Args)]
pub struct WebhookBenchArgs {
    /// Server to benchmark on; a scratch database is created there.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: SecretString,
    /// Events (and reference statements) per round.
    #[arg(long, default_value_t = 20_000)]
    pub events: u32,
    /// Concurrent senders (and reference connections).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub senders: u32,
    /// Rounds of each (alternating).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub rounds: u32,
}

/// One round: how long, and every request's latency.
struct Round {
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Round {
    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len().max(1));
        sorted.get(rank - 1).copied().unwrap_or_default()
    }
}

fn event_body(i: u32, round: u32) -> String {
    let created = 1_762_000_000 + i64::from(i);
    serde_json::json!({
        "id": format!("evt_bench_{round}_{i:08}"),
        "object": "event",
        "api_version": metrics_svc::stripe::config::API_VERSION,
        "type": "payment_intent.succeeded",
        "created": created + 5,
        "data": {"object": {
            "id": format!("pi_bench_{round}_{i:08}"),
            "object": "payment_intent",
            "amount": 4900,
            "amount_received": 4900,
            "currency": "usd",
            "status": "succeeded",
            "customer": format!("cus_bench_{:05}", i % 5000),
            "latest_charge": format!("ch_bench_{round}_{i:08}"),
            "created": created,
        }}
    })
    .to_string()
}

async fn send_all(url: &str, bodies: Vec<String>, senders: u32) -> anyhow::Result<Round> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(senders as usize)
        .build()?;
    let queue = Arc::new(std::sync::Mutex::new(bodies));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..senders {
        let (client, queue, url) = (client.clone(), queue.clone(), url.to_owned());
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let Some(body) = queue.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.pop()
                else {
                    break;
                };
                let t = chrono::Utc::now().timestamp();
                let header = format!("t={t},v1={}", sign(SECRET, t, body.as_bytes()));
                let sent = Instant::now();
                let response = client
                    .post(&url)
                    .header("Stripe-Signature", header)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await?;
                anyhow::ensure!(
                    response.status().is_success(),
                    "webhook answered {}: {}",
                    response.status(),
                    response.text().await.unwrap_or_default()
                );
                latencies.push(sent.elapsed());
            }
            anyhow::Ok(latencies)
        });
    }
    let mut latencies = Vec::new();
    while let Some(done) = tasks.join_next().await {
        latencies.extend(done.context("sender")??);
    }
    Ok(Round {
        elapsed: started.elapsed(),
        latencies,
    })
}

async fn insert_all(pool: &PgPool, n: u32, senders: u32, round: u32) -> anyhow::Result<Round> {
    let next = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..senders {
        let (pool, next) = (pool.clone(), next.clone());
        tasks.spawn(async move {
            let mut conn = pool.acquire().await?;
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let sent = Instant::now();
                sqlx::query(
                    "INSERT INTO metrics.payments
                         (stripe_id, stripe_charge_id, stripe_customer, amount_minor, currency,
                          status, created_at)
                     VALUES ($1, $2, $3, 4900, 'usd', 'succeeded', to_timestamp($4))
                     ON CONFLICT (stripe_id) DO UPDATE SET status = EXCLUDED.status,
                         updated_at = now()",
                )
                .bind(format!("pi_ref_{round}_{i:08}"))
                .bind(format!("ch_ref_{round}_{i:08}"))
                .bind(format!("cus_bench_{:05}", i % 5000))
                .bind(1_762_000_000f64 + f64::from(i))
                .execute(&mut *conn)
                .await?;
                latencies.push(sent.elapsed());
            }
            anyhow::Ok(latencies)
        });
    }
    let mut latencies = Vec::new();
    while let Some(done) = tasks.join_next().await {
        latencies.extend(done.context("reference connection")??);
    }
    Ok(Round {
        elapsed: started.elapsed(),
        latencies,
    })
}

/// Runs the benchmark on a scratch database.
pub async fn run(args: &WebhookBenchArgs) -> anyhow::Result<ExitCode> {
    super::with_scratch_database(&args.database_url, "webhook", |options| {
        run_in(args, options)
    })
    .await
}

async fn run_in(args: &WebhookBenchArgs, options: PgConnectOptions) -> anyhow::Result<ExitCode> {
    metrics_svc::stripe::client::install_crypto_provider();
    let pool = db::pool_options(args.senders + 4)
        .connect_with(options)
        .await?;
    db::migrate(&pool, &metrics_svc::migrator()).await?;
    let shutdown = Shutdown::new();
    let settings = MetricsArgs {
        stripe_webhook_secret: growth_runtime::config::OptionalSecret::from(SECRET),
        ..MetricsArgs::default()
    };
    let server = metrics_svc::start_with(
        pool.clone(),
        Serve::loopback(AuthPolicy::Disabled, shutdown.clone()),
        settings,
    )
    .await?;
    let url = format!("http://{}{}", server.http_addr, metrics_svc::webhook::PATH);
    eprintln!(
        "bench: {} signed payment_intent.succeeded events per round, {} senders, {} round(s) each",
        args.events, args.senders, args.rounds
    );
    let (mut hooks, mut inserts) = (Vec::new(), Vec::new());
    for round in 0..args.rounds {
        for webhook_first in [round % 2 == 0, round % 2 != 0] {
            sqlx::query("CHECKPOINT").execute(&pool).await?;
            if webhook_first {
                let bodies = (0..args.events).map(|i| event_body(i, round)).collect();
                let r = send_all(&url, bodies, args.senders).await?;
                eprintln!(
                    "  round {}: webhook   {:>7.0} events/s, p99 {:.1} ms",
                    round + 1,
                    r.rate(),
                    r.percentile(0.99).as_secs_f64() * 1000.0
                );
                hooks.push(r);
            } else {
                let r = insert_all(&pool, args.events, args.senders, round).await?;
                eprintln!(
                    "  round {}: reference {:>7.0} statements/s, p99 {:.1} ms",
                    round + 1,
                    r.rate(),
                    r.percentile(0.99).as_secs_f64() * 1000.0
                );
                inserts.push(r);
            }
        }
    }
    shutdown.trigger();
    server.wait().await?;
    pool.close().await;

    let best = |rounds: &[Round]| -> Option<usize> {
        (0..rounds.len()).max_by(|&a, &b| rounds[a].rate().total_cmp(&rounds[b].rate()))
    };
    let (Some(h), Some(r)) = (best(&hooks), best(&inserts)) else {
        anyhow::bail!("no round ran");
    };
    let (hook, reference) = (&hooks[h], &inserts[r]);
    let mut table = output::table([
        "method (best round)",
        "requests",
        "per s",
        "p50 ms",
        "p99 ms",
    ]);
    for (method, round) in [
        ("signed webhook events over HTTP", hook),
        ("INSERT … ON CONFLICT statements", reference),
    ] {
        table.add_row(vec![
            method.to_owned(),
            round.latencies.len().to_string(),
            format!("{:.0}", round.rate()),
            format!("{:.2}", round.percentile(0.5).as_secs_f64() * 1000.0),
            format!("{:.2}", round.percentile(0.99).as_secs_f64() * 1000.0),
        ]);
    }
    println!("{table}");
    let p99_ms = hook.percentile(0.99).as_secs_f64() * 1000.0;
    let met = hook.rate() >= 1000.0 && p99_ms < 25.0;
    println!(
        "webhook {:.0} events/s ({:.1}% of the reference), p99 {:.1} ms (target >= 1000/s and p99 < 25 ms): {}",
        hook.rate(),
        hook.rate() / reference.rate() * 100.0,
        p99_ms,
        if met { "MET" } else { "MISSED" }
    );
    Ok(ExitCode::SUCCESS)
}
