//! The Stripe client against the fake: pagination over many pages and all
//! five resource types and the handled event types, retries on 429 and 5xx,
//! refusals that are final.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use metrics_svc::stripe::types::Charge;
use metrics_svc::stripe::{StripeClient, StripeConfig, StripeError};
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::fake_stripe::{KEY, mount_lists, mount_lists_limited, objects};

const NOV_2025: (i64, i64) = (1_761_955_200, 1_764_547_200);

fn config(server: &MockServer) -> StripeConfig {
    StripeConfig {
        rate_per_second: Some(1000),
        max_attempts: 4,
        slices: 4,
        ..StripeConfig::new(SecretString::from(KEY.to_owned()), server.uri())
    }
}

fn month_objects() -> HashMap<&'static str, Vec<serde_json::Value>> {
    let (from, to) = NOV_2025;
    HashMap::from([
        (
            "payment_intents",
            objects(
                "pi",
                730,
                from,
                to,
                |_, id, created| json!({"id": id, "amount": 4900, "currency": "usd", "status": "succeeded", "created": created, "latest_charge": null}),
            ),
        ),
        (
            "charges",
            objects(
                "ch",
                410,
                from,
                to,
                |_, id, created| json!({"id": id, "amount": 1900, "amount_refunded": 0, "currency": "eur", "status": "succeeded", "created": created, "payment_intent": null}),
            ),
        ),
        (
            "invoices",
            objects(
                "in",
                250,
                from,
                to,
                |_, id, created| json!({"id": id, "amount_paid": 4900, "currency": "usd", "status": "paid", "created": created}),
            ),
        ),
        (
            "subscriptions",
            objects(
                "sub",
                120,
                from,
                to,
                // Every 6th canceled: listed only with status=all.
                |i, id, created| json!({"id": id, "status": if i % 6 == 0 { "canceled" } else { "active" }, "created": created}),
            ),
        ),
        (
            "refunds",
            objects(
                "re",
                33,
                from,
                to,
                |_, id, created| json!({"id": id, "amount": 500, "currency": "usd", "created": created}),
            ),
        ),
    ])
}

#[tokio::test]
async fn every_page_of_every_resource_type_is_fetched_once() {
    let server = MockServer::start().await;
    let mut all = month_objects();
    // Objects just outside the month must not be returned.
    let outside = |id: &str, created: i64| json!({"id": id, "amount": 1, "currency": "usd", "status": "succeeded", "created": created});
    all.entry("payment_intents").or_default().extend([
        outside("pi_october", NOV_2025.0 - 1),
        outside("pi_december", NOV_2025.1),
    ]);
    mount_lists(&server, all).await;
    let client = StripeClient::new(&config(&server)).expect("client");
    let period = client
        .fetch_period(NOV_2025.0, NOV_2025.1)
        .await
        .expect("fetch");

    let count = |ids: Vec<&str>| {
        let mut unique = ids.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), ids.len(), "no object twice");
        ids.len()
    };
    assert_eq!(
        count(
            period
                .payment_intents
                .iter()
                .map(|o| o.id.as_str())
                .collect()
        ),
        730
    );
    assert_eq!(
        count(period.charges.iter().map(|o| o.id.as_str()).collect()),
        410
    );
    assert_eq!(
        count(period.invoices.iter().map(|o| o.id.as_str()).collect()),
        250
    );
    assert_eq!(
        count(period.subscriptions.iter().map(|o| o.id.as_str()).collect()),
        120,
        "canceled subscriptions too"
    );
    assert_eq!(
        period
            .subscriptions
            .iter()
            .filter(|s| s.status == "canceled")
            .count(),
        20
    );
    assert_eq!(
        count(period.refunds.iter().map(|o| o.id.as_str()).collect()),
        33
    );
    // At least ceil(n/100) pages a type (pi 8, ch 5, in 3, sub 2, re 1), and
    // at most one short page more per part a listing was cut into (an empty
    // last page is not requested).
    let (requests, parts) = requests_and_parts(&server).await;
    assert_eq!(requests as u64, client.requests_sent());
    assert!(
        (19..=19 + parts).contains(&requests),
        "{requests} requests over {parts} parts"
    );
}

/// The requests `server` received, and the parts of listings they asked
/// for (each part is one `created` range, paginated by one cursor).
async fn requests_and_parts(server: &MockServer) -> (usize, usize) {
    let requests = server.received_requests().await.expect("recorded");
    let parts: HashSet<(String, String, String)> = requests
        .iter()
        .map(|r| {
            let q: HashMap<String, String> = r.url.query_pairs().into_owned().collect();
            let range = |k: &str| q.get(k).cloned().unwrap_or_default();
            (
                r.url.path().to_owned(),
                range("created[gte]"),
                range("created[lt]"),
            )
        })
        .collect();
    (requests.len(), parts.len())
}

