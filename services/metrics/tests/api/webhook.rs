//! The Stripe webhook over real HTTP: signatures, idempotency by event id,
//! out-of-order events.

use metrics_svc::config::MetricsArgs;
use metrics_svc::webhook::signature::sign;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::*;

pub const SECRET: &str = "whsec_test_endpoint_secret";

pub async fn app(pool: PgPool, secret: Option<&str>) -> TestApp {
    let args = MetricsArgs {
        stripe_webhook_secret: secret.unwrap_or_default().into(),
        ..MetricsArgs::default()
    };
    spawn_app_with(pool, args).await
}

/// Posts `event` signed with `secret` at `t` (default: now).
pub async fn post(app: &TestApp, event: &Value, secret: &str, t: Option<i64>) -> (u16, Value) {
    metrics_svc::stripe::client::install_crypto_provider();
    let body = event.to_string();
    let t = t.unwrap_or_else(|| chrono::Utc::now().timestamp());
    let header = format!("t={t},v1={}", sign(secret, t, body.as_bytes()));
    let response = reqwest::Client::new()
        .post(format!("http://{}/stripe/webhook", app.server.http_addr))
        .header("Stripe-Signature", header)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("webhook answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn intent_succeeded(event_id: &str, created: i64) -> Value {
    json!({"id": event_id, "type": "payment_intent.succeeded", "created": created, "data": {"object": {
        "id": "pi_1", "object": "payment_intent", "amount": 4900, "currency": "usd", "status": "succeeded",
        "latest_charge": "ch_1", "customer": "cus_1", "created": 1_762_000_000}}})
}

fn charge_refunded(event_id: &str, created: i64) -> Value {
    json!({"id": event_id, "type": "charge.refunded", "created": created, "data": {"object": {
        "id": "ch_1", "object": "charge", "amount": 4900, "amount_refunded": 4900, "currency": "usd",
        "status": "succeeded", "payment_intent": "pi_1", "created": 1_762_000_000}}})
}

async fn payment(app: &TestApp) -> (String, i64) {
    sqlx::query_as("SELECT status, refunded_minor FROM metrics.payments WHERE stripe_id = 'pi_1'")
        .fetch_one(&app.pool)
        .await
        .expect("payment row")
}

#[sqlx::test(migrations = false)]
async fn a_signed_event_is_applied_once_and_a_replay_changes_nothing(pool: PgPool) {
    let app = app(pool, Some(SECRET)).await;
    let event = intent_succeeded("evt_1", 1_762_000_100);
    let (status, body) = post(&app, &event, SECRET, None).await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("applied")));
    assert_eq!(payment(&app).await, ("succeeded".into(), 0));

    let (status, body) = post(&app, &event, SECRET, None).await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("duplicate")));
    assert_eq!(app.count("payments").await, 1);
    assert_eq!(app.count("stripe_events").await, 1);
}

#[sqlx::test(migrations = false)]
async fn bad_or_stale_signatures_get_400_and_write_nothing(pool: PgPool) {
    let app = app(pool, Some(SECRET)).await;
    let event = intent_succeeded("evt_1", 1_762_000_100);
    let (status, body) = post(&app, &event, "whsec_wrong", None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("no signature matches the payload"))
    );
    let an_hour_ago = chrono::Utc::now().timestamp() - 3600;
    let (status, body) = post(&app, &event, SECRET, Some(an_hour_ago)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("timestamp outside the 300 s tolerance"))
    );
    assert_eq!(app.count("payments").await, 0);
    assert_eq!(app.count("stripe_events").await, 0);
}

#[sqlx::test(migrations = false)]
async fn an_older_event_arriving_late_does_not_regress_a_newer_state(pool: PgPool) {
    let app = app(pool, Some(SECRET)).await;
    let (status, _) = post(&app, &charge_refunded("evt_2", 1_762_000_200), SECRET, None).await;
    assert_eq!(status, 200);
    assert_eq!(payment(&app).await, ("refunded".into(), 4900));

    let (status, body) = post(
        &app,
        &intent_succeeded("evt_1", 1_762_000_100),
        SECRET,
        None,
    )
    .await;
    // It adds what only the intent says (the customer), nothing else.
    assert_eq!((status, body["outcome"].as_str()), (200, Some("applied")));
    assert_eq!(
        payment(&app).await,
        ("refunded".into(), 4900),
        "the refund stays"
    );
    // Revenue cells subtract the refund at the time of the event that
    // reported it, once.
    let refunds: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT amount_minor, extract(epoch FROM refunded_at)::bigint FROM metrics.payment_refunds",
    )
    .fetch_all(&app.pool)
    .await
    .expect("refund rows");
    assert_eq!(refunds, [(4900, 1_762_000_200)]);
}

#[sqlx::test(migrations = false)]
async fn without_a_secret_the_endpoint_refuses_everything(pool: PgPool) {
    let app = app(pool, None).await;
    let (status, body) = post(&app, &intent_succeeded("evt_1", 1), SECRET, None).await;
    assert_eq!(status, 503);
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("STRIPE_WEBHOOK_SECRET")
    );
    assert_eq!(app.count("stripe_events").await, 0);
}

