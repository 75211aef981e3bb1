//! `growthctl stripe events`: what the webhook recorded, filtered by type,
//! outcome and time, as a table and as JSON.

use metrics_svc::config::MetricsArgs;
use metrics_svc::webhook::signature::sign;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::*;

const SECRET: &str = "whsec_cli";

async fn deliver(services: &Services, event: serde_json::Value) {
    metrics_svc::stripe::client::install_crypto_provider();
    let body = event.to_string();
    let t = chrono::Utc::now().timestamp();
    let response = reqwest::Client::new()
        .post(format!(
            "http://{}/stripe/webhook",
            services.metrics.http_addr
        ))
        .header(
            "Stripe-Signature",
            format!("t={t},v1={}", sign(SECRET, t, body.as_bytes())),
        )
        .body(body)
        .send()
        .await
        .expect("the webhook answers");
    assert_eq!(response.status().as_u16(), 200);
}

#[sqlx::test(migrations = false)]
async fn stripe_events_lists_what_arrived_and_what_became_of_it(pool: PgPool) {
    let args = MetricsArgs {
        stripe_webhook_secret: growth_runtime::config::OptionalSecret::from(SECRET),
        ..MetricsArgs::default()
    };
    let services = spawn_services_with(pool, args).await;
    deliver(
        &services,
        json!({"id": "evt_1", "type": "invoice.paid", "created": 1_762_000_100,
        "api_version": "2024-06-20", "data": {"object": {"id": "in_1", "object": "invoice",
        "payment_intent": "pi_2", "charge": "ch_2", "paid": true}}}),
    )
    .await;
    deliver(&services, json!({"id": "evt_2", "type": "payment_intent.succeeded", "created": 1_762_000_200,
        "api_version": "2026-07-29.dahlia", "data": {"object": {"id": "pi_1", "object": "payment_intent",
        "amount": 4900, "amount_received": 4900, "currency": "usd", "status": "succeeded",
        "created": 1_762_000_000}}})).await;
    deliver(&services, json!({"id": "evt_3", "type": "customer.created", "created": 1_762_000_300,
        "api_version": "2026-07-29.dahlia", "data": {"object": {"id": "cus_1", "object": "customer"}}})).await;

    let table = stdout(&ctl(&services, "stripe events").await);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[1].contains("created") && lines[1].contains("outcome"),
        "{table}"
    );
    for (line, expected) in lines[3..6].iter().zip([
        ["customer.created", "not-handled", "2026-07-29.dahlia"],
        ["payment_intent.succeeded", "applied", "2026-07-29.dahlia"],
        ["invoice.paid", "waiting", "2024-06-20"],
    ]) {
        for cell in expected {
            assert!(line.contains(cell), "{cell} not in {line}\n{table}");
        }
    }

    let waiting = json(&ctl(&services, "--format json stripe events --outcome waiting").await);
    assert_eq!(waiting.as_array().map(Vec::len), Some(1), "{waiting}");
    assert_eq!(waiting[0]["payment"], "pi_2");
    assert_eq!(waiting[0]["created_at"], "2025-11-01T12:28:20Z");
    let prefixed = json(
        &ctl(
            &services,
            "--format json stripe events --type payment_intent.",
        )
        .await,
    );
    assert_eq!(prefixed[0]["event_id"], "evt_2");
    assert_eq!(prefixed.as_array().map(Vec::len), Some(1));
    let recent = json(
        &ctl(
            &services,
            "--format json stripe events --since 2025-11-01T12:30:00Z",
        )
        .await,
    );
    assert_eq!(recent.as_array().map(Vec::len), Some(2));
    assert_refused(&services, "stripe events --type Charge!", "type:").await;
}
