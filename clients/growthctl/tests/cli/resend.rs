//! The ingest commands send a batch again when its outcome is unknown:
//! against a front for the real metrics service that answers UNAVAILABLE to
//! the calls a script names (some after passing them on, so the batch is
//! stored but the answer lost), every row ends up stored once; against a
//! front that never recovers, the command gives up within `--retry-for`,
//! saying the outcome is unknown and that running it again is safe.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tonic::Status;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::transport::Channel;
use tower_service::Service;

use crate::helpers::*;

/// What the front does with one call.
#[derive(Debug, Clone, Copy)]
enum Answer {
    /// Passes it on and returns the service's answer.
    Forward,
    /// Answers UNAVAILABLE without passing it on: nothing is stored.
    Unavailable,
    /// Passes it on, then answers UNAVAILABLE: stored, the answer lost.
    Lost,
}

/// A gRPC front for the metrics service: the n-th call gets `script[n]`,
/// calls past the script get `then`.
#[derive(Clone)]
struct Front {
    upstream: Channel,
    script: Arc<Vec<Answer>>,
    then: Answer,
    calls: Arc<AtomicUsize>,
}

impl NamedService for Front {
    const NAME: &'static str = "growth.metrics.v1.MetricsService";
}

type ResponseFuture =
    Pin<Box<dyn Future<Output = Result<http::Response<Body>, Infallible>> + Send>>;

impl Service<http::Request<Body>> for Front {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let answer = self.script.get(n).copied().unwrap_or(self.then);
        let mut upstream = self.upstream.clone();
        Box::pin(async move {
            let unavailable = || Status::unavailable("the database is unavailable; retry later");
            if matches!(answer, Answer::Unavailable) {
                return Ok(unavailable().into_http());
            }
            let forwarded = match std::future::poll_fn(|cx| upstream.poll_ready(cx)).await {
                Ok(()) => upstream.call(request).await,
                Err(e) => Err(e),
            };
            // The service answers once its handler is done, the commit
            // included: a lost answer is one of a stored batch.
            let response =
                forwarded.unwrap_or_else(|e| Status::unavailable(e.to_string()).into_http());
            Ok(match answer {
                Answer::Lost => unavailable().into_http(),
                Answer::Forward | Answer::Unavailable => response,
            })
        })
    }
}

