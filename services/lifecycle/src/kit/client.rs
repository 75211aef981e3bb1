//! The HTTP side: one client with a timeout, a user agent and a rate limiter
//! shared by every clone; `send` performs one attempt of an action.

use std::fmt;
use std::sync::Arc;

use governor::{DefaultDirectRateLimiter, RateLimiter};
use reqwest::Method;
use reqwest::header::{ACCEPT, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::config::{KitApi, KitConfig};
use super::failure::{self, KitError, KitFailure};
use super::request::{KitActionKind, KitRequest};

const USER_AGENT: &str = concat!("growth-lifecycle-svc/", env!("CARGO_PKG_VERSION"));

/// A Kit client; cheap to clone (clones share the connection pool and the
/// rate limiter).
#[derive(Clone)]
pub struct KitClient {
    http: reqwest::Client,
    api: KitApi,
    base: String,
    key: SecretString,
    /// v4: the key as a header value marked sensitive.
    key_header: Option<HeaderValue>,
    secret: Option<SecretString>,
    limiter: Arc<DefaultDirectRateLimiter>,
}

impl fmt::Debug for KitClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KitClient")
            .field("api", &self.api)
            .field("base", &self.base)
            .field("has_secret", &self.secret.is_some())
            .finish_non_exhaustive()
    }
}

/// One HTTP exchange with Kit.
pub(super) struct Call {
    pub method: Method,
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<Value>,
    pub idempotency_key: Option<String>,
    /// What it does, for messages and logs (e.g. `add tag`).
    pub what: &'static str,
}

impl Call {
    pub fn get(what: &'static str, path: String, query: Vec<(&'static str, String)>) -> Self {
        Self {
            method: Method::GET,
            path,
            query,
            body: None,
            idempotency_key: None,
            what,
        }
    }

    fn mutate(what: &'static str, method: Method, path: String, body: Value, key: String) -> Self {
        Self {
            method,
            path,
            query: Vec::new(),
            body: Some(body),
            idempotency_key: Some(key),
            what,
        }
    }
}

