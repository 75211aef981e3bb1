//! A stateful fake Kit on 127.0.0.1 speaking either the v3 or the v4 API.
//!
//! It checks credentials (401 with Kit's error shape), request bodies (422
//! without an email) and, like Kit v4, that a subscriber exists before a tag,
//! sequence or form is applied by email (404 otherwise). It keeps, per email,
//! a subscriber id, tags, sequences, forms and custom fields; records every
//! request; and injects faults: answer with a status without applying
//! anything, apply an action and then hold the answer past any client timeout,
//! or be down (503 to everything).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use lifecycle_svc::kit::KitApi;
use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The API key the fake accepts (v3 `api_key`, v4 `X-Kit-Api-Key`).
pub const KEY: &str = "kit_fake_key_5d41402abc4b";
/// The v3 API secret the fake accepts.
pub const SECRET: &str = "kit_fake_secret_7d793037a076";
/// How long [`FakeKit::apply_then_hang`] holds an answer.
pub const HANG: Duration = Duration::from_secs(10);

/// One request as the fake saw it, with the status it answered.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: BTreeMap<String, String>,
    /// Lowercase names.
    pub headers: BTreeMap<String, String>,
    /// The JSON body, if it had one.
    pub body: Option<Value>,
    pub status: u16,
    pub at: Instant,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    pub fn idempotency_key(&self) -> Option<&str> {
        self.header("idempotency-key")
    }

    pub fn is_mutation(&self) -> bool {
        self.method != "GET"
    }
}

/// What the fake holds for one email address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subscriber {
    pub id: u64,
    pub email: String,
    pub tags: BTreeSet<String>,
    pub sequences: BTreeSet<String>,
    pub forms: BTreeSet<String>,
    pub fields: BTreeMap<String, String>,
}

/// A running fake; the server stops when it is dropped.
pub struct FakeKit {
    server: MockServer,
    state: Arc<Mutex<State>>,
}

impl FakeKit {
    /// A fake for `api` accepting `key` (and, v3, `secret`).
    pub async fn start(api: KitApi, key: &str, secret: Option<&str>) -> Self {
        let state = Arc::new(Mutex::new(State {
            api,
            key: key.to_owned(),
            secret: secret.map(str::to_owned),
            subscribers: BTreeMap::new(),
            next_id: 1001,
            requests: Vec::new(),
            failures: None,
            hangs: 0,
            hang_skip: 0,
            down: false,
            max_per_page: 1000,
        }));
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(Handler(state.clone()))
            .mount(&server)
            .await;
        Self { server, state }
    }

    /// A v3 fake with [`KEY`] and [`SECRET`].
    pub async fn v3() -> Self {
        Self::start(KitApi::V3, KEY, Some(SECRET)).await
    }

    /// A v4 fake with [`KEY`].
    pub async fn v4() -> Self {
        Self::start(KitApi::V4, KEY, None).await
    }

    /// The API root to configure the client with.
    pub fn base_url(&self) -> String {
        self.server.uri()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state().requests.clone()
    }

    /// Every non-GET request.
    pub fn mutations(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(Recorded::is_mutation)
            .collect()
    }

    /// Mutating requests that carried exactly this `Idempotency-Key`.
    pub fn mutations_with_key(&self, key: &str) -> usize {
        let mutations = self.mutations();
        mutations
            .iter()
            .filter(|r| r.idempotency_key() == Some(key))
            .count()
    }

    /// When each request arrived, in order.
    pub fn request_times(&self) -> Vec<Instant> {
        self.state().requests.iter().map(|r| r.at).collect()
    }

    pub fn subscriber(&self, email: &str) -> Option<Subscriber> {
        self.state().subscribers.get(&email.to_lowercase()).cloned()
    }

    pub fn tags_of(&self, email: &str) -> BTreeSet<String> {
        self.subscriber(email).map(|s| s.tags).unwrap_or_default()
    }

    pub fn sequences_of(&self, email: &str) -> BTreeSet<String> {
        self.subscriber(email)
            .map(|s| s.sequences)
            .unwrap_or_default()
    }

    pub fn forms_of(&self, email: &str) -> BTreeSet<String> {
        self.subscriber(email).map(|s| s.forms).unwrap_or_default()
    }

    pub fn fields_of(&self, email: &str) -> BTreeMap<String, String> {
        self.subscriber(email).map(|s| s.fields).unwrap_or_default()
    }

    /// Seeds a subscriber (as if created earlier); returns its id.
    pub fn add_subscriber(&self, email: &str) -> u64 {
        self.state().upsert(email).0
    }

    /// Seeds a tag on `email`, creating the subscriber if needed.
    pub fn tag(&self, email: &str, tag_id: &str) {
        let mut state = self.state();
        state.upsert(email);
        if let Some(s) = state.subscribers.get_mut(&email.to_lowercase()) {
            s.tags.insert(tag_id.to_owned());
        }
    }

    /// The next `n` requests (of any kind) are answered `status`, with
    /// `Retry-After: <seconds>` when given, and change nothing. A v4 429 has
    /// Kit's plain-text body `Retry later`.
    pub fn fail_next(&self, n: u32, status: u16, retry_after: Option<u64>) {
        self.state().failures = Some(Fault {
            remaining: n,
            status,
            retry_after,
            actions_only: false,
        });
    }

