use std::collections::BTreeSet;

use growth_runtime::config::AuthPolicy;
use growth_runtime::{RunningServer, Serve, Shutdown};
use sqlx::PgPool;
use tokio_stream::StreamExt;
use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use tonic_reflection::pb::{v1, v1alpha};

pub struct Both {
    pub metrics: RunningServer,
    pub lifecycle: RunningServer,
    pub shutdown: Shutdown,
}

/// Both services' migrations applied with `pool`'s role.
pub async fn migrate_both(pool: &PgPool) {
    metrics_svc::migrator()
        .run(pool)
        .await
        .expect("metrics migrations");
    lifecycle_svc::migrator()
        .run(pool)
        .await
        .expect("lifecycle migrations");
}

async fn spawn_both(pool: PgPool) -> Both {
    migrate_both(&pool).await;
    spawn_both_with(pool.clone(), pool).await
}

/// Both services, each on its own pool (its own role, where the pools'
/// roles differ), calling each other; the schemas are migrated already.
pub async fn spawn_both_with(metrics_pool: PgPool, lifecycle_pool: PgPool) -> Both {
    let shutdown = Shutdown::new();
    let auth = AuthPolicy::Tokens(vec![secrecy::SecretString::from("t".to_owned())]);
    // Each calls the other: lifecycle's port is chosen first.
    let lifecycle_addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let metrics = metrics_svc::start_with(
        metrics_pool,
        Serve::loopback(auth.clone(), shutdown.clone()),
        metrics_svc::config::MetricsArgs {
            lifecycle_addr: lifecycle_addr.to_string(),
            lifecycle_token: "t".into(),
            ..metrics_svc::config::MetricsArgs::default()
        },
    )
    .await
    .expect("metrics starts");
    let args = lifecycle_svc::LifecycleArgs::for_metrics(
        &metrics.grpc_addr.to_string(),
        Some(secrecy::SecretString::from("t".to_owned())),
    );
    let serve = Serve {
        grpc_addr: lifecycle_addr,
        ..Serve::loopback(auth, shutdown.clone())
    };
    let lifecycle = lifecycle_svc::start(lifecycle_pool, serve, args)
        .await
        .expect("lifecycle starts");
    Both {
        metrics,
        lifecycle,
        shutdown,
    }
}

pub async fn channel(server: &RunningServer) -> Channel {
    growth_proto::client::connect(&server.grpc_addr.to_string())
        .await
        .expect("connects")
}

async fn list_v1(channel: Channel) -> BTreeSet<String> {
    use v1::server_reflection_request::MessageRequest;
    use v1::server_reflection_response::MessageResponse;
    let request = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = v1::server_reflection_client::ServerReflectionClient::new(channel)
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .expect("reflection answers without a token")
        .into_inner();
    let Some(MessageResponse::ListServicesResponse(list)) = responses
        .next()
        .await
        .expect("one response")
        .expect("ok")
        .message_response
    else {
        panic!("expected a service list");
    };
    list.service.into_iter().map(|s| s.name).collect()
}

async fn list_v1alpha(channel: Channel) -> BTreeSet<String> {
    use v1alpha::server_reflection_request::MessageRequest;
    use v1alpha::server_reflection_response::MessageResponse;
    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = v1alpha::server_reflection_client::ServerReflectionClient::new(channel)
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .expect("v1alpha reflection answers")
        .into_inner();
    let Some(MessageResponse::ListServicesResponse(list)) = responses
        .next()
        .await
        .expect("one response")
        .expect("ok")
        .message_response
    else {
        panic!("expected a service list");
    };
    list.service.into_iter().map(|s| s.name).collect()
}

fn expected(service: &str) -> BTreeSet<String> {
    [
        service,
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    ]
    .into_iter()
    .map(String::from)
    .collect()
}

#[sqlx::test(migrations = false)]
async fn reflection_lists_each_service_with_health_and_reflection_in_both_versions(pool: PgPool) {
    let both = spawn_both(pool).await;
    let metrics = expected(growth_proto::METRICS_SERVICE_NAME);
    let lifecycle = expected(growth_proto::LIFECYCLE_SERVICE_NAME);
    assert_eq!(list_v1(channel(&both.metrics).await).await, metrics);
    assert_eq!(list_v1alpha(channel(&both.metrics).await).await, metrics);
    assert_eq!(list_v1(channel(&both.lifecycle).await).await, lifecycle);
    assert_eq!(
        list_v1alpha(channel(&both.lifecycle).await).await,
        lifecycle
    );
}

/// The file descriptors reflection returns for one request.
async fn reflect_files(
    channel: Channel,
    request: v1::server_reflection_request::MessageRequest,
) -> Vec<prost_types::FileDescriptorProto> {
    use prost::Message;
    use v1::server_reflection_response::MessageResponse;
    let request = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    };
    let mut responses = v1::server_reflection_client::ServerReflectionClient::new(channel)
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .expect("reflection")
        .into_inner();
    let response = responses
        .next()
        .await
        .expect("response")
        .expect("ok")
        .message_response;
    let Some(MessageResponse::FileDescriptorResponse(files)) = response else {
        panic!("expected file descriptors, got {response:?}");
    };
    files
        .file_descriptor_proto
        .iter()
        .map(|bytes| {
            prost_types::FileDescriptorProto::decode(bytes.as_slice()).expect("descriptor")
        })
        .collect()
}