fn subscription_event(
    event_id: &str,
    kind: &str,
    created: i64,
    customer: &str,
    quantity: i64,
) -> Value {
    json!({"id": event_id, "type": kind, "created": created, "data": {"object": {
        "id": "sub_1", "object": "subscription", "customer": customer, "status": "active",
        "start_date": 1_762_000_000, "ended_at": null,
        "items": {"object": "list", "data": [{"id": "si_1", "quantity": quantity, "price": {
            "id": "price_pro", "nickname": "pro", "unit_amount": 4900, "currency": "usd",
            "recurring": {"interval": "month", "interval_count": 1}}}]}}}})
}

async fn mrr_of(app: &mut TestApp, user_id: &str) -> Vec<(i64, String)> {
    app.client
        .get_user_activity(growth_proto::metrics::v1::GetUserActivityRequest {
            user_ids: vec![user_id.into()],
            page: None,
        })
        .await
        .expect("activity")
        .into_inner()
        .users
        .remove(0)
        .mrr
        .into_iter()
        .map(|m| (m.amount_minor, m.currency))
        .collect()
}

#[sqlx::test(migrations = false)]
async fn a_subscription_update_changes_mrr_and_a_replay_is_a_duplicate(pool: PgPool) {
    let mut app = app(pool, Some(SECRET)).await;
    upsert(&mut app, vec![user("u1")]).await;
    // The customer is known through a payment of the user.
    app.client
        .import_payments(growth_proto::metrics::v1::ImportPaymentsRequest {
            payments: vec![growth_proto::metrics::v1::Payment {
                stripe_id: "pi_1".into(),
                stripe_customer: "cus_1".into(),
                user_id: "u1".into(),
                amount: Some(growth_proto::common::v1::Money {
                    amount_minor: 4900,
                    currency: "usd".into(),
                }),
                status: growth_proto::metrics::v1::PaymentStatus::Succeeded as i32,
                created_at: ts(day(2025, 11, 1)),
                ..Default::default()
            }],
        })
        .await
        .expect("payment imported");

    let created = subscription_event(
        "evt_s1",
        "customer.subscription.created",
        1_762_000_100,
        "cus_1",
        1,
    );
    let (status, body) = post(&app, &created, SECRET, None).await;
    assert_eq!(
        (status, body["outcome"].as_str()),
        (200, Some("applied")),
        "{body}"
    );
    assert_eq!(mrr_of(&mut app, "u1").await, [(4900, "usd".into())]);

    let updated = subscription_event(
        "evt_s2",
        "customer.subscription.updated",
        1_762_000_200,
        "cus_1",
        3,
    );
    let (status, body) = post(&app, &updated, SECRET, None).await;
    assert_eq!(
        (status, body["outcome"].as_str()),
        (200, Some("applied")),
        "{body}"
    );
    assert_eq!(mrr_of(&mut app, "u1").await, [(14_700, "usd".into())]);

    let (status, body) = post(&app, &updated, SECRET, None).await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("duplicate")));
    assert_eq!(app.count("subscription_states").await, 2);

    // An older event arriving late is stale and changes nothing.
    let late = subscription_event(
        "evt_s0",
        "customer.subscription.updated",
        1_762_000_150,
        "cus_1",
        2,
    );
    let (_, body) = post(&app, &late, SECRET, None).await;
    assert_eq!(body["outcome"].as_str(), Some("stale"));
    assert_eq!(mrr_of(&mut app, "u1").await, [(14_700, "usd".into())]);

    // A later event with the state already recorded changes nothing.
    let same = subscription_event(
        "evt_s3",
        "customer.subscription.updated",
        1_762_000_300,
        "cus_1",
        3,
    );
    let (status, body) = post(&app, &same, SECRET, None).await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("unchanged")));
    assert_eq!(app.count("subscription_states").await, 2);
    let stored: String =
        sqlx::query_scalar("SELECT outcome FROM metrics.stripe_events WHERE event_id = 'evt_s3'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored, "unchanged");
}

#[sqlx::test(migrations = false)]
async fn a_subscription_of_an_unknown_customer_is_recorded_as_such(pool: PgPool) {
    let app = app(pool, Some(SECRET)).await;
    let event = subscription_event(
        "evt_s1",
        "customer.subscription.created",
        1_762_000_100,
        "cus_nobody",
        1,
    );
    let (status, body) = post(&app, &event, SECRET, None).await;
    assert_eq!(
        (status, body["outcome"].as_str()),
        (200, Some("unknown_customer"))
    );
    assert_eq!(app.count("subscriptions").await, 0);
    let outcome: String =
        sqlx::query_scalar("SELECT outcome FROM metrics.stripe_events WHERE event_id = 'evt_s1'")
            .fetch_one(&app.pool)
            .await
            .expect("event recorded");
    assert_eq!(outcome, "unknown_customer");
}
