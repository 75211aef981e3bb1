//! The event feed: live stage updates, resume after a restart, degraded mode
//! while metrics is down, one leader among replicas.

use growth_proto::lifecycle::v1::LifecycleStage as S;
use sqlx::PgPool;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::helpers::*;

async fn cursor(c: &Cluster) -> i64 {
    sqlx::query_scalar("SELECT coalesce(max(last_sequence), 0) FROM lifecycle.feed_cursors")
        .fetch_one(&c.pool)
        .await
        .unwrap()
}

async fn last_sequence(c: &Cluster) -> i64 {
    sqlx::query_scalar("SELECT coalesce(max(sequence), 0) FROM metrics.events")
        .fetch_one(&c.pool)
        .await
        .unwrap()
}

async fn feed_health(server: &growth_runtime::RunningServer, service: &str) -> ServingStatus {
    let channel = growth_proto::client::connect(&server.grpc_addr.to_string())
        .await
        .unwrap();
    let reply = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.into(),
        })
        .await
        .unwrap()
        .into_inner();
    reply.status()
}

/// Sessions holding the feed leadership lock.
async fn leaders(pool: &PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND ((classid::bigint << 32) | objid::bigint) = $1",
    )
    .bind(lifecycle_svc::repo::locks::FEED_LOCK)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrations = false)]
async fn tracked_events_move_users_through_the_feed(pool: PgPool) {
    let mut c = spawn(pool).await;
    c.users(vec![user("u1", 100, None), user("u2", 2, None)])
        .await;
    c.events(activity("a", "u1", 20, 3, 5)).await;
    c.wait_for_stage("u1", S::Active).await;
    assert_eq!(
        c.stage_of("u2").await,
        None,
        "no events, not evaluated by the feed"
    );
    c.events(vec![event("b1", "u2", "login", days_ago(0))])
        .await;
    c.wait_for_stage("u2", S::Onboarding).await;
    let last = last_sequence(&c).await;
    eventually("the cursor reaches the last event", || async {
        cursor(&c).await == last
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn the_feed_resumes_from_its_cursor_and_reprocessing_changes_nothing(pool: PgPool) {
    let mut c = spawn(pool).await;
    c.users(vec![user("u1", 100, None), user("u3", 100, None)])
        .await;
    c.events(activity("a", "u1", 20, 3, 5)).await;
    c.wait_for_stage("u1", S::Active).await;
    c.lifecycle_server.shutdown().trigger();
    eventually("the first replica lets go", || async {
        leaders(&c.pool).await == 0
    })
    .await;

    // Events arrive while no lifecycle replica runs.
    c.events(activity("c", "u3", 20, 3, 5)).await;
    let replica = start_lifecycle(&c.pool, args(&c.metrics_server)).await;
    c.lifecycle = lifecycle_client(&replica).await;
    c.wait_for_stage("u3", S::Active).await;
    let last = last_sequence(&c).await;
    eventually("the cursor reaches the last event", || async {
        cursor(&c).await == last
    })
    .await;
    replica.stop().await.unwrap();

    // As if every commit had been lost: the whole feed is processed again.
    sqlx::query("UPDATE lifecycle.feed_cursors SET last_sequence = 0")
        .execute(&c.pool)
        .await
        .unwrap();
    let replica = start_lifecycle(&c.pool, args(&c.metrics_server)).await;
    eventually("the cursor catches up again", || async {
        cursor(&c).await == last
    })
    .await;
    replica.stop().await.unwrap();
    assert_eq!(
        c.count("SELECT count(*) FROM lifecycle.transitions").await,
        2,
        "one first stage per user, however often the feed is read"
    );
}

#[sqlx::test(migrations = false)]
async fn while_metrics_is_down_the_feed_reports_degraded_and_then_recovers(pool: PgPool) {
    let mut c = spawn(pool).await;
    c.users(vec![user("u1", 100, None)]).await;
    let addr = c.metrics_server.grpc_addr;
    c.metrics_server.shutdown().trigger();

    let server = &c.lifecycle_server;
    eventually("the feed reports NOT_SERVING", || async {
        feed_health(server, lifecycle_svc::FEED_HEALTH).await == ServingStatus::NotServing
    })
    .await;
    assert_eq!(
        feed_health(server, "").await,
        ServingStatus::Serving,
        "the service itself stays up"
    );
    c.lifecycle
        .get_stage_distribution(growth_proto::lifecycle::v1::GetStageDistributionRequest::default())
        .await
        .expect("reads still work");

    // Metrics comes back on its address (once the old listener is closed).
    let mut restarted = None;
    for _ in 0..100 {
        let serve = growth_runtime::Serve {
            grpc_addr: addr,
            ..growth_runtime::Serve::loopback(auth(), growth_runtime::Shutdown::new())
        };
        if let Ok(server) = metrics_svc::start(c.pool.clone(), serve).await {
            restarted = Some(server);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    c.metrics_server = restarted.expect("metrics restarts on its address");
    c.metrics = metrics_client(&c.metrics_server).await;
    let server = &c.lifecycle_server;
    eventually("the feed reports SERVING again", || async {
        feed_health(server, lifecycle_svc::FEED_HEALTH).await == ServingStatus::Serving
    })
    .await;
    c.events(activity("a", "u1", 20, 3, 5)).await;
    c.wait_for_stage("u1", S::Active).await;
}

#[sqlx::test(migrations = false)]
async fn one_replica_follows_the_feed_and_another_takes_over_when_it_stops(pool: PgPool) {
    let mut c = spawn(pool).await;
    eventually("the first replica leads", || async {
        leaders(&c.pool).await == 1
    })
    .await;
    let second = start_lifecycle(&c.pool, args(&c.metrics_server)).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(leaders(&c.pool).await, 1, "exactly one leader");

    c.lifecycle_server.shutdown().trigger();
    c.lifecycle = lifecycle_client(&second).await;
    c.users(vec![user("u1", 100, None)]).await;
    c.events(activity("a", "u1", 20, 3, 5)).await;
    c.wait_for_stage("u1", S::Active).await;
    assert_eq!(leaders(&c.pool).await, 1);
    second.stop().await.unwrap();
}

#[sqlx::test(migrations = false)]
async fn killed_database_connections_lose_and_duplicate_nothing(pool: PgPool) {
    let mut c = spawn(pool).await;
    let ids: Vec<String> = (0..20).map(|i| format!("k{i:02}")).collect();
    c.users(ids.iter().map(|id| user(id, 100, None)).collect())
        .await;
    eventually("the replica leads", || async {
        leaders(&c.pool).await == 1
    })
    .await;
    for (round, id) in ids.iter().enumerate() {
        c.events(activity(&format!("r{round}"), id, 20, 3, 5)).await;
        if round % 5 == 2 {
            // Every other session on this database dies: the leader's lock
            // connection, the feed's transaction, metrics' pool.
            sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .execute(&c.pool)
            .await
            .unwrap();
        }
    }
    for id in &ids {
        c.wait_for_stage(id, S::Active).await;
    }
    let last = last_sequence(&c).await;
    eventually("the cursor reaches the last event", || async {
        cursor(&c).await == last
    })
    .await;
    assert_eq!(
        c.count("SELECT count(*) FROM lifecycle.transitions").await,
        20,
        "one first stage per user, none lost, none twice"
    );
}
