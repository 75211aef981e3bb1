//! A fake Stripe on 127.0.0.1: list endpoints that filter by
//! `created[gte]`/`created[lt]`, paginate with `limit`/`starting_after` like
//! Stripe, and check the key and the pinned API version on every request.
//! Like Stripe, `/v1/subscriptions` lists canceled subscriptions only when
//! asked with `status=all` (or `status=canceled`). Optionally rate limited
//! like Stripe: a token bucket shared by every endpoint, a 429 with a
//! `rate_limit_error` when it is empty ([`mount_lists_limited`]).
//! `/v1/events` lists the same way and filters like Stripe by `type` (one
//! name, or a wildcard such as `charge.*`) or `types[]` (up to 20 exact
//! names, not with `type`); `/v1/events/{id}` retrieves one. Like Stripe,
//! every list refuses parameters it does not know.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const KEY: &str = "sk_test_fake_key";

/// Serves one list endpoint from `objects` (each with "id" and "created").
pub struct ListEndpoint {
    objects: Vec<Value>,
    /// Parameters it takes besides `created[…]`, `limit`, `starting_after`.
    params: &'static [&'static str],
    /// Canceled objects are listed only with `status=all|canceled`.
    live_by_default: bool,
    limit: Option<Arc<Limit>>,
}

/// The benchmark fake's token bucket (one second's worth of burst).
#[path = "../../../../clients/growth-dev/src/bench/token_bucket.rs"]
mod token_bucket;

/// A rate limit: a token bucket of `per_second` requests a second (a burst
/// of one second's worth), counting what it answered.
pub struct Limit {
    per_second: f64,
    bucket: token_bucket::Bucket,
    /// Requests answered (429s included).
    pub requests: AtomicU64,
    /// Requests answered 429.
    pub refused: AtomicU64,
}

impl Limit {
    /// A full bucket.
    pub fn new(per_second: f64) -> Arc<Self> {
        Arc::new(Self {
            per_second,
            bucket: token_bucket::Bucket::new(per_second),
            requests: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        })
    }

    /// Takes a token if there is one.
    fn take(&self) -> bool {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let granted = self.bucket.take();
        if !granted {
            self.refused.fetch_add(1, Ordering::Relaxed);
        }
        granted
    }

    /// The share of requests answered 429.
    pub fn refused_share(&self) -> f64 {
        let n = self.requests.load(Ordering::Relaxed).max(1);
        self.refused.load(Ordering::Relaxed) as f64 / n as f64
    }

    /// How long `requests` take at the limit, at the least (the first
    /// second's burst is free).
    pub fn bound(&self, requests: u64) -> Duration {
        Duration::from_secs_f64((requests as f64 - self.per_second).max(0.0) / self.per_second)
    }
}

fn stripe_error(status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .set_body_json(json!({"error": {"type": "invalid_request_error", "message": message}}))
}

/// Stripe's answer to a request without the key or the pinned version.
fn refused(request: &Request) -> Option<ResponseTemplate> {
    let auth = request
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    if auth != Some(&format!("Bearer {KEY}")) {
        return Some(stripe_error(401, "Invalid API Key provided"));
    }
    if request.headers.get("stripe-version").is_none() {
        return Some(stripe_error(
            400,
            "the fake requires a pinned Stripe-Version",
        ));
    }
    None
}