#[sqlx::test(migrations = false)]
async fn reflection_serves_every_descriptor_a_dynamic_client_needs(pool: PgPool) {
    use v1::server_reflection_request::MessageRequest;
    let both = spawn_both(pool).await;
    let files = reflect_files(
        channel(&both.metrics).await,
        MessageRequest::FileContainingSymbol("growth.metrics.v1.MetricsService".into()),
    )
    .await;
    let metrics = files
        .iter()
        .find(|f| f.name() == "growth/metrics/v1/metrics.proto")
        .expect("the service's own file");
    let service = &metrics.service[0];
    assert!(
        service.method.iter().any(|m| m.name() == "TrackEvents"
            && m.input_type() == ".growth.metrics.v1.TrackEventsRequest")
    );
    // Like grpcurl or grpcio, fetch each dependency by file name.
    assert_eq!(
        metrics.dependency,
        [
            "google/protobuf/timestamp.proto",
            "growth/common/v1/common.proto",
            "growth/metrics/v1/audit.proto",
            "growth/metrics/v1/insights.proto"
        ]
    );
    for dependency in &metrics.dependency {
        let files = reflect_files(
            channel(&both.metrics).await,
            MessageRequest::FileByFilename(dependency.clone()),
        )
        .await;
        assert!(
            files.iter().any(|f| f.name() == dependency),
            "{dependency} is served"
        );
    }
}

#[sqlx::test(migrations = false)]
async fn each_service_keeps_its_own_schema_and_migration_history(pool: PgPool) {
    let _both = spawn_both(pool.clone()).await;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables
         WHERE table_schema IN ('metrics', 'lifecycle', 'public') ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .expect("catalog");
    assert_eq!(
        tables,
        [
            "lifecycle._sqlx_migrations",
            "lifecycle.deliveries",
            "lifecycle.feed_cursors",
            "lifecycle.profiles",
            "lifecycle.transitions",
            "lifecycle.trigger_rules",
            "metrics._sqlx_migrations",
            "metrics.activity_pending",
            "metrics.alert_outbox",
            "metrics.audit_findings",
            "metrics.audit_runs",
            "metrics.cohort_activity",
            "metrics.cohort_changes",
            "metrics.cohort_overview",
            "metrics.dashboard_sessions",
            "metrics.events",
            "metrics.growth_reports",
            "metrics.payment_disputes",
            "metrics.payment_refunds",
            "metrics.payments",
            "metrics.retention_metrics",
            "metrics.retention_refreshes",
            "metrics.retention_revenue",
            "metrics.retention_revenue_metrics",
            "metrics.retention_rows",
            "metrics.rollup_settings",
            "metrics.stripe_events",
            "metrics.subscription_states",
            "metrics.subscriptions",
            "metrics.user_active_years",
            "metrics.user_cohorts",
            "metrics.users",
        ]
    );
}

#[sqlx::test(migrations = false)]
async fn both_services_report_serving_then_stop_on_one_signal(pool: PgPool) {
    let both = spawn_both(pool).await;
    for (server, name) in [
        (&both.metrics, growth_proto::METRICS_SERVICE_NAME),
        (&both.lifecycle, growth_proto::LIFECYCLE_SERVICE_NAME),
    ] {
        let status = HealthClient::new(channel(server).await)
            .check(HealthCheckRequest {
                service: name.into(),
            })
            .await
            .expect("health")
            .into_inner()
            .status;
        assert_eq!(status, 1, "{name} is SERVING");
    }
    both.shutdown.trigger();
    both.metrics.wait().await.expect("metrics stops cleanly");
    both.lifecycle
        .wait()
        .await
        .expect("lifecycle stops cleanly");
}

#[sqlx::test(migrations = false)]
async fn lifecycle_rpcs_need_a_token_and_then_answer(pool: PgPool) {
    use growth_proto::lifecycle::v1::{
        GetStageDistributionRequest, lifecycle_service_client::LifecycleServiceClient,
    };
    let both = spawn_both(pool).await;
    let mut anonymous = LifecycleServiceClient::new(channel(&both.lifecycle).await);
    let status = anonymous
        .get_stage_distribution(GetStageDistributionRequest::default())
        .await
        .expect_err("no token");
    assert_eq!(status.code(), tonic::Code::Unauthenticated);

    let token = secrecy::SecretString::from("t".to_owned());
    let bearer = growth_proto::client::Bearer::new(Some(&token)).expect("token");
    let mut client =
        LifecycleServiceClient::with_interceptor(channel(&both.lifecycle).await, bearer);
    let distribution = client
        .get_stage_distribution(GetStageDistributionRequest::default())
        .await
        .expect("answers with a token")
        .into_inner();
    assert_eq!(distribution.stages.len(), 6);
    assert_eq!(distribution.total_users, 0);
}

#[sqlx::test(migrations = false)]
async fn the_weekly_report_carries_lifecycles_stage_distribution(pool: PgPool) {
    use growth_proto::metrics::v1 as pb;
    let both = spawn_both(pool).await;
    let token = secrecy::SecretString::from("t".to_owned());
    let mut metrics = pb::metrics_service_client::MetricsServiceClient::with_interceptor(
        channel(&both.metrics).await,
        growth_proto::client::Bearer::new(Some(&token)).expect("token"),
    );
    let report = metrics
        .generate_growth_insights(pb::GenerateGrowthInsightsRequest::default())
        .await
        .expect("a report")
        .into_inner()
        .report
        .expect("the report");
    assert!(report.lifecycle_reachable, "{}", report.lifecycle_error);
    let stages: Vec<&str> = report.stages.iter().map(|s| s.stage.as_str()).collect();
    assert!(
        stages.contains(&"active") && stages.contains(&"churned"),
        "{stages:?}"
    );
    assert!(
        report.report_markdown.contains("- active: 0"),
        "{}",
        report.report_markdown
    );
}
