//! One HTTP client for Stripe: bearer auth, pinned `Stripe-Version`, a
//! per-request timeout, and a pace shared by every concurrent request
//! (see [`super::pace`]: the rate adapts to 429s, outages are waited out
//! together), with the waits of [`super::retry`].
//!
//! 429s are not failures: they slow the client down and the request is sent
//! again, for as long as [`StripeConfig::rate_limit_budget`] allows. Other
//! retryable failures (refused connections, timeouts, 5xx) count in the
//! pace's shared streak, and every request gives up once it reaches
//! `max_attempts`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

use super::config::{API_VERSION, StripeConfig};
use super::error::StripeError;
use super::pace::Pace;
use super::retry::{Decision, decide, delay};
use super::types::{ListPage, Listed};

/// Page size of every list call (Stripe's maximum).
pub const PAGE_LIMIT: u32 = 100;

/// A Stripe API client; cheap to clone.
#[derive(Clone)]
pub struct StripeClient {
    http: reqwest::Client,
    base_url: String,
    key: SecretString,
    pace: Arc<Pace>,
    max_attempts: u32,
    rate_limit_budget: Duration,
    timeout: Duration,
    pub(super) slices: u32,
    requests: Arc<AtomicU64>,
    rate_limited: Arc<AtomicU64>,
}

/// Why one attempt failed, to retry.
enum Failure {
    /// A 429.
    RateLimited(Option<Duration>),
    /// Anything else retryable: what happened, and a `Retry-After`.
    Other(String, Option<Duration>),
}

pub use growth_runtime::tls::install_crypto_provider;

