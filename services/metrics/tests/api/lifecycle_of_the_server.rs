use std::time::Duration;

use growth_proto::metrics::v1 as pb;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgPool};
use tokio_stream::StreamExt;
use tonic::Code;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::helpers::*;

#[sqlx::test(migrations = false)]
async fn shutdown_flips_health_ends_feed_streams_and_stops_the_server(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    let channel = growth_proto::client::connect(&app.server.grpc_addr.to_string())
        .await
        .expect("connects");
    let mut health = HealthClient::new(channel)
        .watch(HealthCheckRequest {
            service: "growth.metrics.v1.MetricsService".into(),
        })
        .await
        .expect("health watch")
        .into_inner();
    assert_eq!(health.next().await.expect("status").expect("ok").status, 1);

    let mut feed = app
        .client
        .watch_events(pb::WatchEventsRequest::default())
        .await
        .expect("watch starts")
        .into_inner();

    let grpc_addr = app.server.grpc_addr;
    app.server.shutdown().trigger();
    let flipped = tokio::time::timeout(Duration::from_secs(5), health.next())
        .await
        .expect("health update arrives")
        .expect("message")
        .expect("ok");
    assert_eq!(flipped.status, 2, "NOT_SERVING before the server goes away");

    let end = tokio::time::timeout(Duration::from_secs(5), feed.next())
        .await
        .expect("the follower is told")
        .expect("a final status");
    let status = end.expect_err("stream ends with a status");
    assert_eq!(status.code(), Code::Unavailable);
    assert!(
        status.message().contains("resume from cursor 0"),
        "{}",
        status.message()
    );
    drop(feed);
    drop(health);

    tokio::time::timeout(Duration::from_secs(10), app.server.wait())
        .await
        .expect("drains within the grace period")
        .expect("clean stop");
    assert!(
        growth_proto::client::connect(&grpc_addr.to_string())
            .await
            .is_err(),
        "no longer listening"
    );
}

#[sqlx::test(migrations = false)]
async fn a_database_that_cannot_be_reached_gives_unavailable(pool: PgPool) {
    let app = spawn_app(pool).await;
    // The same server code over a pool whose database is down.
    let down = PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(500))
        .connect_lazy("postgres://postgres@127.0.0.1:1/none")
        .expect("lazy pool");
    let auth = growth_runtime::config::AuthPolicy::Disabled;
    let server = metrics_svc::start(
        down,
        growth_runtime::Serve::loopback(auth, growth_runtime::Shutdown::new()),
    )
    .await
    .expect("starts without a database");
    let channel = growth_proto::client::connect(&server.grpc_addr.to_string())
        .await
        .expect("connects");
    let mut client = pb::metrics_service_client::MetricsServiceClient::new(channel);
    let status = client
        .upsert_users(pb::UpsertUsersRequest {
            users: vec![user("u1")],
        })
        .await
        .expect_err("no database");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(status.message(), "the database is unavailable; retry later");
    server.stop().await.expect("stops");
    drop(app);
}

/// Kills every server-side connection of the service's database, as a
/// database restart does.
pub async fn terminate_connections(pool: &PgPool) {
    let database: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(pool)
        .await
        .expect("name");
    let mut admin = sqlx::PgConnection::connect(
        &std::env::var("DATABASE_URL").expect("DATABASE_URL is set for tests"),
    )
    .await
    .expect("admin connection");
    let killed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = $1 AND pid <> pg_backend_pid()) t",
    )
    .bind(database)
    .fetch_one(&mut admin)
    .await
    .expect("terminate");
    assert!(killed > 0, "the service had connections to kill");
}

#[sqlx::test(migrations = false)]
async fn after_its_connections_are_killed_the_service_recovers_by_itself(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    upsert(&mut app, vec![user("u1")]).await;
    let mut feed = app
        .client
        .watch_events(pb::WatchEventsRequest::default())
        .await
        .expect("watch starts")
        .into_inner();
    track(&mut app, events("a", 2)).await;
    let cursor = feed.next().await.expect("message").expect("ok").cursor;

    terminate_connections(&app.pool).await;

    // Ingest works again without a restart (dead pooled connections are
    // detected on checkout) ...
    let mut recovered = None;
    for _ in 0..20 {
        match app
            .client
            .track_events(pb::TrackEventsRequest {
                events: events("b", 2),
            })
            .await
        {
            Ok(response) => {
                recovered = Some(response.into_inner());
                break;
            }
            Err(status) => {
                assert_eq!(status.code(), Code::Unavailable, "{status:?}");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    }
    assert_eq!(recovered.expect("ingest recovers").inserted, 2);
    // ... and the live follower still gets the new events (the listener
    // reconnects; the stream re-polls).
    let next = tokio::time::timeout(Duration::from_secs(10), feed.next())
        .await
        .expect("the follower sees events after the outage")
        .expect("message");
    let next = match next {
        Ok(message) => message,
        // The stream's own query may have died with its connection: the
        // client resumes from its cursor, as real consumers do.
        Err(status) => {
            assert_eq!(status.code(), Code::Unavailable, "{status:?}");
            let mut resumed = app
                .client
                .watch_events(pb::WatchEventsRequest {
                    after_sequence: cursor,
                    ..Default::default()
                })
                .await
                .expect("resumes")
                .into_inner();
            resumed.next().await.expect("message").expect("ok")
        }
    };
    let ids: Vec<_> = next
        .events
        .iter()
        .map(|e| e.event.as_ref().expect("event").event_id.clone())
        .collect();
    assert_eq!(ids, ["b0", "b1"]);
}
