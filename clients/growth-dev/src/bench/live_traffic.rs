//! The retention benchmark's live traffic: login events of random users
//! sent through `TrackEvents` and folded into the rollup, and the state of
//! the pending activity table they leave.

use std::time::{Duration, Instant};

use growth_proto::metrics::v1 as pb;
use growth_proto::timestamp::from_utc;
use sqlx::PgPool;

use growthctl::clients::Metrics;

/// Live traffic: `n` login events of random users, spread in time order over
/// `from..to`, each batch of 1,000 a different user per event (as a
/// product's events arrive), sent and then folded into the rollup (as they
/// would be by the time a refresh runs). Returns how long that took.
pub async fn traffic(
    client: &Metrics,
    pool: &PgPool,
    n: usize,
    (from, to): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>),
    tag: &str,
) -> anyhow::Result<Duration> {
    let users: Vec<String> =
        sqlx::query_scalar("SELECT user_id FROM metrics.users ORDER BY random() LIMIT $1")
            .bind((n as i64 / 3).max(1))
            .fetch_all(pool)
            .await?;
    let span = (to - from).num_milliseconds().max(1);
    let events: Vec<pb::Event> = (0..n)
        .map(|i| pb::Event {
            event_id: format!("bench-{tag}-{i}"),
            user_id: users[i % users.len().max(1)].clone(),
            name: "login".into(),
            occurred_at: Some(from_utc(
                from + chrono::Duration::milliseconds(span * i as i64 / n.max(1) as i64),
            )),
            properties_json: String::new(),
        })
        .collect();
    let started = Instant::now();
    for chunk in events.chunks(1000) {
        client
            .clone()
            .track_events(pb::TrackEventsRequest {
                events: chunk.to_vec(),
            })
            .await?;
    }
    metrics_svc::repo::cohorts::fold::fold(pool).await?;
    Ok(started.elapsed())
}

/// The pending activity's table: size on disk, rows (counted) and dead rows
/// (as the statistics collector last saw them).
pub async fn pending_state(pool: &PgPool) -> anyhow::Result<String> {
    // Other sessions report their counts at most once a second.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (bytes, live, dead): (i64, i64, i64) = sqlx::query_as(
        "SELECT coalesce(sum(pg_total_relation_size(relid)), 0)::bigint,
                (SELECT count(*) FROM metrics.activity_pending),
                coalesce(sum(n_dead_tup), 0)::bigint
         FROM pg_stat_user_tables
         WHERE schemaname = 'metrics' AND relname LIKE 'activity_pending%'",
    )
    .fetch_one(pool)
    .await?;
    Ok(format!(
        "metrics.activity_pending: {:.1} MiB, {live} rows and {dead} dead rows",
        bytes as f64 / 1024.0 / 1024.0
    ))
}