/// Starts a front for `services`' metrics service; returns its address and
/// its call counter.
async fn front(
    services: &Services,
    script: Vec<Answer>,
    then: Answer,
) -> (String, Arc<AtomicUsize>) {
    let upstream = growth_proto::client::connect(&services.metrics.grpc_addr.to_string())
        .await
        .expect("metrics reachable");
    let calls = Arc::new(AtomicUsize::new(0));
    let service = Front {
        upstream,
        script: Arc::new(script),
        then,
        calls: Arc::clone(&calls),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    (addr.to_string(), calls)
}

/// growthctl `args` sending through the front at `addr`.
async fn through(
    services: &Services,
    addr: &str,
    args: &[&str],
    stdin: &str,
) -> std::process::Output {
    let mut command = command(services, args);
    command.env("GROWTH_METRICS_ADDR", addr);
    run(command, stdin).await
}

const USERS: &str = r#"{"user_id":"u1","email":"u1@example.com","signup_at":"2025-01-01T10:00:00Z","plan":"trial"}
{"user_id":"u2","email":"u2@example.com","signup_at":"2025-01-02T10:00:00Z","plan":"pro"}
"#;

const PAYMENTS: &str = r#"{"stripe_id":"pi_1","user_id":"u1","amount_minor":4900,"currency":"usd","status":"succeeded","created_at":"2025-01-15T10:00:00Z"}
{"stripe_id":"pi_2","user_id":"u2","amount_minor":9900,"currency":"usd","status":"succeeded","created_at":"2025-01-16T10:00:00Z"}
"#;

fn events_jsonl(n: usize) -> String {
    (0..n)
        .map(|i| format!(r#"{{"event_id":"e{i}","user_id":"u{}","name":"login","occurred_at":"2025-01-03T10:00:00Z"}}"#, i % 2 + 1))
        .collect::<Vec<_>>()
        .join("\n")
}

fn retry_notices(output: &std::process::Output) -> Vec<String> {
    stderr(output)
        .lines()
        .filter(|l| l.contains("sending it again"))
        .map(str::to_owned)
        .collect()
}

#[sqlx::test(migrations = false)]
async fn batches_answered_unavailable_are_sent_again_and_stored_once(pool: PgPool) {
    let services = spawn_services(pool.clone()).await;
    let users = growthctl(&services, &["users", "upsert"], USERS).await;
    assert!(users.status.success(), "{}", stderr(&users));

    use Answer::*;
    // Batches of 7, 7 and 6 events. The first is stored but its answer
    // lost; the second refused, then stored with its answer lost; the third
    // refused once.
    let script = vec![
        Lost,
        Forward,
        Unavailable,
        Lost,
        Forward,
        Unavailable,
        Forward,
    ];
    let (addr, calls) = front(&services, script, Forward).await;
    let output = through(
        &services,
        &addr,
        &["--format", "json", "events", "track", "--batch-size", "7"],
        &events_jsonl(20),
    )
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["rows"], 20);
    // What the lost answers stored comes back as duplicates.
    assert_eq!(
        (report["inserted"].clone(), report["duplicates"].clone()),
        (6.into(), 14.into())
    );
    assert_eq!(calls.load(Ordering::SeqCst), 7);

    let notices = retry_notices(&output);
    assert_eq!(notices.len(), 4, "{}", stderr(&output));
    for (notice, lines) in notices.iter().zip(["1-7", "8-14", "8-14", "15-20"]) {
        assert!(
            notice.starts_with(&format!(
                "the batch of lines {lines} got no answer to rely on "
            )) && notice.contains(
                "(UNAVAILABLE \"the database is unavailable; retry later\"); sending it again in "
            ),
            "{notice}"
        );
    }
    assert_eq!(stderr(&output).lines().count(), 4, "{}", stderr(&output));

    let (stored, distinct): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT event_id) FROM metrics.events")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!((stored, distinct), (20, 20));
}

#[sqlx::test(migrations = false)]
async fn a_service_that_never_recovers_ends_the_run_within_the_bound(pool: PgPool) {
    let services = spawn_services(pool.clone()).await;
    let (addr, calls) = front(&services, Vec::new(), Answer::Unavailable).await;
    let events = events_jsonl(2);
    let cases = [
        (
            ["users", "upsert"],
            USERS,
            "users are stored once per user id",
        ),
        (
            ["events", "track"],
            events.as_str(),
            "events are stored once per event id",
        ),
        (
            ["payments", "import"],
            PAYMENTS,
            "payments are stored once per stripe_id",
        ),
    ];
    for (command, input, key) in cases {
        let started = Instant::now();
        let args = [
            command[0],
            command[1],
            "--batch-size",
            "2",
            "--retry-for",
            "1",
        ];
        let output = through(&services, &addr, &args, input).await;
        let took = started.elapsed();
        assert_eq!(
            output.status.code(),
            Some(1),
            "{command:?}: {}",
            stderr(&output)
        );
        assert!(stdout(&output).is_empty(), "{}", stdout(&output));
        assert!(
            took >= Duration::from_secs(1) && took < Duration::from_secs(10),
            "{command:?} took {took:?}"
        );
        let error = stderr(&output)
            .lines()
            .find(|l| l.starts_with("error: "))
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("an error line: {}", stderr(&output)));
        assert!(
            error.starts_with(
                "error: the outcome of the batch of lines 1-2 is unknown: no answer to rely on in "
            ) && error.contains(
                " s (the last: UNAVAILABLE \"the database is unavailable; retry later\"); it may or \
                 may not be stored (0 rows before it were stored). Re-running the same command is \
                 safe: "
            ) && error.contains(key)
                && !error.contains("refused"),
            "{error}"
        );
        assert!(!retry_notices(&output).is_empty(), "{}", stderr(&output));
    }
    let (users, payments): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM metrics.users), (SELECT count(*) FROM metrics.payments)",
    )
    .fetch_one(&pool)
    .await
    .expect("count");
    assert_eq!((users, payments), (0, 0));

    // With no time to retry, one call and the same verdict.
    let before = calls.load(Ordering::SeqCst);
    let output = through(
        &services,
        &addr,
        &["events", "track", "--retry-for", "0"],
        &events_jsonl(3),
    )
    .await;
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(calls.load(Ordering::SeqCst), before + 1);
    assert!(retry_notices(&output).is_empty(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("the outcome of the batch of lines 1-3 is unknown: no answer to rely on in 1 attempt over 0.0 s"),
        "{}",
        stderr(&output)
    );
}
