//! A fake Stripe on 127.0.0.1: list endpoints that filter by
//! `created[gte]`/`created[lt]`, paginate with `limit`/`starting_after` like
//! Stripe, and check the key and the pinned API version on every request.

use std::collections::HashMap;

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const KEY: &str = "sk_test_fake_key";

/// Serves one list endpoint from `objects` (each with "id" and "created").
pub struct ListEndpoint {
    objects: Vec<Value>,
}

fn stripe_error(status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .set_body_json(json!({"error": {"type": "invalid_request_error", "message": message}}))
}

impl Respond for ListEndpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let auth = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        if auth != Some(&format!("Bearer {KEY}")) {
            return stripe_error(401, "Invalid API Key provided");
        }
        if request.headers.get("stripe-version").is_none() {
            return stripe_error(400, "the fake requires a pinned Stripe-Version");
        }
        let q: HashMap<String, String> = request.url.query_pairs().into_owned().collect();
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

/// The five list endpoints, each serving `objects[resource]` (missing = empty).
pub async fn mount_lists(server: &MockServer, mut objects: HashMap<&str, Vec<Value>>) {
    for resource in [
        "payment_intents",
        "charges",
        "invoices",
        "subscriptions",
        "refunds",
    ] {
        Mock::given(method("GET"))
            .and(path(format!("/v1/{resource}")))
            .respond_with(ListEndpoint {
                objects: objects.remove(resource).unwrap_or_default(),
            })
            .mount(server)
            .await;
    }
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
