//! PostgreSQL restarted under load, on a cluster the test makes for itself
//! (with `initdb`/`pg_ctl`, never the shared server): `growthctl events
//! track --file` and `growthctl events watch` (follow mode) ride it out
//! without a person, every event is stored once and followed once, in
//! order, and the database's health name says when it is down.

// Test code: a panic with the value is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use growth_dev::demo::postgres::LocalCluster;
use growth_proto::common::v1::Granularity;
use growth_proto::metrics::v1 as pb;
use growth_runtime::config::AuthPolicy;
use growth_runtime::{Serve, Shutdown, db};
use growthctl::cli::{Format, InputArgs, WatchArgs};
use growthctl::clients::Target;
use secrecy::SecretString;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

const USERS: usize = 200;
const EVENTS: usize = 60_000;

/// A writer the follower prints into, readable by the test meanwhile.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn lines(&self) -> Vec<serde_json::Value> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// The health status the metrics service reports under `name`.
async fn health(addr: &str, name: &str) -> i32 {
    let mut client = HealthClient::new(growth_proto::client::connect(addr).await.unwrap());
    client
        .check(HealthCheckRequest {
            service: name.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .status
}

/// Waits up to 15 s for `name` to report `want`.
async fn health_becomes(addr: &str, name: &str, want: ServingStatus) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while health(addr, name).await != want as i32 {
        assert!(Instant::now() < deadline, "{name} never became {want:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn write_input(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let users = dir.join("users.jsonl");
    let mut f = std::fs::File::create(&users).unwrap();
    for u in 0..USERS {
        writeln!(
            f,
            r#"{{"user_id":"u{u}","email":"u{u}@example.com","signup_at":"2025-01-01T00:00:00Z","plan":"pro"}}"#
        )
        .unwrap();
    }
    let events = dir.join("events.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&events).unwrap());
    for e in 0..EVENTS {
        writeln!(
            f,
            r#"{{"event_id":"e{e}","user_id":"u{}","name":"login","occurred_at":"2025-02-01T{:02}:{:02}:{:02}Z"}}"#,
            e % USERS,
            e / 3600 % 24,
            e / 60 % 60,
            e % 60
        )
        .unwrap();
    }
    f.flush().unwrap();
    (users, events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_restarted_under_track_and_watch_loses_and_doubles_nothing() {
    let cluster = Arc::new(LocalCluster::start_durable().expect("a cluster of the test's own"));
    let url = SecretString::from(cluster.url());
    let pool = db::connect(&url, 8, Duration::from_secs(30)).await.unwrap();
    db::migrate(&pool, &metrics_svc::migrator()).await.unwrap();
    let shutdown = Shutdown::new();
    let server = metrics_svc::start(
        pool.clone(),
        Serve::loopback(AuthPolicy::Disabled, shutdown.clone()),
    )
    .await
    .unwrap();
    let addr = server.grpc_addr.to_string();
    let target = Target::new(&addr, "127.0.0.1:1", None).unwrap();
    let dir = cluster.dir().join("input");
    std::fs::create_dir_all(&dir).unwrap();
    let (users, events) = write_input(&dir);
    let input = |file| InputArgs {
        file: Some(file),
        batch_size: 200,
        retry_for: 60,
    };
    growthctl::ingest::users(&target, &input(users), Format::Json)
        .await
        .unwrap();

    // The database's health name says when it is down; the service's own
    // name stays SERVING (probes must not restart every replica).
    health_becomes(&addr, "metrics.database", ServingStatus::Serving).await;
    let restarting = cluster.clone();
    tokio::task::spawn_blocking(move || restarting.pause("fast"))
        .await
        .unwrap()
        .unwrap();
    health_becomes(&addr, "metrics.database", ServingStatus::NotServing).await;
    assert_eq!(
        health(&addr, "growth.metrics.v1.MetricsService").await,
        ServingStatus::Serving as i32
    );
    // Bad input is refused at the door, database or not; good input waits
    // for it and is answered UNAVAILABLE.
    let mut client = target.metrics().await.unwrap();
    let future_cohorts = pb::GetRetentionMatrixRequest {
        granularity: Granularity::Day as i32,
        cohorts: Some(growth_proto::common::v1::DateRange {
            from: "2999-01-01".into(),
            to: String::new(),
        }),
        ..Default::default()
    };
    let refused = client
        .get_retention_matrix(future_cohorts)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument, "{refused:?}");
    assert!(refused.message().contains("cohorts.from"), "{refused:?}");
    let waited = client
        .get_retention_matrix(pb::GetRetentionMatrixRequest {
            granularity: Granularity::Day as i32,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(waited.code(), tonic::Code::Unavailable, "{waited:?}");
    let restarting = cluster.clone();
    tokio::task::spawn_blocking(move || restarting.resume())
        .await
        .unwrap()
        .unwrap();
    health_becomes(&addr, "metrics.database", ServingStatus::Serving).await;

    // A follower from the start, in follow mode, until it has every event.
    let followed = Captured::default();
    let follower = {
        let target = target.clone();
        let mut out = followed.clone();
        tokio::spawn(async move {
            let args = WatchArgs {
                after: 0,
                stop_at_end: false,
                limit: Some(EVENTS as u64),
            };
            growthctl::watch::follow(&target, &args, Format::Json, &mut out).await
        })
    };

    // Restarts, fast and immediate in turn, for as long as the file is sent
    // (ten at most); the test counts those that happened meanwhile.
    let sending = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let restarting = cluster.clone();
    let still_sending = sending.clone();
    let restarts = tokio::task::spawn_blocking(move || {
        let mut done = 0;
        while done < 10 && still_sending.load(std::sync::atomic::Ordering::SeqCst) {
            let mode = if done % 2 == 0 { "fast" } else { "immediate" };
            restarting.restart(mode).unwrap();
            done += 1;
            std::thread::sleep(Duration::from_millis(300));
        }
        done
    });
    let tracked = growthctl::ingest::events(&target, &input(events), Format::Json)
        .await
        .expect("events track rides out the restarts");
    sending.store(false, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(tracked, std::process::ExitCode::SUCCESS);
    let restarted = restarts.await.unwrap();
    assert!(
        restarted >= 3,
        "only {restarted} restarts while the file was sent"
    );

    let stored: Vec<(String, i64)> =
        sqlx::query_as("SELECT event_id, sequence FROM metrics.events ORDER BY sequence")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(stored.len(), EVENTS, "every event stored once");
    let ids: HashSet<&str> = stored.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids.len(), EVENTS);

    let exit = tokio::time::timeout(Duration::from_secs(60), follower)
        .await
        .expect("the follower resumed and caught up")
        .unwrap()
        .unwrap();
    assert_eq!(exit, std::process::ExitCode::SUCCESS);
    let lines = followed.lines();
    let sequences: Vec<i64> = lines
        .iter()
        .map(|l| l["sequence"].as_i64().unwrap())
        .collect();
    let expected: Vec<i64> = stored.iter().map(|(_, s)| *s).collect();
    assert_eq!(
        sequences, expected,
        "the feed exact: each event once, in order"
    );

    shutdown.trigger();
    server.wait().await.unwrap();
    pool.close().await;
}