impl StripeClient {
    /// A client for `config`.
    pub fn new(config: &StripeConfig) -> Result<Self, StripeError> {
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(std::time::Duration::from_secs(10)))
            .user_agent(concat!("growth-metrics-svc/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| StripeError::Setup(e.to_string()))?;
        Ok(Self {
            http,
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            key: config.secret_key.clone(),
            pace: Arc::new(Pace::new(config.rate())),
            max_attempts: config.max_attempts.max(1),
            rate_limit_budget: config.rate_limit_budget,
            timeout: config.timeout,
            slices: config.slices.max(1),
            requests: Arc::new(AtomicU64::new(0)),
            rate_limited: Arc::new(AtomicU64::new(0)),
        })
    }

    /// HTTP requests sent so far (retries included).
    pub fn requests_sent(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Of them, those answered 429.
    pub fn rate_limited(&self) -> u64 {
        self.rate_limited.load(Ordering::Relaxed)
    }

    /// Requests/s the client allows itself now.
    pub fn rate_now(&self) -> f64 {
        self.pace.rate()
    }

    /// Whether the pace has room for more requests in flight (see
    /// [`Pace::has_room`]).
    pub(super) fn pace_has_room(&self) -> bool {
        self.pace.has_room()
    }

    /// One page of `T` created in `[from, to)` (Unix seconds), with the
    /// query parameters `extra` besides `T`'s own filters (e.g. an event
    /// type).
    pub async fn list_page<T: Listed>(
        &self,
        from: i64,
        to: i64,
        starting_after: Option<&str>,
        extra: &[(&'static str, String)],
    ) -> Result<ListPage<T>, StripeError> {
        let mut query = vec![
            ("created[gte]", from.to_string()),
            ("created[lt]", to.to_string()),
            ("limit", PAGE_LIMIT.to_string()),
        ];
        if let Some(cursor) = starting_after {
            query.push(("starting_after", cursor.to_owned()));
        }
        query.extend(T::FILTERS.iter().map(|(k, v)| (*k, (*v).to_owned())));
        query.extend(extra.iter().cloned());
        self.get_json(T::PATH, &query).await
    }

    /// One object, e.g. `/v1/subscriptions/sub_123`, with the same pace
    /// and retries as the lists.
    pub async fn retrieve<R: DeserializeOwned>(
        &self,
        collection: &str,
        id: &str,
    ) -> Result<R, StripeError> {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(StripeError::Api {
                status: 400,
                resource: collection.to_owned(),
                message: format!("{id:?} is not a Stripe id"),
            });
        }
        self.get_json(&format!("{collection}/{id}"), &[]).await
    }

    /// GET `path` with retries; decodes the JSON body.
    async fn get_json<R: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<R, StripeError> {
        let url = format!("{}{path}", self.base_url);
        let mut first_429: Option<Instant> = None;
        loop {
            self.pace.turn().await;
            self.requests.fetch_add(1, Ordering::Relaxed);
            let sent = tokio::time::Instant::now();
            let failure = match self.send(&url, path, query).await? {
                Ok(body) => {
                    self.pace.succeeded();
                    return serde_json::from_slice(&body).map_err(|e| StripeError::Decode {
                        resource: path.to_owned(),
                        detail: e.to_string(),
                    });
                }
                Err(failure) => failure,
            };
            match failure {
                Failure::RateLimited(retry_after) => {
                    self.rate_limited.fetch_add(1, Ordering::Relaxed);
                    let since = *first_429.get_or_insert_with(Instant::now);
                    let rate = self.pace.rate_limited(sent, retry_after);
                    if since.elapsed() >= self.rate_limit_budget {
                        return Err(StripeError::RateLimited {
                            resource: path.to_owned(),
                            seconds: since.elapsed().as_secs(),
                            rate,
                        });
                    }
                    tracing::debug!(resource = path, rate, "stripe answered 429; slowing down");
                }
                Failure::Other(failure, retry_after) => {
                    let (streak, counted) = self.pace.failed(sent, |n| delay(n, retry_after));
                    if streak >= self.max_attempts {
                        return Err(StripeError::GaveUp {
                            attempts: streak,
                            resource: path.to_owned(),
                            last: failure,
                        });
                    }
                    // One warning per attempt of the streak, not one per
                    // request that saw the same failure.
                    if counted {
                        tracing::warn!(resource = path, attempt = streak, failure = %failure, "stripe request failed; every request waits, then retries");
                    } else {
                        tracing::debug!(resource = path, failure = %failure, "stripe request failed in the same outage");
                    }
                }
            }
        }
    }

    /// One attempt: the body of a 2xx, a retryable failure, or a final error.
    async fn send(
        &self,
        url: &str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Result<Vec<u8>, Failure>, StripeError> {
        let sent = self
            .http
            .get(url)
            .bearer_auth(self.key.expose_secret())
            .header("Stripe-Version", API_VERSION)
            .query(query)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) => {
                let why = transport(&e, &self.base_url, self.timeout);
                return Ok(Err(Failure::Other(why, None)));
            }
        };
        let status = response.status().as_u16();
        match decide(status, response.headers()) {
            Decision::Done => match response.bytes().await {
                Ok(body) => Ok(Ok(body.to_vec())),
                // The body broke off: as retryable as a refused connection.
                Err(e) => Ok(Err(Failure::Other(
                    transport(&e, &self.base_url, self.timeout),
                    None,
                ))),
            },
            Decision::Retry(retry_after) if status == 429 => {
                Ok(Err(Failure::RateLimited(retry_after)))
            }
            Decision::Retry(retry_after) => Ok(Err(Failure::Other(
                format!("HTTP {status}: {}", error_message(response).await),
                retry_after,
            ))),
            Decision::Fail => {
                let message = error_message(response).await;
                Err(match status {
                    401 => StripeError::Unauthorized,
                    403 => StripeError::Forbidden {
                        resource: path.to_owned(),
                        message,
                    },
                    _ => StripeError::Api {
                        status,
                        resource: path.to_owned(),
                        message,
                    },
                })
            }
        }
    }
}

/// A transport failure in words: what went wrong, where (the API root,
/// never the key, which is only ever in a header) and the innermost cause,
/// e.g. "could not connect to http://127.0.0.1:9: Connection refused (os
/// error 111)".
fn transport(e: &reqwest::Error, base_url: &str, timeout: Duration) -> String {
    let what = if e.is_timeout() {
        format!("no answer within {} s from", timeout.as_secs())
    } else if e.is_connect() {
        "could not connect to".to_owned()
    } else if e.is_body() || e.is_decode() {
        "the answer broke off from".to_owned()
    } else {
        "the request failed to".to_owned()
    };
    let mut cause: &dyn std::error::Error = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    format!("{what} {base_url}: {cause}")
}

/// Stripe's `error.message`, or the start of the body.
async fn error_message(response: reqwest::Response) -> String {
    let body = response.text().await.unwrap_or_default();
    serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| body.chars().take(200).collect())
}
