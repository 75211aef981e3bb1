//! A fake Stripe for benchmarks: list endpoints over generated objects with
//! Stripe's filtering and pagination, each page answered after a fixed
//! latency, on 127.0.0.1. Like Stripe, canceled subscriptions (every tenth)
//! are listed only with `status=all`, and with `--server-rate` it limits
//! requests with a token bucket (a burst of one second's worth), answering
//! 429 with Stripe's `rate_limit_error` when it is empty. `/v1/events`
//! lists three events per payment intent (created, succeeded, and its
//! charge's `charge.succeeded`), filtered like Stripe by `type` (a name or a
//! `x.*` wildcard) or `types[]`.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::token_bucket::Bucket;

/// The month the fake's objects are created in: November 2025, UTC.
pub const MONTH: (i64, i64) = (1_761_955_200, 1_764_547_200);

/// The fake Stripe and the client's limits, shared by the Stripe benchmarks.
#[derive(Debug, Clone, clap::Args)]
pub struct FakeStripeArgs {
    /// Objects per resource type in the month.
    #[arg(long, default_value_t = 20_000)]
    pub objects: usize,
    /// Latency the fake adds to every page, milliseconds.
    #[arg(long, default_value_t = 50)]
    pub latency_ms: u64,
    /// Client-side rate limit, requests per second (Stripe's documented live
    /// read limit is 100; the service's default for live keys is 80).
    #[arg(long, default_value_t = 80)]
    pub rate: u32,
    /// Time slices per resource type.
    #[arg(long, default_value_t = 8)]
    pub slices: u32,
    /// Requests per second the fake itself allows (429 beyond); none: no
    /// limit.
    #[arg(long)]
    pub server_rate: Option<f64>,
}

impl FakeStripeArgs {
    /// Starts the fake these arguments describe, over [`MONTH`].
    pub async fn start(&self) -> anyhow::Result<FakeStripe> {
        self.start_over(MONTH.0, MONTH.1).await
    }

    /// Starts the fake with its objects created over `[from, to)`.
    pub async fn start_over(&self, from: i64, to: i64) -> anyhow::Result<FakeStripe> {
        start(
            self.objects,
            from,
            to,
            Duration::from_millis(self.latency_ms),
            self.server_rate,
        )
        .await
    }

    /// The fastest the month can be listed: `pages` at the lower of the
    /// client's rate and the fake's.
    pub fn bound(&self, pages: u64) -> Duration {
        let rate = self
            .server_rate
            .map_or(f64::from(self.rate), |s| s.min(f64::from(self.rate)));
        Duration::from_secs_f64(pages as f64 / rate)
    }
}

/// One generated resource: (created, id, JSON), newest first.
type Objects = Vec<(i64, String, String)>;

struct Fake {
    resources: HashMap<&'static str, (Objects, HashMap<String, usize>)>,
    latency: Duration,
    pages: AtomicU64,
    limit: Option<Bucket>,
    refused: AtomicU64,
    /// Pages served per listing (see [`listing`]).
    listings: std::sync::Mutex<BTreeMap<String, Listing>>,
}

/// The pages served of one listing.
#[derive(Debug, Clone, Copy)]
pub struct Listing {
    /// Pages served so far.
    pub pages: u64,
    /// When the last of them was served.
    pub last: std::time::Instant,
}

