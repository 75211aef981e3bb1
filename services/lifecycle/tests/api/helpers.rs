//! `spawn`: one database, the real metrics service and the real lifecycle
//! service calling it over gRPC, typed clients for both, and helpers to put
//! users, events and payments into metrics relative to now.

use std::time::Duration;

use chrono::{DateTime, Utc};
use growth_proto::client::{Bearer, connect};
use growth_proto::lifecycle::v1::{self as lc, lifecycle_service_client::LifecycleServiceClient};
use growth_proto::metrics::v1::{self as pb, metrics_service_client::MetricsServiceClient};
use growth_runtime::config::AuthPolicy;
use growth_runtime::{RunningServer, Serve, Shutdown};
use lifecycle_svc::LifecycleArgs;
use secrecy::SecretString;
use sqlx::PgPool;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub const TOKEN: &str = "lifecycle-test-token";

pub type Metrics = MetricsServiceClient<InterceptedService<Channel, Bearer>>;
pub type Lifecycle = LifecycleServiceClient<InterceptedService<Channel, Bearer>>;

pub struct Cluster {
    pub pool: PgPool,
    pub metrics_server: RunningServer,
    pub metrics: Metrics,
    pub lifecycle_server: RunningServer,
    pub lifecycle: Lifecycle,
}

pub fn auth() -> AuthPolicy {
    AuthPolicy::Tokens(vec![SecretString::from(TOKEN.to_owned())])
}

fn token() -> SecretString {
    SecretString::from(TOKEN.to_owned())
}

async fn channel(server: &RunningServer) -> Channel {
    connect(&server.grpc_addr.to_string())
        .await
        .expect("connects")
}

pub async fn metrics_client(server: &RunningServer) -> Metrics {
    MetricsServiceClient::with_interceptor(
        channel(server).await,
        Bearer::new(Some(&token())).unwrap(),
    )
}

pub async fn lifecycle_client(server: &RunningServer) -> Lifecycle {
    LifecycleServiceClient::with_interceptor(
        channel(server).await,
        Bearer::new(Some(&token())).unwrap(),
    )
}

/// Metrics on `addr` (port 0: any), migrated.
pub async fn start_metrics(pool: &PgPool, addr: std::net::SocketAddr) -> RunningServer {
    let serve = Serve {
        grpc_addr: addr,
        ..Serve::loopback(auth(), Shutdown::new())
    };
    metrics_svc::start(pool.clone(), serve)
        .await
        .expect("metrics starts")
}

/// Lifecycle settings for tests: calls `metrics`, short feed waits, fast
/// outbox polling, no Kit key.
pub fn args(metrics: &RunningServer) -> LifecycleArgs {
    let mut args = LifecycleArgs::for_metrics(&metrics.grpc_addr.to_string(), Some(token()));
    args.feed_batch_wait_ms = 50;
    args.outbox_poll_interval_ms = 100;
    args.outbox_retry_base_ms = 0;
    args
}

/// Another lifecycle replica on the same database.
pub async fn start_lifecycle(pool: &PgPool, args: LifecycleArgs) -> RunningServer {
    lifecycle_svc::start(pool.clone(), Serve::loopback(auth(), Shutdown::new()), args)
        .await
        .expect("lifecycle starts")
}

pub async fn spawn(pool: PgPool) -> Cluster {
    spawn_with(pool, |_| {}).await
}

pub async fn spawn_with(pool: PgPool, configure: impl FnOnce(&mut LifecycleArgs)) -> Cluster {
    metrics_svc::migrator()
        .run(&pool)
        .await
        .expect("metrics migrations");
    lifecycle_svc::migrator()
        .run(&pool)
        .await
        .expect("lifecycle migrations");
    let metrics_server = start_metrics(&pool, ([127, 0, 0, 1], 0).into()).await;
    let mut args = args(&metrics_server);
    configure(&mut args);
    let lifecycle_server = start_lifecycle(&pool, args).await;
    Cluster {
        metrics: metrics_client(&metrics_server).await,
        lifecycle: lifecycle_client(&lifecycle_server).await,
        pool,
        metrics_server,
        lifecycle_server,
    }
}

pub fn ts(at: DateTime<Utc>) -> Option<prost_types::Timestamp> {
    Some(growth_proto::timestamp::from_utc(at))
}

pub fn days_ago(days: i64) -> DateTime<Utc> {
    Utc::now() - chrono::Duration::days(days)
}