#[tokio::test]
async fn a_listing_is_cut_into_parts_while_it_runs_and_lists_each_object_once() {
    let server = MockServer::start().await;
    let (from, to) = NOV_2025;
    // 1,000 charges in the month's last day, listed over the whole month.
    let charges = objects(
        "ch",
        1000,
        to - 86_400,
        to,
        |_, id, created| json!({"id": id, "amount": 1900, "amount_refunded": 0, "currency": "eur", "status": "succeeded", "created": created, "payment_intent": null}),
    );
    mount_lists(&server, HashMap::from([("charges", charges)])).await;
    let client = StripeClient::new(&config(&server)).expect("client");
    let listed: Vec<Charge> = client.list_all(from, to).await.expect("listed");
    let ids: HashSet<&str> = listed.iter().map(|c| c.id.as_str()).collect();
    assert_eq!((listed.len(), ids.len()), (1000, 1000));
    assert!(
        listed.windows(2).all(|w| w[0].created >= w[1].created),
        "newest first"
    );
    // The month was cut into parts listed side by side (a pace of 1,000/s
    // on a local fake has room for all 4 in flight)...
    let (requests, parts) = requests_and_parts(&server).await;
    assert!(parts >= 4, "{parts} parts");
    // ...with no page more than the 10 full ones and one short page a part.
    assert!(
        requests <= 10 + parts,
        "{requests} requests over {parts} parts"
    );
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_then_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/charges"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_json(
                    json!({"error": {"type": "rate_limit_error", "message": "Too many requests"}}),
                ),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_lists(&server, month_objects()).await;
    let client = StripeClient::new(&StripeConfig {
        slices: 1,
        ..config(&server)
    })
    .expect("client");
    let started = std::time::Instant::now();
    let charges = client
        .list_all::<metrics_svc::stripe::types::Charge>(NOV_2025.0, NOV_2025.1)
        .await
        .expect("succeeds after the 429");
    assert_eq!(charges.len(), 410);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );
    assert_eq!(client.requests_sent(), 6, "5 pages + 1 retried request");
}

#[tokio::test]
async fn a_500_storm_ends_in_a_clear_error_after_the_configured_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({"error": {"message": "An unknown error occurred"}})),
        )
        .expect(4)
        .mount(&server)
        .await;
    let client = StripeClient::new(&StripeConfig {
        slices: 1,
        ..config(&server)
    })
    .expect("client");
    let error = client
        .list_all::<metrics_svc::stripe::types::Refund>(NOV_2025.0, NOV_2025.1)
        .await
        .expect_err("gives up");
    assert!(
        matches!(error, StripeError::GaveUp { attempts: 4, .. }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "Stripe still failing after 4 attempts for /v1/refunds: HTTP 500: An unknown error occurred"
    );
}

#[tokio::test]
async fn a_refused_key_fails_at_once_and_is_never_echoed() {
    let server = MockServer::start().await;
    mount_lists(&server, HashMap::new()).await;
    let wrong = StripeConfig {
        secret_key: SecretString::from("sk_test_wrong_secret".to_owned()),
        ..config(&server)
    };
    let client = StripeClient::new(&wrong).expect("client");
    let error = client
        .fetch_period(NOV_2025.0, NOV_2025.1)
        .await
        .expect_err("401");
    assert!(matches!(error, StripeError::Unauthorized), "{error:?}");
    assert!(!format!("{error} {error:?}").contains("sk_test_wrong_secret"));
}