/// A running fake; stops when dropped.
pub struct FakeStripe {
    /// `http://127.0.0.1:port`.
    pub url: String,
    state: Arc<Fake>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeStripe {
    /// Pages served so far.
    pub fn pages(&self) -> u64 {
        self.state.pages.load(Ordering::Relaxed)
    }

    /// Requests answered 429 so far.
    pub fn refused(&self) -> u64 {
        self.state.refused.load(Ordering::Relaxed)
    }

    /// Pages served so far per listing, e.g. `events type=charge.*` or
    /// `subscriptions status=all`.
    pub fn listings(&self) -> BTreeMap<String, Listing> {
        self.state
            .listings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// A listing's name: the resource and the filters that select what it
/// lists (`status`, `type`, `types[]`), not the range or the cursor.
fn listing(resource: &str, pairs: &[(String, String)]) -> String {
    let filters: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| matches!(k.as_str(), "status" | "type" | "types[]"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    match (resource, filters.is_empty()) {
        ("subscriptions", true) => "subscriptions (live: not canceled)".to_owned(),
        (_, true) => resource.to_owned(),
        (_, false) if filters.len() > 2 => format!("{resource} types[]=({} names)", filters.len()),
        (_, false) => format!("{resource} {}", filters.join("&")),
    }
}

impl Drop for FakeStripe {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn json_for(resource: &str, i: usize, id: &str, created: i64) -> String {
    match resource {
        "payment_intents" => format!(
            r#"{{"id":"{id}","object":"payment_intent","amount":{},"currency":"usd","status":"succeeded","created":{created},"latest_charge":null,"customer":"cus_{:06}"}}"#,
            1900 + (i % 3) * 3000,
            i % 5000
        ),
        "charges" => format!(
            r#"{{"id":"{id}","object":"charge","amount":4900,"amount_refunded":0,"currency":"usd","status":"succeeded","created":{created},"payment_intent":"pi_{i:08}"}}"#
        ),
        "invoices" => format!(
            r#"{{"id":"{id}","object":"invoice","amount_paid":4900,"currency":"usd","status":"paid","created":{created}}}"#
        ),
        "subscriptions" => format!(
            r#"{{"id":"{id}","object":"subscription","status":"{}","created":{created}}}"#,
            if i.is_multiple_of(10) {
                "canceled"
            } else {
                "active"
            }
        ),
        _ => format!(
            r#"{{"id":"{id}","object":"refund","amount":500,"currency":"usd","created":{created}}}"#
        ),
    }
}

/// The events of each payment intent.
const EVENT_KINDS: [&str; 3] = [
    "payment_intent.created",
    "payment_intent.succeeded",
    "charge.succeeded",
];

fn event_json(i: usize, k: usize, created: i64) -> String {
    let kind = EVENT_KINDS[k];
    let object = if kind.starts_with("charge.") {
        json_for("charges", i, &format!("ch_{i:08}"), created)
    } else {
        json_for("payment_intents", i, &format!("pi_{i:08}"), created)
    };
    format!(
        r#"{{"id":"evt_{i:08}_{k}","object":"event","type":"{kind}","created":{created},"data":{{"object":{object}}}}}"#
    )
}

/// Newest first, with each id's position.
fn indexed(mut objects: Objects) -> (Objects, HashMap<String, usize>) {
    objects.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.cmp(&a.1)));
    let positions = objects
        .iter()
        .enumerate()
        .map(|(i, o)| (o.1.clone(), i))
        .collect();
    (objects, positions)
}

const PREFIXES: [(&str, &str); 5] = [
    ("payment_intents", "pi"),
    ("charges", "ch"),
    ("invoices", "in"),
    ("subscriptions", "sub"),
    ("refunds", "re"),
];

/// Starts the fake with `per_type` objects of each resource type spread over
/// `[from, to)`, answering each page after `latency`, at most `server_rate`
/// requests a second if given.
pub async fn start(
    per_type: usize,
    from: i64,
    to: i64,
    latency: Duration,
    server_rate: Option<f64>,
) -> anyhow::Result<FakeStripe> {
    let mut resources = HashMap::new();
    let created_at = |i: usize| from + (to - from) * i as i64 / per_type.max(1) as i64;
    for (resource, prefix) in PREFIXES {
        let objects: Objects = (0..per_type)
            .map(|i| {
                let created = created_at(i);
                let id = format!("{prefix}_{i:08}");
                let json = json_for(resource, i, &id, created);
                (created, id, json)
            })
            .collect();
        resources.insert(resource, indexed(objects));
    }
    let events: Objects = (0..per_type)
        .flat_map(|i| {
            (0..EVENT_KINDS.len()).map(move |k| {
                let created = created_at(i);
                (
                    created,
                    format!("evt_{i:08}_{k}"),
                    event_json(i, k, created),
                )
            })
        })
        .collect();
    resources.insert("events", indexed(events));
    let state = Arc::new(Fake {
        resources,
        latency,
        pages: AtomicU64::new(0),
        limit: server_rate.map(Bucket::new),
        refused: AtomicU64::new(0),
        listings: std::sync::Mutex::default(),
    });
    let app = axum::Router::new()
        .route("/v1/{resource}", get(list))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(FakeStripe { url, state, task })
}

async fn list(
    State(fake): State<Arc<Fake>>,
    Path(resource): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some((objects, positions)) = fake.resources.get(resource.as_str()) else {
        return (StatusCode::NOT_FOUND, "unknown resource").into_response();
    };
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or("")).unwrap_or_default();
    let types: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "types[]")
        .map(|(_, v)| format!(r#""type":"{v}""#))
        .collect();
    let q: HashMap<String, String> = pairs.iter().cloned().collect();
    // `charge.*` matches `"type":"charge.` at the start of the type.
    let of_type = q.get("type").map(|t| {
        format!(
            r#""type":"{}"#,
            t.strip_suffix('*').unwrap_or(&format!("{t}\""))
        )
    });
    let number = |k: &str| q.get(k).and_then(|v| v.parse::<i64>().ok());
    let (Some(gte), Some(lt), Some(limit)) = (
        number("created[gte]"),
        number("created[lt]"),
        number("limit"),
    ) else {
        return (
            StatusCode::BAD_REQUEST,
            "created[gte], created[lt] and limit are required",
        )
            .into_response();
    };
    if fake.limit.as_ref().is_some_and(|b| !b.take()) {
        fake.refused.fetch_add(1, Ordering::Relaxed);
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("content-type", "application/json")],
            r#"{"error":{"type":"rate_limit_error","message":"Request rate limit exceeded."}}"#,
        )
            .into_response();
    }
    tokio::time::sleep(fake.latency).await;
    fake.pages.fetch_add(1, Ordering::Relaxed);
    let served = std::time::Instant::now();
    fake.listings
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .entry(listing(&resource, &pairs))
        .and_modify(|l| {
            l.pages += 1;
            l.last = served;
        })
        .or_insert(Listing {
            pages: 1,
            last: served,
        });
    let canceled_hidden = resource == "subscriptions"
        && !matches!(
            q.get("status").map(String::as_str),
            Some("all" | "canceled")
        );
    // Newest first: objects with created < lt start here, >= gte end there.
    let first_in_range = objects.partition_point(|o| o.0 >= lt);
    let end_of_range = objects.partition_point(|o| o.0 >= gte);
    let start = match q.get("starting_after").and_then(|id| positions.get(id)) {
        Some(&i) => (i + 1).max(first_in_range),
        None => first_in_range,
    };
    let shown = |o: &&(i64, String, String)| {
        (!canceled_hidden || !o.2.contains(r#""status":"canceled""#))
            && of_type.as_ref().is_none_or(|t| o.2.contains(t.as_str()))
            && (types.is_empty() || types.iter().any(|t| o.2.contains(t.as_str())))
    };
    let mut rest = objects[start.min(end_of_range)..end_of_range]
        .iter()
        .filter(shown);
    let data: Vec<&str> = rest
        .by_ref()
        .take(limit.clamp(1, 100) as usize)
        .map(|o| o.2.as_str())
        .collect();
    let has_more = rest.next().is_some();
    let body = format!(
        r#"{{"object":"list","url":"/v1/{resource}","has_more":{has_more},"data":[{}]}}"#,
        data.join(",")
    );
    ([("content-type", "application/json")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn events(fake: &FakeStripe, filter: &str) -> Vec<serde_json::Value> {
        let url = format!(
            "{}/v1/events?created%5Bgte%5D=0&created%5Blt%5D=300&limit=100&{filter}",
            fake.url
        );
        let body: serde_json::Value = reqwest::get(url)
            .await
            .expect("answers")
            .json()
            .await
            .expect("json");
        body["data"].as_array().cloned().unwrap_or_default()
    }

    #[tokio::test]
    async fn events_are_filtered_by_type_wildcard_or_exact_names() {
        growth_runtime::tls::install_crypto_provider();
        let fake = start(4, 0, 300, Duration::ZERO, None)
            .await
            .expect("starts");
        assert_eq!(events(&fake, "type=charge.*").await.len(), 4);
        assert_eq!(events(&fake, "type=payment_intent.*").await.len(), 8);
        assert_eq!(events(&fake, "type=payment_intent.created").await.len(), 4);
        let both = "types%5B%5D=payment_intent.succeeded&types%5B%5D=charge.succeeded";
        assert_eq!(events(&fake, both).await.len(), 8);
        let listed = events(&fake, "type=charge.*").await;
        assert_eq!(listed[0]["data"]["object"]["object"], "charge");
    }
}