/// A user who signed up `signed_up_days_ago`, with an optional trial end.
pub fn user(id: &str, signed_up_days_ago: i64, trial_ends: Option<DateTime<Utc>>) -> pb::User {
    pb::User {
        user_id: id.into(),
        email: format!("{id}@example.com"),
        signup_at: ts(days_ago(signed_up_days_ago)),
        plan: if trial_ends.is_some() {
            "trial"
        } else {
            "free"
        }
        .into(),
        trial_ends_at: trial_ends.and_then(ts),
        attributes_json: String::new(),
    }
}

/// Event `id` of `user` named `name` at `at`.
pub fn event(id: &str, user: &str, name: &str, at: DateTime<Utc>) -> pb::Event {
    pb::Event {
        event_id: id.into(),
        user_id: user.into(),
        name: name.into(),
        occurred_at: ts(at),
        properties_json: String::new(),
    }
}

/// `n` events of `user` on each of the last `days` days (names cycle over
/// `names` distinct ones), ids prefixed by `prefix`.
pub fn activity(prefix: &str, user: &str, days: i64, n: usize, names: usize) -> Vec<pb::Event> {
    let mut out = Vec::new();
    for d in 0..days {
        for i in 0..n {
            let at =
                Utc::now() - chrono::Duration::days(d) - chrono::Duration::minutes(10 + i as i64);
            let name = format!("feature_{}", (d as usize * n + i) % names.max(1));
            out.push(event(&format!("{prefix}_{d}_{i}"), user, &name, at));
        }
    }
    out
}

/// A captured payment of `user` `days_ago` days ago.
pub fn payment(id: &str, user: &str, days_ago_: i64) -> pb::Payment {
    pb::Payment {
        stripe_id: format!("pi_{id}"),
        user_id: user.into(),
        amount: Some(growth_proto::common::v1::Money {
            amount_minor: 4900,
            currency: "usd".into(),
        }),
        status: pb::PaymentStatus::Succeeded as i32,
        created_at: ts(days_ago(days_ago_)),
        ..Default::default()
    }
}

impl Cluster {
    pub async fn users(&mut self, users: Vec<pb::User>) {
        self.metrics
            .upsert_users(pb::UpsertUsersRequest { users })
            .await
            .expect("upsert users");
    }

    pub async fn events(&mut self, events: Vec<pb::Event>) {
        for chunk in events.chunks(5000) {
            self.metrics
                .track_events(pb::TrackEventsRequest {
                    events: chunk.to_vec(),
                })
                .await
                .expect("track events");
        }
    }

    pub async fn payments(&mut self, payments: Vec<pb::Payment>) {
        self.metrics
            .import_payments(pb::ImportPaymentsRequest { payments })
            .await
            .expect("import payments");
    }

    /// Runs `EvaluateUsers` to the end; returns every progress message.
    pub async fn evaluate(
        &mut self,
        request: lc::EvaluateUsersRequest,
    ) -> Vec<lc::EvaluateUsersResponse> {
        evaluate(&mut self.lifecycle, request)
            .await
            .expect("evaluation runs")
    }

    pub async fn stage_of(&mut self, user: &str) -> Option<lc::LifecycleStage> {
        match self
            .lifecycle
            .get_user_lifecycle(lc::GetUserLifecycleRequest {
                user_id: user.into(),
            })
            .await
        {
            Ok(r) => Some(r.into_inner().stage()),
            Err(s) if s.code() == tonic::Code::NotFound => None,
            Err(s) => panic!("GetUserLifecycle failed: {s:?}"),
        }
    }

    /// Waits (up to 15 s) until `user` is in `stage`.
    pub async fn wait_for_stage(&mut self, user: &str, stage: lc::LifecycleStage) {
        for _ in 0..150 {
            if self.stage_of(user).await == Some(stage) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{user} never reached {stage:?}; it is {:?}",
            self.stage_of(user).await
        );
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.pool)
            .await
            .expect("count")
    }
}

/// Runs `EvaluateUsers` on `client` to the end.
pub async fn evaluate(
    client: &mut Lifecycle,
    request: lc::EvaluateUsersRequest,
) -> Result<Vec<lc::EvaluateUsersResponse>, tonic::Status> {
    let mut stream = client.evaluate_users(request).await?.into_inner();
    let mut out = Vec::new();
    while let Some(message) = stream.message().await? {
        out.push(message);
    }
    Ok(out)
}

/// Waits (up to 15 s) until `check` holds.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..150 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting until {what}");
}
