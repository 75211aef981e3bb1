//! `growthctl audit` against the real service and a fake Stripe: the exit
//! codes a CronJob relies on, the report file, and the error messages.

use std::collections::HashMap;

use metrics_svc::config::MetricsArgs;
use serde_json::json;
use sqlx::PgPool;
use wiremock::MockServer;

/// The metrics service's fake Stripe, shared rather than copied.
#[allow(dead_code)]
#[path = "../../../../services/metrics/tests/api/fake_stripe.rs"]
mod fake_stripe;

use crate::helpers::*;

const NOV: i64 = 1_761_955_200;

async fn stripe_with(intents: usize) -> MockServer {
    let server = MockServer::start().await;
    let objects = (0..intents)
        .map(|i| json!({"id": format!("pi_{i}"), "amount": 4900, "currency": "usd", "status": "succeeded", "created": NOV + 60 * (i as i64 + 1)}))
        .collect();
    fake_stripe::mount_lists(&server, HashMap::from([("payment_intents", objects)])).await;
    server
}

fn args(server: &MockServer) -> MetricsArgs {
    MetricsArgs {
        stripe_secret_key: growth_runtime::config::OptionalSecret::from(fake_stripe::KEY),
        stripe_api_base: server.uri(),
        stripe_rate_limit: Some(1000),
        ..MetricsArgs::default()
    }
}

