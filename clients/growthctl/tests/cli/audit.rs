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