#[tokio::test]
async fn stripe_should_retry_false_is_final() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(503)
                .insert_header("Stripe-Should-Retry", "false")
                .set_body_json(json!({"error": {"message": "idempotency conflict"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = StripeClient::new(&StripeConfig {
        slices: 1,
        ..config(&server)
    })
    .expect("client");
    let error = client
        .list_all::<metrics_svc::stripe::types::Invoice>(NOV_2025.0, NOV_2025.1)
        .await
        .expect_err("final");
    assert_eq!(
        error.to_string(),
        "Stripe answered 503 for /v1/invoices: idempotency conflict"
    );
}

#[tokio::test]
async fn a_client_at_20_per_second_against_a_server_allowing_5_slows_down_and_completes() {
    let server = MockServer::start().await;
    let mut all = month_objects();
    // 2,000 more payment intents: 39 pages at the least, long enough for
    // the client to settle at the server's rate.
    all.entry("payment_intents").or_default().extend(objects(
        "pi_more",
        2000,
        NOV_2025.0,
        NOV_2025.1,
        |_, id, created| json!({"id": id, "amount": 4900, "currency": "usd", "status": "succeeded", "created": created, "latest_charge": null}),
    ));
    let limit = mount_lists_limited(&server, all, 5.0).await;
    let client = StripeClient::new(&StripeConfig {
        rate_per_second: Some(20),
        slices: 8,
        ..config(&server)
    })
    .expect("client");
    let started = std::time::Instant::now();
    let period = client
        .fetch_period(NOV_2025.0, NOV_2025.1)
        .await
        .expect("a 429 storm slows the client down; it does not end the fetch");
    let took = started.elapsed();
    assert_eq!(period.payment_intents.len(), 2730);
    assert_eq!(period.subscriptions.len(), 120);
    assert_eq!(period.refunds.len(), 33);
    let answered = limit.requests.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(answered, client.requests_sent());
    assert_eq!(
        limit.refused.load(std::sync::atomic::Ordering::Relaxed),
        client.rate_limited()
    );
    // Against a server allowing 5/s the pace soon has no room for more in
    // flight, so the listings are hardly cut: 39 pages at the least (pi 28,
    // ch 5, in 3, sub 2, re 1), and one short page more per part.
    let pages = answered - client.rate_limited();
    let (_, parts) = requests_and_parts(&server).await;
    assert!(
        (39..=39 + parts as u64).contains(&pages),
        "{pages} pages over {parts} parts"
    );
    eprintln!(
        "{} of {answered} requests answered 429; {took:?} against a bound of {:?}",
        client.rate_limited(),
        limit.bound(pages)
    );
    assert!(
        limit.refused_share() < 0.2,
        "{} of {answered} requests answered 429",
        client.rate_limited()
    );
    let bound = limit.bound(pages);
    assert!(
        took.as_secs_f64() < bound.as_secs_f64() * 1.5 + 1.0,
        "took {took:?}, the bound is {bound:?}"
    );
    assert!(
        client.rate_now() < 10.0,
        "the client slowed down: {}",
        client.rate_now()
    );
}

#[tokio::test]
async fn an_unreachable_stripe_is_named_with_its_address_and_every_request_waits_together() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let base = format!("http://{addr}");
    let client = StripeClient::new(&StripeConfig {
        rate_per_second: Some(1000),
        max_attempts: 4,
        slices: 8,
        ..StripeConfig::new(
            SecretString::from("sk_test_never_shown".to_owned()),
            base.clone(),
        )
    })
    .expect("client");
    let error = client
        .fetch_period(NOV_2025.0, NOV_2025.1)
        .await
        .expect_err("nothing listens");
    let text = error.to_string();
    assert!(
        matches!(error, StripeError::GaveUp { attempts: 4, .. }),
        "{error:?}"
    );
    assert!(
        text.contains(&format!("could not connect to {base}")) && text.contains("refused"),
        "{text}"
    );
    assert!(!text.contains("sk_test_never_shown"));
    // 40 paginators, but the attempts are shared: one probe per backoff step
    // (and at most the requests already on their way when the streak began).
    assert!(
        client.requests_sent() <= 8,
        "{} requests",
        client.requests_sent()
    );
}

#[tokio::test]
async fn handled_events_are_listed_by_type_filters_oldest_first_without_the_others() {
    let server = MockServer::start().await;
    let (from, _) = NOV_2025;
    let kinds = [
        "customer.created",
        "payment_intent.created",
        "charge.succeeded",
        "charge.refund.updated",
        "invoice.created",
        "invoice.paid",
        "customer.subscription.updated",
        "customer.subscription.trial_will_end",
        "charge.dispute.created",
    ];
    let events = kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| json!({"id": format!("evt_{i}"), "object": "event", "type": kind, "created": from + 10 * i as i64, "data": {"object": {"id": format!("obj_{i}")}}}))
        .collect();
    mount_lists(&server, HashMap::from([("events", events)])).await;
    let client = StripeClient::new(&config(&server)).expect("client");
    let listed = client
        .handled_events(NOV_2025.0, NOV_2025.1)
        .await
        .expect("lists");
    let kinds: Vec<&str> = listed.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "payment_intent.created",
            "charge.succeeded",
            "invoice.paid",
            "customer.subscription.updated",
            "charge.dispute.created"
        ]
    );
    assert_eq!(listed[1].object_id.as_deref(), Some("obj_2"));
    // Three filters (two wildcards, one list of exact names), one page each.
    assert_eq!(client.requests_sent(), 3);
}

#[tokio::test]
async fn the_fake_refuses_parameters_stripe_does_not_know() {
    let server = MockServer::start().await;
    mount_lists(&server, HashMap::new()).await;
    metrics_svc::stripe::client::install_crypto_provider();
    let response = reqwest::Client::new()
        .get(format!(
            "{}/v1/events?created[gte]=0&created[lt]=9&limit=10&kind=charge.*",
            server.uri()
        ))
        .bearer_auth(KEY)
        .header("Stripe-Version", "2024-06-20")
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status().as_u16(), 400);
}
