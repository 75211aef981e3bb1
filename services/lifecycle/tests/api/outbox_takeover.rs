//! The outbox kit under a crash and a hung peer: a worker process killed
//! with SIGKILL in the middle of a batch strands only the row it was
//! sending, which a new worker takes over at once (not after its lease) and
//! checks with Kit instead of sending again; a Kit that never answers one
//! request holds no other row beyond the request's timeout.

use std::process::Stdio;
use std::time::{Duration, Instant};

use growth_proto::lifecycle::v1::{DeliveryStatus, KitAction, LifecycleStage as S};
use lifecycle_svc::kit::KitClient;
use lifecycle_svc::outbox::deliver_due;
use secrecy::SecretString;
use sqlx::PgPool;

use crate::fake_kit::{FakeKit, HANG, KEY};
use crate::helpers::*;
use crate::outbox::{activate, add_rule, deliveries, kit_args, rule, successful_actions};

const ROWS: usize = 10;

/// The URL of the test's own database.
fn database_url(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL is set for the tests");
    let database = pool
        .connect_options()
        .get_database()
        .unwrap_or("postgres")
        .to_owned();
    let (server, _) = base.rsplit_once('/').expect("a URL with a database");
    format!("{server}/{database}")
}

/// One user activated under ten tag rules: ten deliveries queued, none sent.
async fn ten_deliveries(pool: PgPool, fake: &FakeKit) -> Cluster {
    let mut c = spawn_with(pool, |a| {
        kit_args(fake)(a);
        a.outbox_disabled = true;
    })
    .await;
    for tag in 0..ROWS {
        add_rule(
            &mut c,
            rule(S::Active, KitAction::AddTag, &format!("{}", 101 + tag)),
        )
        .await;
    }
    activate(&mut c).await;
    assert_eq!(
        deliveries(&c.lifecycle, DeliveryStatus::Pending)
            .await
            .len(),
        ROWS
    );
    c
}

/// A client of the fake with a 500 ms timeout and Kit's rate limit out of
/// the way, so that only a hang or a lease can slow a round down.
fn unlimited_kit(fake: &FakeKit) -> KitClient {
    let mut config = lifecycle_svc::kit::KitConfig::v4(SecretString::from(KEY.to_owned()));
    config.api_base = fake.base_url();
    config.timeout = Duration::from_millis(500);
    config.requests_per_minute = 60_000;
    config.burst = 1000;
    KitClient::new(config).unwrap()
}

/// The idempotency keys of Kit's tag actions, in the order they arrived.
fn actions(fake: &FakeKit) -> Vec<String> {
    fake.mutations()
        .iter()
        .filter(|r| r.path.contains("/tags/"))
        .filter_map(|r| r.idempotency_key().map(str::to_owned))
        .collect()
}

#[sqlx::test(migrations = false)]
async fn a_worker_killed_mid_batch_resends_at_most_its_row_and_loses_no_attempt(pool: PgPool) {
    let fake = FakeKit::v4().await;
    let c = ten_deliveries(pool, &fake).await;
    // The third action takes effect at Kit, and its answer never comes back
    // before the worker dies.
    fake.apply_then_hang_after(2);
    let mut worker = tokio::process::Command::new(env!("CARGO_BIN_EXE_lifecycle-svc"))
        .env_clear()
        .env("DATABASE_URL", database_url(&c.pool))
        .env("GRPC_LISTEN_ADDR", "127.0.0.1:0")
        .env("HTTP_LISTEN_ADDR", "127.0.0.1:0")
        .env("GROWTH_INSECURE_DISABLE_AUTH", "true")
        .env(
            "METRICS_ADDR",
            format!("http://{}", c.metrics_server.grpc_addr),
        )
        .env("FEED_DISABLED", "true")
        .env("KIT_API_KEY", KEY)
        .env("KIT_API_BASE", fake.base_url())
        .env("KIT_TIMEOUT_MS", "30000")
        .env("KIT_REQUESTS_PER_MINUTE", "60000")
        .env("OUTBOX_POLL_INTERVAL_MS", "50")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("lifecycle-svc starts");
    eventually("the worker sent its third action", || async {
        actions(&fake).len() >= 3
    })
    .await;
    worker.kill().await.expect("SIGKILL");
    let killed = Instant::now();
    let sent = actions(&fake);
    assert_eq!(sent.len(), 3, "the worker was stuck on its third send");
    let interrupted = sent[2].clone();

    // A new worker: the dead one's row is taken over as soon as its session
    // is gone, long before its lease (4 × 30 s + 5 s) runs out.
    let kit = unlimited_kit(&fake);
    let config = lifecycle_svc::outbox::OutboxConfig {
        retry_base: Duration::ZERO,
        ..Default::default()
    };
    eventually("every delivery is delivered", || async {
        deliver_due(&c.pool, Some(&kit), &config).await.unwrap();
        deliveries(&c.lifecycle, DeliveryStatus::Delivered)
            .await
            .len()
            == ROWS
    })
    .await;
    assert!(
        killed.elapsed() < HANG,
        "took over after {:?}",
        killed.elapsed()
    );

    for d in deliveries(&c.lifecycle, DeliveryStatus::Delivered).await {
        let key = d.idempotency_key.as_str();
        assert_eq!(successful_actions(&fake, key), 1, "{key} applied once");
        if key == interrupted {
            // The interrupted send counts; the takeover asked Kit, found the
            // tag, and did not send again.
            assert_eq!(d.attempts, 2, "{key}");
            assert_eq!(fake.mutations_with_key(key), 1, "{key} sent once");
        } else {
            assert_eq!(d.attempts, 1, "{key}: no attempt lost to the crash");
        }
    }
}

#[sqlx::test(migrations = false)]
async fn a_peer_that_never_answers_delays_no_other_row_beyond_its_timeout(pool: PgPool) {
    let fake = FakeKit::v4().await;
    // The first action takes effect, and its answer is held far longer than
    // the client waits (500 ms).
    fake.apply_then_hang(1);
    let c = ten_deliveries(pool, &fake).await;
    let kit = unlimited_kit(&fake);
    let started = Instant::now();
    let round = deliver_due(&c.pool, Some(&kit), &Default::default())
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!((round.claimed, round.delivered), (ROWS, ROWS - 1));
    assert!(
        took < Duration::from_secs(5),
        "one unanswered request held the round for {took:?} (hang: {HANG:?})"
    );
    let pending = deliveries(&c.lifecycle, DeliveryStatus::Pending).await;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].idempotency_key, actions(&fake)[0]);
    assert!(
        pending[0].last_error.contains("timed out") || pending[0].last_error.contains("no answer"),
        "{}",
        pending[0].last_error
    );
    assert_eq!(pending[0].attempts, 1);
}