#[sqlx::test(migrations = false)]
async fn a_failing_month_exits_3_and_writes_the_report(pool: PgPool) {
    let stripe = stripe_with(3).await;
    let services = spawn_services_with(pool, args(&stripe)).await;
    let dir = std::env::temp_dir().join(format!("growthctl-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("report.md");
    let output = growthctl(
        &services,
        &[
            "audit",
            "run",
            "--month",
            "2025-11",
            "--output",
            file.to_str().expect("utf-8"),
        ],
        "",
    )
    .await;
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("MISSING_IN_DB"),
        "{}",
        stdout(&output)
    );
    let report = std::fs::read_to_string(&file).expect("report written");
    assert!(
        report.starts_with("# Revenue audit 2025-11: FAIL"),
        "{report}"
    );
    assert!(report.contains("## Recommendations"));
    std::fs::remove_dir_all(&dir).ok();

    let repaired = growthctl(
        &services,
        &["audit", "run", "--month", "2025-11", "--repair"],
        "",
    )
    .await;
    assert_eq!(
        repaired.status.code(),
        Some(3),
        "the repaired run reports what it found"
    );
    let clean = growthctl(
        &services,
        &["--format", "json", "audit", "run", "--month", "2025-11"],
        "",
    )
    .await;
    assert_eq!(
        clean.status.code(),
        Some(0),
        "PASS after the repair: {}",
        stdout(&clean)
    );
    assert_eq!(json(&clean)["verdict"], "PASS");

    let listed = growthctl(&services, &["--format", "json", "audit", "list"], "").await;
    assert_eq!(json(&listed).as_array().map(Vec::len), Some(3));
}

#[sqlx::test(migrations = false)]
async fn bad_months_and_a_missing_key_exit_1_with_a_clear_message(pool: PgPool) {
    let services = spawn_services(pool).await;
    let bad = growthctl(&services, &["audit", "run", "--month", "2025-13"], "").await;
    assert_eq!(bad.status.code(), Some(1));
    assert_eq!(
        stderr(&bad).trim(),
        "error: month: \"2025-13\" is not a month: expected YYYY-MM, e.g. 2025-11 (INVALID_ARGUMENT)"
    );
    let no_key = growthctl(&services, &["audit", "run", "--month", "2025-11"], "").await;
    assert_eq!(no_key.status.code(), Some(1));
    assert!(
        stderr(&no_key).contains("STRIPE_SECRET_KEY")
            && stderr(&no_key).contains("(FAILED_PRECONDITION)"),
        "{}",
        stderr(&no_key)
    );
}

/// A base URL nothing listens on: a port bound, then released.
fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

#[sqlx::test(migrations = false)]
async fn an_audit_that_could_not_run_writes_no_report_and_shows_failed(pool: PgPool) {
    let services = spawn_services_with(
        pool,
        MetricsArgs {
            stripe_secret_key: growth_runtime::config::OptionalSecret::from(fake_stripe::KEY),
            stripe_api_base: closed_port(),
            stripe_rate_limit: Some(1000),
            stripe_time_slices: 1,
            ..MetricsArgs::default()
        },
    )
    .await;
    let dir = std::env::temp_dir().join(format!("growthctl-audit-failed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("r.md");
    let output = growthctl(
        &services,
        &[
            "--format",
            "md",
            "audit",
            "run",
            "--month",
            "2025-11",
            "--output",
            file.to_str().expect("utf-8"),
        ],
        "",
    )
    .await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(!file.exists(), "a failed run writes no report file");
    assert!(
        !stderr(&output).contains("report written"),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("the audit of 2025-11 failed, so "),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("r.md was not written: "),
        "{}",
        stderr(&output)
    );
    assert!(stdout(&output).contains("FAILED"), "{}", stdout(&output));
    assert!(
        !stdout(&output).contains("UNSPECIFIED"),
        "{}",
        stdout(&output)
    );
    std::fs::remove_dir_all(&dir).ok();

    let listed = growthctl(&services, &["--format", "json", "audit", "list"], "").await;
    let runs = json(&listed);
    assert_eq!(runs[0]["status"], "FAILED");
    assert_eq!(runs[0]["verdict"], "FAILED", "{runs}");
    let run_id = runs[0]["run_id"].as_str().expect("an id").to_owned();
    for format in ["table", "md", "csv"] {
        let listed = growthctl(&services, &["--format", format, "audit", "list"], "").await;
        let text = stdout(&listed);
        assert!(!text.contains("UNSPECIFIED"), "{format}: {text}");
        assert_eq!(text.matches("FAILED").count(), 2, "{format}: {text}");
    }
    for format in ["table", "md", "csv", "json"] {
        let shown = growthctl(
            &services,
            &["--format", format, "audit", "show", &run_id],
            "",
        )
        .await;
        let text = stdout(&shown);
        assert!(!text.contains("UNSPECIFIED"), "{format}: {text}");
        assert!(text.contains("FAILED"), "{format}: {text}");
    }
}

#[sqlx::test(migrations = false)]
async fn audit_run_shows_the_months_money_as_money(pool: PgPool) {
    let stripe = stripe_with(3).await;
    let services = spawn_services_with(pool, args(&stripe)).await;
    let table = growthctl(&services, &["audit", "run", "--month", "2025-11"], "").await;
    assert_eq!(table.status.code(), Some(3), "{}", stderr(&table));
    let text = stdout(&table);
    for label in [
        "net revenue of the month",
        "refunds made in the month",
        "refunded to date",
        "147.00 USD",
        "0.00 USD",
    ] {
        assert!(text.contains(label), "{label:?} missing:\n{text}");
    }
    let as_json = growthctl(
        &services,
        &["--format", "json", "audit", "run", "--month", "2025-11"],
        "",
    )
    .await;
    let run = json(&as_json);
    let usd = &run["totals"][0];
    assert_eq!(usd["stripe"]["refunds_in_month_minor"], 0);
    assert_eq!(usd["stripe"]["month_net_minor"], 14_700);
    assert_eq!(usd["stripe"]["refunds_minor"], 0, "refunded to date");
    assert_eq!(usd["db"]["month_net_minor"], 0);
    assert!(run["started_at"].is_string(), "{run}");
    assert!(run["finished_at"].is_string(), "{run}");
    assert_eq!(
        run["window"],
        "[2025-11-01T00:00:00Z, 2025-12-01T00:00:00Z)"
    );
}

/// A paid intent of a minute ago whose `payment_intent.succeeded` event the
/// webhook never received, listed by Stripe's Events API.
async fn stripe_with_a_missed_event() -> (MockServer, String) {
    let created = chrono::Utc::now().timestamp() - 60;
    let intent = json!({"id": "pi_missed", "object": "payment_intent", "amount": 4900, "amount_received": 4900,
                        "currency": "usd", "status": "succeeded", "customer": "cus_1", "created": created});
    let event = json!({"id": "evt_missed", "object": "event", "type": "payment_intent.succeeded", "created": created,
                       "api_version": "2024-06-20", "data": {"object": intent}});
    let server = MockServer::start().await;
    fake_stripe::mount_lists(
        &server,
        HashMap::from([("payment_intents", vec![intent]), ("events", vec![event])]),
    )
    .await;
    let month = chrono::DateTime::from_timestamp(created, 0)
        .expect("a time")
        .format("%Y-%m")
        .to_string();
    (server, month)
}

#[sqlx::test(migrations = false)]
async fn a_repair_shows_the_events_it_replayed_in_every_format(pool: PgPool) {
    let (stripe, month) = stripe_with_a_missed_event().await;
    let services = spawn_services_with(pool, args(&stripe)).await;
    let dry = growthctl(
        &services,
        &["audit", "run", "--month", &month, "--repair", "--dry-run"],
        "",
    )
    .await;
    let text = stdout(&dry);
    assert!(
        // The dry run replays nothing, so it also sees the payment missing.
        text.contains("1 payment(s) would be backfilled, 1 missed event(s) would be replayed, 0 entitlement repair(s)")
            && text.contains("event evt_missed (payment_intent.succeeded, created ")
            && text.contains("): dry_run"),
        "{text}"
    );

    let repaired = growthctl(
        &services,
        &[
            "--format", "json", "audit", "run", "--month", &month, "--repair",
        ],
        "",
    )
    .await;
    let run = json(&repaired);
    let summary = &run["repair_summary"];
    assert_eq!(summary["payments_backfilled"], 0, "{run}");
    assert_eq!(summary["drift_repairs"], json!([]), "{run}");
    let replayed = &summary["replayed_events"][0];
    assert_eq!(replayed["event_id"], "evt_missed", "{run}");
    assert_eq!(replayed["type"], "payment_intent.succeeded");
    assert_eq!(replayed["outcome"], "applied");
    assert!(replayed["created_at"].is_string(), "{run}");
    assert_eq!(summary["replayed_events"].as_array().map(Vec::len), Some(1));

    let run_id = run["run_id"].as_str().expect("an id");
    let shown = growthctl(&services, &["audit", "show", run_id], "").await;
    assert!(
        stdout(&shown).contains("event evt_missed (payment_intent.succeeded, created "),
        "{}",
        stdout(&shown)
    );
}
