//! The AI summary against a fake Anthropic API: retries on 529 and 429
//! (after its `retry-after`), refusals that are final, a timeout, an
//! unreachable host, an answer that breaks the schema, what the request
//! carries (the headers, the forced tool, no personal data) and that the
//! key is never in a reason.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use metrics_svc::config::MetricsArgs;
use metrics_svc::insights::ai::outcome::NO_KEY;
use metrics_svc::insights::ai::prompt::{PROMPT_VERSION, TOOL_NAME, input_schema};
use metrics_svc::insights::ai::{AiConfig, AiInput, AiKpi, AiOutcome, summarize};
use metrics_svc::insights::kpi::{Kpi, Series, Unit};
use metrics_svc::insights::week::Week;
use serde_json::{Value, json};
use wiremock::MockServer;

use crate::fake_anthropic::{KEY, answer, bodies, error, good_input, reply};

const MODEL: &str = "claude-test-model";

fn config(base: &str) -> AiConfig {
    AiConfig {
        api_base: base.to_owned(),
        model: MODEL.to_owned(),
        timeout: Duration::from_secs(5),
        ..AiConfig::new(KEY.to_owned().into())
    }
}

/// Users of the product: what the summary must never see.
struct User {
    id: &'static str,
    email: &'static str,
    name: &'static str,
    signed_up: bool,
}

const USERS: [User; 3] = [
    User {
        id: "5f0c6b1e-8d3a-4c2b-9e7f-1a2b3c4d5e6f",
        email: "jane.doe@example.com",
        name: "Jane Planted-Doe",
        signed_up: true,
    },
    User {
        id: "user_planted_777",
        email: "max.mustermann@example.org",
        name: "Max Planted-Mustermann",
        signed_up: true,
    },
    User {
        id: "a9e1c0de-0000-4000-8000-00000000beef",
        email: "li.wei@example.net",
        name: "Li Planted-Wei",
        signed_up: false,
    },
];

/// The week's aggregates, computed from [`USERS`]; one insight carries an
/// email, a customer id and a user id as a careless rule might.
fn input() -> AiInput {
    let signups = USERS.iter().filter(|u| u.signed_up).count() as f64;
    let kpi = Kpi::of(Series {
        name: "signups".to_owned(),
        label: "Signups".to_owned(),
        unit: Unit::Count,
        currency: String::new(),
        higher_is_better: true,
        weeks: vec![1.0, 1.0, 3.0, signups],
    });
    let mrr = Kpi::of(Series {
        name: "mrr".to_owned(),
        label: "MRR".to_owned(),
        unit: Unit::MoneyMinor,
        currency: "usd".to_owned(),
        higher_is_better: true,
        weeks: vec![1_190_000.0, 1_240_000.0],
    });
    AiInput {
        week: Week::of(NaiveDate::from_ymd_opt(2025, 11, 19).expect("date")),
        time_zone: "America/Havana".to_owned(),
        kpis: vec![AiKpi::from(&kpi), AiKpi::from(&mrr)],
        insights: vec![
            "MRR grew 4.2% to 12,400.00 USD.".to_owned(),
            format!(
                "Largest refund: {} (cus_PlantedX9f2, user {}).",
                USERS[0].email, USERS[2].id
            ),
        ],
        anomalies: vec![
            "Signups on 2025-11-18: 0 against a median of 14 (robust z 7.1).".to_owned(),
        ],
    }
}

