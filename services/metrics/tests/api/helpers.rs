//! `spawn_app`: a migrated database, the real server, a typed client.

use chrono::{DateTime, TimeZone, Utc};
use growth_proto::client::{Bearer, connect};
use growth_proto::metrics::v1::{self as pb, metrics_service_client::MetricsServiceClient};
use growth_runtime::config::AuthPolicy;
use growth_runtime::{RunningServer, Serve, Shutdown};
use secrecy::SecretString;
use sqlx::PgPool;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub const TOKEN: &str = "test-token-1";

pub type Client = MetricsServiceClient<InterceptedService<Channel, Bearer>>;

pub struct TestApp {
    pub client: Client,
    pub server: RunningServer,
    pub pool: PgPool,
}

impl TestApp {
    /// A client of this server sending `token` (or none).
    pub async fn client_with_token(&self, token: Option<&str>) -> Client {
        let channel = connect(&self.server.grpc_addr.to_string())
            .await
            .expect("connects");
        let token = token.map(|t| SecretString::from(t.to_owned()));
        MetricsServiceClient::with_interceptor(channel, Bearer::new(token.as_ref()).expect("token"))
    }

    pub async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT count(*) FROM metrics.{table}");
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&self.pool)
            .await
            .expect("count")
    }
}

pub async fn spawn_app(pool: PgPool) -> TestApp {
    spawn_app_with(pool, metrics_svc::config::MetricsArgs::default()).await
}

/// The server with its own settings (a Stripe key and base URL, thresholds).
pub async fn spawn_app_with(pool: PgPool, args: metrics_svc::config::MetricsArgs) -> TestApp {
    metrics_svc::migrator()
        .run(&pool)
        .await
        .expect("migrations apply");
    let auth = AuthPolicy::Tokens(vec![SecretString::from(TOKEN.to_owned())]);
    let server =
        metrics_svc::start_with(pool.clone(), Serve::loopback(auth, Shutdown::new()), args)
            .await
            .expect("server starts");
    let channel = connect(&server.grpc_addr.to_string())
        .await
        .expect("connects");
    let token = SecretString::from(TOKEN.to_owned());
    let client =
        MetricsServiceClient::with_interceptor(channel, Bearer::new(Some(&token)).expect("token"))
            .max_decoding_message_size(64 * 1024 * 1024)
            .max_encoding_message_size(64 * 1024 * 1024);
    TestApp {
        client,
        server,
        pool,
    }
}

pub fn ts(at: DateTime<Utc>) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    })
}

/// An RFC 3339 instant.
pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("an RFC 3339 instant")
        .with_timezone(&Utc)
}

pub fn day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0)
        .single()
        .expect("valid date")
}

pub fn user(id: &str) -> pb::User {
    pb::User {
        user_id: id.into(),
        email: format!("{id}@example.com"),
        signup_at: ts(day(2025, 1, 1)),
        plan: "trial".into(),
        trial_ends_at: ts(day(2025, 1, 15)),
        attributes_json: r#"{"country":"DE"}"#.into(),
    }
}

pub fn event(id: &str, user: &str) -> pb::Event {
    pb::Event {
        event_id: id.into(),
        user_id: user.into(),
        name: "login".into(),
        occurred_at: ts(day(2025, 1, 2)),
        properties_json: r#"{"source":"web"}"#.into(),
    }
}

pub async fn upsert(app: &mut TestApp, users: Vec<pb::User>) -> pb::UpsertUsersResponse {
    app.client
        .upsert_users(pb::UpsertUsersRequest { users })
        .await
        .expect("upsert succeeds")
        .into_inner()
}

pub async fn track(app: &mut TestApp, events: Vec<pb::Event>) -> pb::TrackEventsResponse {
    app.client
        .track_events(pb::TrackEventsRequest { events })
        .await
        .expect("track succeeds")
        .into_inner()
}

/// `n` events of user `u1`, ids `{prefix}{i}`.
pub fn events(prefix: &str, n: usize) -> Vec<pb::Event> {
    (0..n)
        .map(|i| event(&format!("{prefix}{i}"), "u1"))
        .collect()
}