    /// Like [`Self::fail_next`], counting only actions (tag, sequence and form
    /// changes): subscriber upserts and lookups go through.
    pub fn fail_next_actions(&self, n: u32, status: u16, retry_after: Option<u64>) {
        self.state().failures = Some(Fault {
            remaining: n,
            status,
            retry_after,
            actions_only: true,
        });
    }

    /// The next `n` successful actions (tag, sequence or form changes; not
    /// subscriber upserts or lookups) take effect, then their answer is held
    /// for [`HANG`]: "sent, but no answer".
    pub fn apply_then_hang(&self, n: u32) {
        let mut state = self.state();
        state.hangs = n;
        state.hang_skip = 0;
    }

    /// Lets `skip` successful actions through, then the next one takes
    /// effect and its answer is held for [`HANG`].
    pub fn apply_then_hang_after(&self, skip: u32) {
        let mut state = self.state();
        state.hangs = 1;
        state.hang_skip = skip;
    }

    /// While down, every request is answered 503.
    pub fn set_down(&self, down: bool) {
        self.state().down = down;
    }

    /// The largest page of a v4 subscriber's tags (Kit: 1,000).
    pub fn set_max_per_page(&self, n: usize) {
        self.state().max_per_page = n.max(1);
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

struct Handler(Arc<Mutex<State>>);

impl Respond for Handler {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut recorded = Recorded {
            method: request.method.to_string(),
            path: request.url.path().to_owned(),
            query: request.url.query_pairs().into_owned().collect(),
            headers: request
                .headers
                .iter()
                .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                .collect(),
            body: serde_json::from_slice(&request.body).ok(),
            status: 0,
            at: Instant::now(),
        };
        let mut state = lock(&self.0);
        let reply = state.handle(&recorded);
        recorded.status = reply.status;
        state.requests.push(recorded);
        let mut template = ResponseTemplate::new(reply.status);
        if let Some(body) = reply.body {
            template = template.set_body_json(body);
        }
        if let Some(text) = reply.text {
            template = template.set_body_string(text);
        }
        if let Some(seconds) = reply.retry_after {
            template = template.insert_header("Retry-After", seconds.to_string().as_str());
        }
        if reply.hang {
            template = template.set_delay(HANG);
        }
        template
    }
}

struct Reply {
    status: u16,
    body: Option<Value>,
    text: Option<&'static str>,
    retry_after: Option<u64>,
    hang: bool,
}

impl Reply {
    fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            body: Some(body),
            text: None,
            retry_after: None,
            hang: false,
        }
    }

    fn empty(status: u16) -> Self {
        Self {
            status,
            body: None,
            text: None,
            retry_after: None,
            hang: false,
        }
    }
}

#[derive(Clone, Copy)]
struct Fault {
    remaining: u32,
    status: u16,
    retry_after: Option<u64>,
    actions_only: bool,
}

struct State {
    api: KitApi,
    key: String,
    secret: Option<String>,
    subscribers: BTreeMap<String, Subscriber>,
    next_id: u64,
    requests: Vec<Recorded>,
    failures: Option<Fault>,
    hangs: u32,
    hang_skip: u32,
    down: bool,
    max_per_page: usize,
}

impl State {
    fn handle(&mut self, req: &Recorded) -> Reply {
        if self.down {
            return self.error(503, "Service Unavailable");
        }
        let segments: Vec<&str> = req.path.trim_matches('/').split('/').collect();
        let action =
            req.is_mutation() && matches!(segments.get(1), Some(&("tags" | "sequences" | "forms")));
        if let Some(fault) = self.failures.take() {
            if fault.actions_only && !action {
                self.failures = Some(fault);
            } else {
                if fault.remaining > 1 {
                    self.failures = Some(Fault {
                        remaining: fault.remaining - 1,
                        ..fault
                    });
                }
                let mut reply = match (self.api, fault.status) {
                    (KitApi::V4, 429) => Reply {
                        text: Some("Retry later"),
                        ..Reply::empty(429)
                    },
                    (_, status) => self.error(status, "injected failure"),
                };
                reply.retry_after = fault.retry_after;
                return reply;
            }
        }
        let mut reply = match self.api {
            KitApi::V3 => self.v3(req, &segments),
            KitApi::V4 => self.v4(req, &segments),
        };
        if action && (200..300).contains(&reply.status) && self.hangs > 0 {
            if self.hang_skip > 0 {
                self.hang_skip -= 1;
            } else {
                self.hangs -= 1;
                reply.hang = true;
            }
        }
        reply
    }

    /// Kit's error body: v3 `{"error", "message"}`, v4 `{"errors": [...]}`.
    fn error(&self, status: u16, text: &str) -> Reply {
        let title = match status {
            401 => "Authorization Failed",
            404 => "Not Found",
            422 => "Unprocessable Entity",
            503 => "Service Unavailable",
            _ => "Error",
        };
        match self.api {
            KitApi::V3 => Reply::json(status, json!({"error": title, "message": text})),
            KitApi::V4 => Reply::json(status, json!({"errors": [text]})),
        }
    }
}

mod store;

use store::{is_id, page_info, subscriber_json, tags_json};
mod v3;
mod v4;