impl KitClient {
    /// A client for `config`.
    pub fn new(config: KitConfig) -> Result<Self, KitError> {
        growth_runtime::tls::install_crypto_provider();
        if config.api_key.expose_secret().is_empty() {
            return Err(KitError::Config("the api key is empty".into()));
        }
        let key_header = match config.api {
            KitApi::V3 => None,
            KitApi::V4 => {
                let mut value =
                    HeaderValue::from_str(config.api_key.expose_secret()).map_err(|_| {
                        KitError::Config("the api key is not a valid header value".into())
                    })?;
                value.set_sensitive(true);
                Some(value)
            }
        };
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(std::time::Duration::from_secs(10)))
            .user_agent(USER_AGENT)
            // A redirected POST would turn into a GET; Kit does not redirect.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| KitError::Http(e.without_url().to_string()))?;
        let limiter = Arc::new(RateLimiter::direct(config.quota()));
        Ok(Self {
            http,
            api: config.api,
            base: config.api_base.trim_end_matches('/').to_owned(),
            key: config.api_key,
            key_header,
            secret: config.api_secret,
            limiter,
        })
    }

    /// The API version this client speaks.
    pub fn api(&self) -> KitApi {
        self.api
    }

    /// One attempt of `req` (each HTTP request waits for the rate limiter
    /// first). v3 sends the custom fields in the action's body (for a
    /// remove-tag, in a field update before it); v4 upserts the subscriber
    /// with the fields first, as Kit requires the subscriber to exist (a
    /// remove-tag without fields skips it).
    #[tracing::instrument(skip_all, fields(kit.api = ?self.api, kit.action = req.kind.as_str(), kit.target = %req.target_id))]
    pub async fn send(&self, req: &KitRequest) -> Result<(), KitFailure> {
        req.validate()?;
        match self.api {
            KitApi::V3 => self.send_v3(req).await,
            KitApi::V4 => self.send_v4(req).await,
        }
    }

    async fn send_v3(&self, req: &KitRequest) -> Result<(), KitFailure> {
        let what = req.kind.as_str();
        let id = &req.target_id;
        let key = req.idempotency_key.clone();
        let call = match req.kind {
            KitActionKind::RemoveTag => {
                let secret = self.v3_secret(what)?;
                if !req.fields.is_empty() {
                    self.v3_update_fields(req)
                        .await
                        .map_err(KitFailure::before_action)?;
                }
                let body = json!({"api_secret": secret, "email": req.email});
                Call::mutate(
                    what,
                    Method::POST,
                    format!("/v3/tags/{id}/unsubscribe"),
                    body,
                    key,
                )
            }
            kind => {
                let collection = match kind {
                    KitActionKind::SubscribeSequence => "sequences",
                    KitActionKind::SubscribeForm => "forms",
                    _ => "tags",
                };
                let mut body = json!({"api_key": self.key.expose_secret(), "email": req.email});
                if !req.fields.is_empty() {
                    body["fields"] = json!(req.fields);
                }
                let path = format!("/v3/{collection}/{id}/subscribe");
                Call::mutate(what, Method::POST, path, body, key)
            }
        };
        self.exchange(call).await.map(drop)
    }

    /// `PUT /v3/subscribers/{id}` with the fields, when the email is known.
    async fn v3_update_fields(&self, req: &KitRequest) -> Result<(), KitFailure> {
        let Some(id) = self.v3_subscriber_id(&req.email).await? else {
            return Ok(());
        };
        let secret = self.v3_secret("update fields")?;
        let body = json!({"api_secret": secret, "fields": req.fields});
        let key = format!("{}/fields", req.idempotency_key);
        let call = Call::mutate(
            "update fields",
            Method::PUT,
            format!("/v3/subscribers/{id}"),
            body,
            key,
        );
        self.exchange(call).await.map(drop)
    }

    async fn send_v4(&self, req: &KitRequest) -> Result<(), KitFailure> {
        if req.kind != KitActionKind::RemoveTag || !req.fields.is_empty() {
            let mut body = json!({"email_address": req.email});
            if !req.fields.is_empty() {
                body["fields"] = json!(req.fields);
            }
            let key = format!("{}/subscriber", req.idempotency_key);
            let call = Call::mutate(
                "upsert subscriber",
                Method::POST,
                "/v4/subscribers".into(),
                body,
                key,
            );
            self.exchange(call)
                .await
                .map_err(KitFailure::before_action)?;
        }
        let id = &req.target_id;
        let (method, path) = match req.kind {
            KitActionKind::AddTag => (Method::POST, format!("/v4/tags/{id}/subscribers")),
            KitActionKind::RemoveTag => (Method::DELETE, format!("/v4/tags/{id}/subscribers")),
            KitActionKind::SubscribeSequence => {
                (Method::POST, format!("/v4/sequences/{id}/subscribers"))
            }
            KitActionKind::SubscribeForm => (Method::POST, format!("/v4/forms/{id}/subscribers")),
        };
        let body = json!({"email_address": req.email});
        let call = Call::mutate(
            req.kind.as_str(),
            method,
            path,
            body,
            req.idempotency_key.clone(),
        );
        self.exchange(call).await.map(drop)
    }

    /// The v3 secret, or a refusal naming `what` needs it.
    pub(super) fn v3_secret(&self, what: &str) -> Result<&str, KitFailure> {
        match &self.secret {
            Some(secret) if !secret.expose_secret().is_empty() => Ok(secret.expose_secret()),
            _ => Err(KitFailure::rejected(format!(
                "{what}: kit api v3 needs the api secret for this, and none is configured"
            ))),
        }
    }

    /// The v3 key, for query strings.
    pub(super) fn v3_key(&self) -> &str {
        self.key.expose_secret()
    }

    /// Sends `call` after the rate limiter admits it; the body of a 2xx answer.
    /// A 2xx to a mutation whose body cannot be read still counts as done.
    pub(super) async fn exchange(&self, call: Call) -> Result<String, KitFailure> {
        let what = format!("{} ({} {})", call.what, call.method, call.path);
        self.limiter.until_ready().await;
        let mut request = self
            .http
            .request(call.method.clone(), format!("{}{}", self.base, call.path))
            .header(ACCEPT, "application/json");
        if let Some(value) = &self.key_header {
            request = request.header("X-Kit-Api-Key", value.clone());
        }
        if !call.query.is_empty() {
            request = request.query(&call.query);
        }
        if let Some(key) = &call.idempotency_key {
            request = request.header("Idempotency-Key", key.as_str());
        }
        if let Some(body) = &call.body {
            request = request.json(body);
        }
        let result = match request.send().await {
            Err(e) => Err(failure::from_transport(&what, e)),
            Ok(response) => {
                let status = response.status();
                tracing::debug!(kit.request = %what, http.status = status.as_u16(), "kit answered");
                let headers = response.headers().clone();
                let body = response.text().await;
                match (status.is_success(), body) {
                    (true, Ok(body)) => Ok(body),
                    (true, Err(_)) if call.method != Method::GET => Ok(String::new()),
                    (true, Err(e)) => Err(failure::from_transport(&what, e)),
                    (false, body) => Err(failure::from_status(
                        &what,
                        status,
                        &headers,
                        &body.unwrap_or_default(),
                    )),
                }
            }
        };
        result.map_err(|f| {
            let secret = self.secret.as_ref().map_or("", |s| s.expose_secret());
            let f = f.redacted(&[self.key.expose_secret(), secret]);
            tracing::debug!(kit.request = %what, error = %f.message, "kit request failed");
            f
        })
    }
}
