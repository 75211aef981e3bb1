//! The feed half of `growth-dev bench lifecycle`: events tracked at a steady
//! rate through `TrackEvents`; the lag of each batch is the time from its
//! `TrackEvents` returning to the lifecycle cursor (committed with the new
//! stages) passing the batch's last sequence. Then a burst, to see the most
//! events per second the consumer processes end to end.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use chrono::Utc;
use growth_proto::metrics::v1 as pb;
use growth_proto::timestamp::from_utc;
use sqlx::PgPool;

use growthctl::clients::Target;

/// Puts the consumer's cursor at the newest event, so the follower starts
/// live instead of replaying the bulk-loaded history.
pub async fn start_at_the_end(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO lifecycle.feed_cursors (consumer, last_sequence)
         SELECT 'stage-updater', coalesce(max(sequence), 0) FROM metrics.events
         ON CONFLICT (consumer) DO UPDATE SET last_sequence = excluded.last_sequence",
    )
    .execute(pool)
    .await?;
    Ok(())
}

async fn cursor(pool: &PgPool) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT last_sequence FROM lifecycle.feed_cursors WHERE consumer = 'stage-updater'",
    )
    .fetch_one(pool)
    .await?)
}

fn batch(tag: &str, n: u64, users: u64, seed: u64) -> Vec<pb::Event> {
    const NAMES: [&str; 5] = [
        "login",
        "dashboard_viewed",
        "report_created",
        "export_downloaded",
        "invite_sent",
    ];
    let now = Utc::now();
    (0..n)
        .map(|i| {
            let user = (seed.wrapping_mul(1_000_003) + i.wrapping_mul(2_654_435_761)) % users;
            pb::Event {
                event_id: format!("{tag}_{seed}_{i}"),
                user_id: format!("lc_{user:07}"),
                name: NAMES[(i % 5) as usize].to_owned(),
                occurred_at: Some(from_utc(now)),
                properties_json: String::new(),
            }
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

/// Waits until the cursor reaches `sequence`, polling every 5 ms; returns
/// when it did, or `None` after `limit`.
async fn reached(pool: &PgPool, sequence: i64, limit: Duration) -> anyhow::Result<Option<Instant>> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if cursor(pool).await? >= sequence {
            return Ok(Some(Instant::now()));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(None)
}

/// Runs both parts; true when the p99 lag at `rate` is under a second.
pub async fn run(
    pool: &PgPool,
    target: &Target,
    users: u64,
    rate: u64,
    seconds: u64,
) -> anyhow::Result<bool> {
    let mut client = target.metrics().await?;
    let per_tick = (rate / 10).max(1);
    println!(
        "\nLive feed: {rate} events/s for {seconds} s over {users} users, in batches of {per_tick} every 100 ms:"
    );

    // Sender and watcher run side by side: the watcher timestamps the moment
    // the cursor passes each batch.
    let (sent_tx, mut sent_rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, i64)>();
    let watcher = {
        let pool = pool.clone();
        tokio::spawn(async move {
            let mut waiting: VecDeque<(Instant, i64)> = VecDeque::new();
            let mut lags = Vec::new();
            let mut open = true;
            while open || !waiting.is_empty() {
                while let Ok(sent) = sent_rx.try_recv() {
                    waiting.push_back(sent);
                }
                if open && sent_rx.is_closed() && sent_rx.is_empty() {
                    open = false;
                }
                let position = cursor(&pool).await?;
                let now = Instant::now();
                while waiting.front().is_some_and(|(_, seq)| *seq <= position) {
                    if let Some((at, _)) = waiting.pop_front() {
                        lags.push(now - at);
                    }
                }
                if let Some((at, _)) = waiting.front()
                    && now - *at > Duration::from_secs(60)
                {
                    anyhow::bail!("the feed fell more than 60 s behind");
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            anyhow::Ok(lags)
        })
    };
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut sent = 0u64;
    for seed in 0..seconds * 10 {
        tick.tick().await;
        let events = batch("live", per_tick, users, seed);
        let reply = client
            .track_events(pb::TrackEventsRequest { events })
            .await?
            .into_inner();
        sent += u64::from(reply.inserted);
        sent_tx.send((Instant::now(), reply.last_sequence))?;
    }
    let sending = started.elapsed();
    drop(sent_tx);
    let mut lags = watcher.await??;
    lags.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p99 = percentile(&lags, 0.99);
    println!(
        "  sent {sent} events in {:.1} s ({:.0} events/s); lag over {} batches: p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        sending.as_secs_f64(),
        sent as f64 / sending.as_secs_f64(),
        lags.len(),
        ms(percentile(&lags, 0.5)),
        ms(percentile(&lags, 0.95)),
        ms(p99),
        ms(lags.last().copied().unwrap_or_default()),
    );
    let met = p99 < Duration::from_secs(1);
    println!(
        "  p99 lag at {rate} events/s (target < 1 s): {}",
        if met { "MET" } else { "NOT MET" }
    );

    // Burst: as fast as TrackEvents takes them, then until the cursor catches up.
    let burst = 100_000u64;
    let started = Instant::now();
    let mut last = 0;
    for seed in 0..burst / 1000 {
        let events = batch("burst", 1000, users, seed);
        last = client
            .track_events(pb::TrackEventsRequest { events })
            .await?
            .into_inner()
            .last_sequence;
    }
    let tracked = started.elapsed();
    let done = reached(pool, last, Duration::from_secs(300))
        .await?
        .ok_or_else(|| anyhow::anyhow!("the feed did not catch up with the burst within 300 s"))?;
    let total = done - started;
    println!(
        "  burst of {burst} events: tracked in {:.1} s, processed by lifecycle {:.1} s after the first was sent: {:.0} events/s end to end",
        tracked.as_secs_f64(),
        total.as_secs_f64(),
        burst as f64 / total.as_secs_f64()
    );
    Ok(met)
}
