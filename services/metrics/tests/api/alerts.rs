//! Audit alerts through the outbox: delivered once across a Slack outage,
//! one GitHub issue per month (opened, then updated), dead after N attempts.

use std::collections::HashMap;
use std::time::Duration;

use metrics_svc::config::MetricsArgs;
use serde_json::json;
use sqlx::PgPool;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::fake_stripe::{KEY, mount_lists};
use crate::helpers::*;
use growth_proto::metrics::v1 as pb;

const NOV: i64 = 1_761_955_200;

/// A Stripe with payments the empty database lacks: every audit FAILs.
async fn failing_stripe() -> MockServer {
    let server = MockServer::start().await;
    let intents = (0..2)
        .map(|i| json!({"id": format!("pi_{i}"), "amount": 4900, "currency": "usd", "status": "succeeded", "created": NOV + 60 * (i + 1)}))
        .collect();
    mount_lists(&server, HashMap::from([("payment_intents", intents)])).await;
    server
}

fn args(stripe: &MockServer) -> MetricsArgs {
    MetricsArgs {
        stripe_secret_key: growth_runtime::config::OptionalSecret::from(KEY),
        stripe_api_base: stripe.uri(),
        stripe_rate_limit: Some(1000),
        alert_poll_interval_ms: 50,
        alert_retry_base_ms: 50,
        ..MetricsArgs::default()
    }
}

async fn audit(app: &mut TestApp) {
    app.client
        .run_revenue_audit(pb::RunRevenueAuditRequest {
            month: "2025-11".into(),
            ..Default::default()
        })
        .await
        .expect("audit runs");
}

/// Waits until no alert is pending; returns (channel, status, attempts).
async fn settled(app: &TestApp) -> Vec<(String, String, i32)> {
    for _ in 0..200 {
        let rows: Vec<(String, String, i32)> = sqlx::query_as(
            "SELECT channel, status, attempts FROM metrics.alert_outbox ORDER BY alert_id",
        )
        .fetch_all(&app.pool)
        .await
        .expect("outbox");
        if !rows.is_empty() && rows.iter().all(|r| r.1 != "pending") {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("alerts did not settle");
}

#[sqlx::test(migrations = false)]
async fn a_slack_outage_delays_the_alert_but_it_is_posted_exactly_once(pool: PgPool) {
    let stripe = failing_stripe().await;
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/T000/B000/XXXX"))
        .respond_with(ResponseTemplate::new(503).set_body_string("service unavailable"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&slack)
        .await;
    Mock::given(method("POST"))
        .and(path("/services/T000/B000/XXXX"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&slack)
        .await;
    let url = format!("{}/services/T000/B000/XXXX", slack.uri());
    let mut app = spawn_app_with(
        pool,
        MetricsArgs {
            slack_webhook_url: growth_runtime::config::OptionalSecret::from(url.as_str()),
            ..args(&stripe)
        },
    )
    .await;
    audit(&mut app).await;

    assert_eq!(
        settled(&app).await,
        [("slack".to_owned(), "delivered".to_owned(), 3)]
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let posts = slack.received_requests().await.expect("recorded");
    assert_eq!(posts.len(), 3, "two refused, one accepted, none after");
    let text = String::from_utf8_lossy(&posts[2].body).into_owned();
    assert!(
        text.contains("Revenue audit 2025-11") && text.contains("FAIL"),
        "{text}"
    );
}

#[sqlx::test(migrations = false)]
async fn github_gets_one_issue_per_month_opened_then_updated(pool: PgPool) {
    let stripe = failing_stripe().await;
    let github = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/revenue/issues"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&github)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/revenue/issues"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([{"number": 7, "title": "Revenue audit 2025-11"}])),
        )
        .mount(&github)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/revenue/issues"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"number": 7})))
        .expect(1)
        .mount(&github)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/repos/acme/revenue/issues/7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"number": 7})))
        .expect(1)
        .mount(&github)
        .await;
    let mut app = spawn_app_with(
        pool,
        MetricsArgs {
            github_token: growth_runtime::config::OptionalSecret::from("ghp_test"),
            github_repository: Some("acme/revenue".into()),
            github_api_base: github.uri(),
            ..args(&stripe)
        },
    )
    .await;
    audit(&mut app).await;
    settled(&app).await;
    audit(&mut app).await;
    for _ in 0..100 {
        let delivered: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM metrics.alert_outbox WHERE status = 'delivered'",
        )
        .fetch_one(&app.pool)
        .await
        .expect("count");
        if delivered == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refs: Vec<Option<String>> =
        sqlx::query_scalar("SELECT external_ref FROM metrics.alert_outbox ORDER BY alert_id")
            .fetch_all(&app.pool)
            .await
            .expect("refs");
    assert_eq!(refs, [Some("#7".to_owned()), Some("#7".to_owned())]);
    github.verify().await;
}

#[sqlx::test(migrations = false)]
async fn an_alert_is_parked_as_dead_after_the_last_attempt(pool: PgPool) {
    let stripe = failing_stripe().await;
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string("boom"))
        .mount(&slack)
        .await;
    let mut app = spawn_app_with(
        pool,
        MetricsArgs {
            slack_webhook_url: growth_runtime::config::OptionalSecret::from(
                format!("{}/hook", slack.uri()).as_str(),
            ),
            alert_max_attempts: 3,
            ..args(&stripe)
        },
    )
    .await;
    audit(&mut app).await;
    assert_eq!(
        settled(&app).await,
        [("slack".to_owned(), "dead".to_owned(), 3)]
    );
    let error: String = sqlx::query_scalar("SELECT last_error FROM metrics.alert_outbox")
        .fetch_one(&app.pool)
        .await
        .expect("error");
    assert_eq!(error, "Slack answered 500 Internal Server Error: boom");
}

#[sqlx::test(migrations = false)]
async fn a_channel_that_never_answers_holds_no_other_alert_beyond_its_timeout(pool: PgPool) {
    let stripe = failing_stripe().await;
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(60)))
        .mount(&slack)
        .await;
    let github = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/revenue/issues"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&github)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/revenue/issues"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"number": 3})))
        .expect(1)
        .mount(&github)
        .await;
    let mut app = spawn_app_with(
        pool,
        MetricsArgs {
            slack_webhook_url: growth_runtime::config::OptionalSecret::from(
                format!("{}/hook", slack.uri()).as_str(),
            ),
            github_token: growth_runtime::config::OptionalSecret::from("ghp_test"),
            github_repository: Some("acme/revenue".into()),
            github_api_base: github.uri(),
            alert_timeout_ms: 300,
            alert_retry_base_ms: 60_000,
            ..args(&stripe)
        },
    )
    .await;
    let started = std::time::Instant::now();
    audit(&mut app).await;
    let mut rows: Vec<(String, String, Option<String>)> = Vec::new();
    for _ in 0..200 {
        rows = sqlx::query_as(
            "SELECT channel, status, last_error FROM metrics.alert_outbox ORDER BY channel",
        )
        .fetch_all(&app.pool)
        .await
        .expect("outbox");
        if rows.iter().any(|r| r.0 == "github" && r.1 == "delivered")
            && rows.iter().any(|r| r.0 == "slack" && r.2.is_some())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "the hung Slack held GitHub's alert for {took:?}"
    );
    assert_eq!(rows[0].0, "github");
    assert_eq!(rows[0].1, "delivered");
    assert_eq!(rows[1].0, "slack");
    assert_eq!(rows[1].1, "pending", "retried later");
    let error = rows[1].2.clone().unwrap_or_default();
    assert!(error.starts_with("Slack unreachable"), "{error}");
    github.verify().await;
}
