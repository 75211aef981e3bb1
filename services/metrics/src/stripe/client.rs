//! One HTTP client for Stripe: bearer auth, pinned `Stripe-Version`, a
//! per-request timeout, a client-side rate limit shared by every concurrent
//! request, and retries (see [`super::retry`]).

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

use super::config::{API_VERSION, StripeConfig};
use super::error::StripeError;
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
    limiter: Arc<DefaultDirectRateLimiter>,
    max_attempts: u32,
    pub(super) slices: u32,
    requests: Arc<AtomicU64>,
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
        let rate = NonZeroU32::new(config.rate().max(1)).unwrap_or(NonZeroU32::MIN);
        Ok(Self {
            http,
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            key: config.secret_key.clone(),
            // A burst of one: requests are spread evenly over each second.
            limiter: Arc::new(RateLimiter::direct(
                Quota::per_second(rate).allow_burst(NonZeroU32::MIN),
            )),
            max_attempts: config.max_attempts.max(1),
            slices: config.slices.max(1),
            requests: Arc::new(AtomicU64::new(0)),
        })
    }

    /// HTTP requests sent so far (retries included).
    pub fn requests_sent(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// One page of `T` created in `[from, to)` (Unix seconds).
    pub async fn list_page<T: Listed>(
        &self,
        from: i64,
        to: i64,
        starting_after: Option<&str>,
    ) -> Result<ListPage<T>, StripeError> {
        let mut query = vec![
            ("created[gte]", from.to_string()),
            ("created[lt]", to.to_string()),
            ("limit", PAGE_LIMIT.to_string()),
        ];
        if let Some(cursor) = starting_after {
            query.push(("starting_after", cursor.to_owned()));
        }
        self.get_json(T::PATH, &query).await
    }

    /// GET `path` with retries; decodes the JSON body.
    async fn get_json<R: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<R, StripeError> {
        let url = format!("{}{path}", self.base_url);
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.limiter.until_ready().await;
            self.requests.fetch_add(1, Ordering::Relaxed);
            let sent = self
                .http
                .get(&url)
                .bearer_auth(self.key.expose_secret())
                .header("Stripe-Version", API_VERSION)
                .query(query)
                .send()
                .await;
            let (failure, floor) = match sent {
                Err(e) => (format!("request failed: {}", e.without_url()), None),
                Ok(response) => {
                    let status = response.status().as_u16();
                    match decide(status, response.headers()) {
                        Decision::Done => {
                            let body = response.bytes().await.map_err(|e| StripeError::Decode {
                                resource: path.to_owned(),
                                detail: e.without_url().to_string(),
                            })?;
                            return serde_json::from_slice(&body).map_err(|e| {
                                StripeError::Decode {
                                    resource: path.to_owned(),
                                    detail: e.to_string(),
                                }
                            });
                        }
                        Decision::Fail => {
                            let message = error_message(response).await;
                            return Err(match status {
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
                            });
                        }
                        Decision::Retry(floor) => (
                            format!("HTTP {status}: {}", error_message(response).await),
                            floor,
                        ),
                    }
                }
            };
            if attempt >= self.max_attempts {
                return Err(StripeError::GaveUp {
                    attempts: attempt,
                    resource: path.to_owned(),
                    last: failure,
                });
            }
            let wait = delay(attempt, floor);
            tracing::warn!(resource = path, attempt, wait_ms = wait.as_millis() as u64, failure = %failure, "stripe request failed; retrying");
            tokio::time::sleep(wait).await;
        }
    }
}

/// Stripe's `error.message`, or the start of the body.
async fn error_message(response: reqwest::Response) -> String {
    let body = response.text().await.unwrap_or_default();
    serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| body.chars().take(200).collect())
}