fn reason(outcome: &AiOutcome) -> String {
    match outcome {
        AiOutcome::Failed {
            reason,
            model,
            prompt_version,
            ..
        } => {
            assert_eq!(model, MODEL);
            assert_eq!(prompt_version, PROMPT_VERSION);
            assert!(!reason.contains(KEY), "the key leaked: {reason}");
            assert!(!format!("{outcome:?}").contains(KEY));
            reason.clone()
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

fn assert_used(outcome: &AiOutcome) {
    let AiOutcome::Used {
        summary_markdown,
        highlights,
        recommendations,
        model,
        prompt_version,
        input_tokens,
        output_tokens,
    } = outcome
    else {
        panic!("expected the summary to be used, got {outcome:?}");
    };
    assert_eq!(
        summary_markdown,
        good_input()["summary_markdown"].as_str().expect("text")
    );
    assert_eq!(highlights.len(), 2);
    assert_eq!(recommendations.len(), 1);
    assert_eq!(model, MODEL);
    assert_eq!(prompt_version, PROMPT_VERSION);
    assert_eq!((*input_tokens, *output_tokens), (640, 120));
}

#[tokio::test]
async fn without_a_key_the_ai_part_is_skipped() {
    assert!(MetricsArgs::default().anthropic().is_none());
    assert_eq!(
        summarize(None, &input()).await,
        AiOutcome::Skipped {
            reason: NO_KEY.to_owned()
        }
    );
}

#[tokio::test]
async fn overloaded_then_success_is_used_after_two_requests() {
    let server = MockServer::start().await;
    answer(&server, error(529, "overloaded_error", "Overloaded"), 1).await;
    answer(&server, reply(good_input()), 1).await;
    let outcome = summarize(Some(&config(&server.uri())), &input()).await;
    assert_used(&outcome);
    assert_eq!(bodies(&server).await.len(), 2);
}

#[tokio::test]
async fn a_server_error_is_retried_until_the_attempts_run_out() {
    let server = MockServer::start().await;
    answer(
        &server,
        error(500, "api_error", "Internal server error"),
        10,
    )
    .await;
    let outcome = summarize(Some(&config(&server.uri())), &input()).await;
    let reason = reason(&outcome);
    assert!(reason.contains("gave up after 4 attempts"), "{reason}");
    assert!(
        reason.contains("500 Internal Server Error (api_error)"),
        "{reason}"
    );
    assert_eq!(bodies(&server).await.len(), 4);
}

#[tokio::test]
async fn rate_limited_waits_for_retry_after_then_succeeds() {
    let server = MockServer::start().await;
    let limited = error(429, "rate_limit_error", "Number of requests exceeded")
        .insert_header("retry-after", "1");
    answer(&server, limited, 1).await;
    answer(&server, reply(good_input()), 1).await;
    let started = Instant::now();
    let outcome = summarize(Some(&config(&server.uri())), &input()).await;
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_used(&outcome);
    assert_eq!(bodies(&server).await.len(), 2);
}

#[tokio::test]
async fn a_retry_after_beyond_what_a_report_waits_ends_it_at_once() {
    let server = MockServer::start().await;
    let limited = error(429, "rate_limit_error", "Slow down").insert_header("retry-after", "600");
    answer(&server, limited, 5).await;
    let started = Instant::now();
    let reason = reason(&summarize(Some(&config(&server.uri())), &input()).await);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(reason.contains("asked to wait 600 s"), "{reason}");
    assert_eq!(bodies(&server).await.len(), 1);
}

#[tokio::test]
async fn client_errors_fail_at_once_with_the_status_and_message() {
    for (status, kind, text) in [
        (
            400,
            "invalid_request_error",
            "max_tokens: must be at most 64000",
        ),
        (401, "authentication_error", "invalid x-api-key"),
        (
            403,
            "permission_error",
            "Your API key does not have permission",
        ),
        (404, "not_found_error", "model: claude-test-model"),
        (
            413,
            "request_too_large",
            "Request exceeds the maximum allowed size",
        ),
    ] {
        let server = MockServer::start().await;
        answer(&server, error(status, kind, text), 5).await;
        let reason = reason(&summarize(Some(&config(&server.uri())), &input()).await);
        assert!(reason.contains(&format!("answered {status}")), "{reason}");
        assert!(reason.contains(kind) && reason.contains(text), "{reason}");
        assert_eq!(bodies(&server).await.len(), 1, "{status} is not retried");
    }
}

#[tokio::test]
async fn the_key_appears_in_no_reason_even_when_the_api_echoes_it() {
    let server = MockServer::start().await;
    let echo = format!("invalid x-api-key: {KEY}");
    answer(&server, error(401, "authentication_error", &echo), 1).await;
    let reason = reason(&summarize(Some(&config(&server.uri())), &input()).await);
    assert!(reason.contains("invalid x-api-key: [redacted]"), "{reason}");
}

#[tokio::test]
async fn a_timeout_fails_naming_the_timeout_and_the_host() {
    let server = MockServer::start().await;
    answer(
        &server,
        reply(good_input()).set_delay(Duration::from_secs(3)),
        5,
    )
    .await;
    let config = AiConfig {
        timeout: Duration::from_millis(300),
        ..config(&server.uri())
    };
    let started = Instant::now();
    let reason = reason(&summarize(Some(&config), &input()).await);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(reason.contains("within 300 ms"), "{reason}");
    assert!(reason.contains("timed out"), "{reason}");
    let host = server.address().to_string();
    assert!(reason.contains(&host), "{reason} should name {host}");
    assert_eq!(bodies(&server).await.len(), 1, "a timeout is not retried");
}

#[tokio::test]
async fn an_unreachable_host_fails_naming_the_address() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = closed.local_addr().expect("address");
    drop(closed);
    let reason = reason(&summarize(Some(&config(&format!("http://{address}"))), &input()).await);
    assert!(reason.contains("cannot connect"), "{reason}");
    assert!(
        reason.contains(&address.to_string()),
        "{reason} should name {address}"
    );
    assert!(reason.contains("gave up after 4 attempts"), "{reason}");
}

#[tokio::test]
async fn an_answer_that_breaks_the_schema_is_not_used() {
    let cases = [
        (
            json!({"summary_markdown": "ok", "highlights": []}),
            "recommendations is missing",
        ),
        (
            json!({"summary_markdown": "", "highlights": [], "recommendations": []}),
            "summary_markdown is empty",
        ),
        (
            json!({"summary_markdown": "x".repeat(5000), "highlights": [], "recommendations": []}),
            "more than 1200",
        ),
        (
            json!({"summary_markdown": "ok", "highlights": [1, 2], "recommendations": []}),
            "highlights[0] is a number",
        ),
    ];
    for (input_json, why) in cases {
        let server = MockServer::start().await;
        answer(&server, reply(input_json), 5).await;
        let outcome = summarize(Some(&config(&server.uri())), &input()).await;
        let reason = reason(&outcome);
        assert!(
            reason.contains("breaks the schema") && reason.contains(why),
            "{reason}"
        );
        let AiOutcome::Failed { output_tokens, .. } = outcome else {
            unreachable!()
        };
        assert_eq!(output_tokens, 120, "the tokens spent are still counted");
        assert_eq!(
            bodies(&server).await.len(),
            1,
            "a bad answer is not retried"
        );
    }
}

#[tokio::test]
async fn the_request_has_the_headers_the_forced_tool_and_no_personal_data() {
    let server = MockServer::start().await;
    answer(&server, reply(good_input()), 1).await;
    assert_used(&summarize(Some(&config(&server.uri())), &input()).await);
    let requests = server.received_requests().await.expect("recorded");
    let request = &requests[0];
    assert_eq!(request.url.path(), "/v1/messages");
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(header("x-api-key").as_deref(), Some(KEY));
    assert_eq!(header("anthropic-version").as_deref(), Some("2023-06-01"));
    assert_eq!(header("content-type").as_deref(), Some("application/json"));
    assert_eq!(header("authorization"), None);

    let body: Value = serde_json::from_slice(&request.body).expect("json");
    assert_eq!(body["model"], MODEL);
    assert_eq!(
        body["tool_choice"],
        json!({"type": "tool", "name": TOOL_NAME})
    );
    assert_eq!(body["tools"].as_array().map(Vec::len), Some(1));
    assert_eq!(body["tools"][0]["name"], TOOL_NAME);
    assert_eq!(body["tools"][0]["input_schema"], input_schema());
    assert!(
        body["system"]
            .as_str()
            .is_some_and(|s| s.contains(TOOL_NAME))
    );

    let raw = String::from_utf8_lossy(&request.body);
    for user in &USERS {
        for planted in [
            user.id,
            user.email,
            user.name,
            "Planted",
            "cus_PlantedX9f2",
            "@",
        ] {
            assert!(!raw.contains(planted), "{planted:?} was sent");
        }
    }
    let message: Value =
        serde_json::from_str(body["messages"][0]["content"].as_str().expect("text"))
            .expect("the user message is JSON");
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(
        keys(&message),
        ["anomalies", "insights", "kpis", "time_zone", "week"]
    );
    assert_eq!(
        keys(&message["kpis"][0]),
        [
            "change",
            "currency",
            "kpi",
            "label",
            "last_week",
            "this_week",
            "unit"
        ]
    );
    assert_eq!(message["week"], "2025-W47");
    assert_eq!(message["kpis"][0]["this_week"], 2.0);
    assert_eq!(message["kpis"][1]["currency"], "usd");
    assert_eq!(
        message["insights"][1],
        "Largest refund: [redacted] ([redacted], user [redacted])."
    );
}
