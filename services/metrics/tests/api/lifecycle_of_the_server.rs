use std::time::Duration;

use growth_proto::metrics::v1 as pb;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tokio_stream::StreamExt;
use tonic::Code;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::helpers::*;

#[sqlx::test(migrations = false)]
async fn shutdown_flips_health_ends_feed_streams_and_stops_the_server(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    let channel = growth_runtime::client::connect(&app.server.grpc_addr.to_string())
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
        growth_runtime::client::connect(&grpc_addr.to_string())
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
    let channel = growth_runtime::client::connect(&server.grpc_addr.to_string())
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