impl Respond for ListEndpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if let Some(refusal) = refused(request) {
            return refusal;
        }
        if let Some(limit) = &self.limit
            && !limit.take()
        {
            return ResponseTemplate::new(429).set_body_json(json!({"error": {
                "type": "rate_limit_error",
                "message": "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits."
            }}));
        }
        let pairs: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
        let known = ["created[gte]", "created[lt]", "limit", "starting_after"];
        if let Some((unknown, _)) = pairs
            .iter()
            .find(|(k, _)| !known.contains(&k.as_str()) && !self.params.contains(&k.as_str()))
        {
            return stripe_error(400, &format!("Received unknown parameter: {unknown}"));
        }
        let types: Vec<&str> = pairs
            .iter()
            .filter(|(k, _)| k == "types[]")
            .map(|(_, v)| v.as_str())
            .collect();
        let q: HashMap<String, String> = pairs.iter().cloned().collect();
        if types.len() > 20 {
            return stripe_error(400, "types: at most 20 event types");
        }
        if !types.is_empty() && q.contains_key("type") {
            return stripe_error(
                400,
                "You may only specify one of these parameters: type, types.",
            );
        }
        let of_type = |o: &Value| {
            let kind = o["type"].as_str().unwrap_or_default();
            let by_type = q.get("type").is_none_or(|t| match t.strip_suffix('*') {
                Some(prefix) => kind.starts_with(prefix),
                None => kind == t,
            });
            by_type && (types.is_empty() || types.contains(&kind))
        };
        let status = q.get("status").map(String::as_str);
        let shown = |o: &Value| {
            !self.live_by_default
                || o["status"] != "canceled"
                || matches!(status, Some("all" | "canceled"))
        };
        let number = |k: &str| q.get(k).and_then(|v| v.parse::<i64>().ok());
        let (Some(gte), Some(lt), Some(limit)) = (
            number("created[gte]"),
            number("created[lt]"),
            number("limit"),
        ) else {
            return stripe_error(
                400,
                "created[gte], created[lt] and limit are required by the fake",
            );
        };
        if !(1..=100).contains(&limit) {
            return stripe_error(400, "limit must be between 1 and 100");
        }
        let mut matching: Vec<&Value> = self
            .objects
            .iter()
            .filter(|o| (gte..lt).contains(&o["created"].as_i64().unwrap_or(-1)))
            .filter(|o| shown(o) && of_type(o))
            .collect();
        // Newest first, as Stripe lists.
        matching.sort_by(|a, b| {
            b["created"]
                .as_i64()
                .cmp(&a["created"].as_i64())
                .then_with(|| b["id"].as_str().cmp(&a["id"].as_str()))
        });
        let start = match q.get("starting_after") {
            None => 0,
            Some(after) => match matching
                .iter()
                .position(|o| o["id"].as_str() == Some(after))
            {
                Some(i) => i + 1,
                None => return stripe_error(400, "No such object for starting_after"),
            },
        };
        let end = (start + limit as usize).min(matching.len());
        ResponseTemplate::new(200).set_body_json(json!({
            "object": "list",
            "url": request.url.path(),
            "has_more": end < matching.len(),
            "data": matching[start..end],
        }))
    }
}

/// The five list endpoints and `/v1/events` (with `/v1/events/{id}`), each
/// serving `objects[resource]` (missing = empty).
pub async fn mount_lists(server: &MockServer, objects: HashMap<&str, Vec<Value>>) {
    mount(server, objects, None).await;
}

/// [`mount_lists`] behind one token bucket of `per_second` requests (a
/// burst of as many); returns it, to read its counts.
pub async fn mount_lists_limited(
    server: &MockServer,
    objects: HashMap<&str, Vec<Value>>,
    per_second: f64,
) -> Arc<Limit> {
    let limit = Limit::new(per_second);
    mount(server, objects, Some(limit.clone())).await;
    limit
}

async fn mount(
    server: &MockServer,
    mut objects: HashMap<&str, Vec<Value>>,
    limit: Option<Arc<Limit>>,
) {
    let events = objects.get("events").cloned().unwrap_or_default();
    Mock::given(method("GET"))
        .and(path_regex("^/v1/events/[^/]+$"))
        .respond_with(move |request: &Request| {
            if let Some(refusal) = refused(request) {
                return refusal;
            }
            let id = request.url.path().trim_start_matches("/v1/events/");
            match events.iter().find(|e| e["id"] == id) {
                Some(event) => ResponseTemplate::new(200).set_body_json(event),
                None => stripe_error(404, &format!("No such event: '{id}'")),
            }
        })
        .mount(server)
        .await;
    for resource in [
        "payment_intents",
        "charges",
        "invoices",
        "subscriptions",
        "refunds",
        "events",
    ] {
        Mock::given(method("GET"))
            .and(path(format!("/v1/{resource}")))
            .respond_with(ListEndpoint {
                objects: objects.remove(resource).unwrap_or_default(),
                params: match resource {
                    "subscriptions" => &["status"],
                    "events" => &["type", "types[]"],
                    _ => &[],
                },
                live_by_default: resource == "subscriptions",
                limit: limit.clone(),
            })
            .mount(server)
            .await;
    }
}

/// `GET /v1/{resource}/{id}` for each of `objects` (404 with Stripe's
/// `resource_missing` for any other id).
pub async fn mount_retrieve(server: &MockServer, resource: &str, objects: Vec<Value>) {
    for o in objects {
        let id = o["id"].as_str().expect("an id").to_owned();
        Mock::given(method("GET"))
            .and(path(format!("/v1/{resource}/{id}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(o))
            .mount(server)
            .await;
    }
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(format!("^/v1/{resource}/[A-Za-z0-9_]+$")))
        .respond_with(stripe_error(404, "No such object").set_body_json(json!({"error": {"type": "invalid_request_error", "code": "resource_missing", "message": "No such object"}})))
        .with_priority(10)
        .mount(server)
        .await;
}

/// `n` objects of a resource spread over `[from, to)`.
pub fn objects(
    prefix: &str,
    n: usize,
    from: i64,
    to: i64,
    make: impl Fn(usize, String, i64) -> Value,
) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let created = from + (to - from) * i as i64 / n as i64;
            make(i, format!("{prefix}_{i:06}"), created)
        })
        .collect()
}
