//! Least privilege in PostgreSQL: the roles of deploy/sql/roles.sql, the
//! migrations' grants, and both services running with their own role, each
//! able to use only its own schema.

use std::time::Duration;

use growth_proto::lifecycle::v1::{
    GetStageDistributionRequest, lifecycle_service_client::LifecycleServiceClient,
};
use growth_proto::metrics::v1 as pb;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::both_services::{channel, migrate_both, spawn_both_with};

/// The bootstrap an administrator runs once per cluster.
const ROLES: &str = include_str!("../../deploy/sql/roles.sql");

/// A pool on `pool`'s database, logged in as `role`.
async fn as_role(pool: &PgPool, role: &str) -> PgPool {
    let options: PgConnectOptions = (*pool.connect_options()).clone().username(role);
    PgPoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .unwrap_or_else(|e| panic!("logs in as {role}: {e}"))
}

/// Refused with `insufficient_privilege`.
async fn refused(pool: &PgPool, sql: &str) {
    let error = sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(pool)
        .await
        .expect_err(sql);
    let code = error
        .as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.into_owned());
    assert_eq!(code.as_deref(), Some("42501"), "{sql}: {error}");
}

/// Polls `check` for up to 30 s.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..150 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{what} did not happen within 30 s");
}

#[sqlx::test(migrations = false)]
async fn each_service_runs_with_its_own_role_and_reaches_only_its_own_schema(pool: PgPool) {
    sqlx::raw_sql(ROLES)
        .execute(&pool)
        .await
        .expect("the roles");
    // Idempotent: an administrator may run it again.
    sqlx::raw_sql(ROLES)
        .execute(&pool)
        .await
        .expect("the roles again");
    migrate_both(&pool).await;
    let metrics = as_role(&pool, "growth_metrics").await;
    let lifecycle = as_role(&pool, "growth_lifecycle").await;

    // lifecycle's role cannot read metrics' tables, metrics' role cannot
    // write (or read) lifecycle's, and neither can create anything.
    for sql in [
        "SELECT count(*) FROM metrics.users",
        "SELECT count(*) FROM metrics.events",
        "DELETE FROM metrics.payments",
    ] {
        refused(&lifecycle, sql).await;
    }
    for sql in [
        "INSERT INTO lifecycle.trigger_rules DEFAULT VALUES",
        "DELETE FROM lifecycle.profiles",
        "SELECT count(*) FROM lifecycle.transitions",
    ] {
        refused(&metrics, sql).await;
    }
    refused(&metrics, "CREATE TABLE metrics.extra (a int)").await;
    refused(&lifecycle, "CREATE TABLE lifecycle.extra (a int)").await;
    refused(&metrics, "DROP TABLE metrics.users").await;

    // Both services with their own role: a user and an event through metrics,
    // folded (and the pending activity vacuumed, which needs its owner), and
    // lifecycle following metrics' feed into its own tables.
    let both = spawn_both_with(metrics.clone(), lifecycle.clone()).await;
    let token = secrecy::SecretString::from("t".to_owned());
    let bearer = growth_proto::client::Bearer::new(Some(&token)).expect("token");
    let mut client = pb::metrics_service_client::MetricsServiceClient::with_interceptor(
        channel(&both.metrics).await,
        bearer.clone(),
    );
    let now = growth_proto::timestamp::from_utc(chrono::Utc::now());
    client
        .upsert_users(pb::UpsertUsersRequest {
            users: vec![pb::User {
                user_id: "least-1".into(),
                email: "least-1@example.com".into(),
                signup_at: Some(now),
                plan: "free".into(),
                ..Default::default()
            }],
        })
        .await
        .expect("metrics writes users as growth_metrics");
    client
        .track_events(pb::TrackEventsRequest {
            events: vec![pb::Event {
                event_id: "least-e1".into(),
                user_id: "least-1".into(),
                name: "login".into(),
                occurred_at: Some(now),
                ..Default::default()
            }],
        })
        .await
        .expect("metrics writes events as growth_metrics");
    let today = chrono::Utc::now().date_naive().to_string();
    let active = client
        .get_active_users(pb::GetActiveUsersRequest {
            days: Some(growth_proto::common::v1::DateRange {
                from: today.clone(),
                to: today,
            }),
        })
        .await
        .expect("the fold runs as growth_metrics")
        .into_inner();
    assert_eq!(active.days.first().map(|d| d.dau), Some(1));
    eventually("the pending activity vacuumed by its owner", || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT vacuum_count FROM pg_stat_user_tables
             WHERE schemaname = 'metrics' AND relname = 'activity_pending'",
        )
        .fetch_one(&pool)
        .await
        .is_ok_and(|n| n > 0)
    })
    .await;
    let lifecycle_client =
        LifecycleServiceClient::with_interceptor(channel(&both.lifecycle).await, bearer);
    eventually("lifecycle following the user", || {
        let mut c = lifecycle_client.clone();
        async move {
            c.get_stage_distribution(GetStageDistributionRequest::default())
                .await
                .is_ok_and(|r| r.into_inner().total_users == 1)
        }
    })
    .await;
    // And the sessions really are the two roles.
    let users: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT usename::text FROM pg_stat_activity
         WHERE datname = current_database() AND usename LIKE 'growth_%' ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .expect("sessions");
    assert_eq!(users, ["growth_lifecycle", "growth_metrics"]);
    both.shutdown.trigger();
}
