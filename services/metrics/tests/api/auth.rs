use growth_proto::metrics::v1 as pb;
use sqlx::PgPool;
use tonic::Code;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::helpers::*;

#[sqlx::test(migrations = false)]
async fn calls_without_a_valid_token_are_unauthenticated(pool: PgPool) {
    let app = spawn_app(pool).await;
    for token in [None, Some("wrong-token"), Some("test-token-")] {
        let mut client = app.client_with_token(token).await;
        let status = client
            .upsert_users(pb::UpsertUsersRequest {
                users: vec![user("u1")],
            })
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::Unauthenticated, "token {token:?}");
    }
    assert_eq!(app.count("users").await, 0);

    let mut good = app.client_with_token(Some(TOKEN)).await;
    good.upsert_users(pb::UpsertUsersRequest {
        users: vec![user("u1")],
    })
    .await
    .expect("accepted with the right token");
}

#[sqlx::test(migrations = false)]
async fn health_checks_need_no_token(pool: PgPool) {
    let app = spawn_app(pool).await;
    let channel = growth_proto::client::connect(&app.server.grpc_addr.to_string())
        .await
        .expect("connects");
    let mut health = HealthClient::new(channel);
    for service in ["", "growth.metrics.v1.MetricsService"] {
        let response = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .expect("health answers")
            .into_inner();
        assert_eq!(response.status, 1, "SERVING for {service:?}");
    }
}
