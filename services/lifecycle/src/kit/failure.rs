//! What a failed Kit call means for the outbox: refused, worth retrying, or
//! unknown (the request may have taken effect).

use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// The wait suggested after a 429 without `Retry-After` (Kit never sends one):
/// Kit's rate-limit page says "a wait of up to 60 seconds resets the limit".
pub const RATE_LIMIT_RESET: Duration = Duration::from_secs(60);

/// The client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum KitError {
    /// A setting is unusable.
    #[error("invalid kit configuration: {0}")]
    Config(String),
    /// reqwest refused the settings.
    #[error("could not build the kit http client: {0}")]
    Http(String),
}

/// How a failed call relates to its effect at Kit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// Kit answered and refused (a 4xx other than 408/409/429), or the request
    /// was invalid before sending: no effect; retrying will not help.
    Rejected,
    /// Definitely no effect (Kit answered 408/409/429/5xx, the connection was
    /// refused, or a preparatory request failed before the action was sent);
    /// retry, after at least `retry_after` when given. A 429 always carries a
    /// wait: `Retry-After` when present, else [`RATE_LIMIT_RESET`].
    Retryable {
        /// `Retry-After` (seconds or HTTP-date), or Kit's reset for a 429.
        retry_after: Option<Duration>,
    },
    /// No answer after the request was sent (timeout, connection reset): the
    /// effect may or may not be present; ask [`super::KitClient::verify`].
    Unknown,
}

/// A failed call: its kind, and a message naming the request, the HTTP status
/// and Kit's error text. Never contains the API key or secret.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct KitFailure {
    /// What the failure means for the effect.
    pub kind: FailureKind,
    /// For logs and the outbox row.
    pub message: String,
}

impl KitFailure {
    /// A refusal.
    pub fn rejected(message: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Rejected,
            message: message.into(),
        }
    }

    /// A failure without effect, worth retrying.
    pub fn retryable(retry_after: Option<Duration>, message: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Retryable { retry_after },
            message: message.into(),
        }
    }

    /// An outcome nobody knows.
    pub fn unknown(message: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Unknown,
            message: message.into(),
        }
    }

    /// The failure of a request sent before the action itself (the v4
    /// subscriber upsert, the v3 field update): the action was not sent, so
    /// an unknown outcome becomes retryable (those requests are upserts).
    pub(super) fn before_action(self) -> Self {
        match self.kind {
            FailureKind::Unknown => Self::retryable(
                None,
                format!("{}; the action itself was not sent", self.message),
            ),
            _ => self,
        }
    }

    /// The same failure with every occurrence of `secrets` masked.
    pub(super) fn redacted(mut self, secrets: &[&str]) -> Self {
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            self.message = self.message.replace(secret, "[redacted]");
        }
        self
    }
}

/// A non-2xx answer to `what` (e.g. `add tag (POST /v4/tags/1/subscribers)`).
pub(super) fn from_status(
    what: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
) -> KitFailure {
    let message = format!("{what}: kit answered {status}{}", kit_error_text(body));
    let retry_after = growth_proto::retry_after::parse(
        headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok()),
        Utc::now(),
    );
    match status.as_u16() {
        429 => KitFailure::retryable(retry_after.or(Some(RATE_LIMIT_RESET)), message),
        408 | 409 | 500..=599 => KitFailure::retryable(retry_after, message),
        _ => KitFailure::rejected(message),
    }
}

/// A request that got no answer. The URL is dropped from the error (a v3
/// query carries the key).
pub(super) fn from_transport(what: &str, error: reqwest::Error) -> KitFailure {
    let error = error.without_url();
    let mut detail = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    if error.is_connect() {
        KitFailure::retryable(
            None,
            format!("{what}: not sent, could not connect: {detail}"),
        )
    } else if error.is_builder() {
        KitFailure::rejected(format!("{what}: could not build the request: {detail}"))
    } else if error.is_timeout() {
        KitFailure::unknown(format!("{what}: no answer before the timeout: {detail}"))
    } else {
        KitFailure::unknown(format!("{what}: no answer: {detail}"))
    }
}

/// `": <Kit's error text>"`: v3 answers `{"error": "...", "message": "..."}`,
/// v4 `{"errors": ["..."]}`, a 429 plain `Retry later`.
fn kit_error_text(body: &str) -> String {
    let text = match serde_json::from_str::<serde_json::Value>(body) {
        Ok(v) => {
            let errors: Vec<&str> = v["errors"]
                .as_array()
                .map(|a| a.iter().filter_map(|e| e.as_str()).collect())
                .unwrap_or_default();
            let pair: Vec<&str> = [v["error"].as_str(), v["message"].as_str()]
                .into_iter()
                .flatten()
                .collect();
            if !errors.is_empty() {
                errors.join("; ")
            } else {
                pair.join(": ")
            }
        }
        Err(_) => body.trim().chars().take(200).collect(),
    };
    if text.is_empty() {
        text
    } else {
        format!(": {text}")
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn answer(status: u16, retry_after: Option<&'static str>, body: &str) -> KitFailure {
        let mut headers = HeaderMap::new();
        if let Some(v) = retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from_static(v));
        }
        let status = StatusCode::from_u16(status).expect("status");
        from_status(
            "add tag (POST /v4/tags/1/subscribers)",
            status,
            &headers,
            body,
        )
    }

    #[test]
    fn refusals_throttling_and_server_errors_are_told_apart() {
        assert_eq!(answer(401, None, "").kind, FailureKind::Rejected);
        assert_eq!(answer(404, None, "").kind, FailureKind::Rejected);
        assert_eq!(answer(422, None, "").kind, FailureKind::Rejected);
        let seven = Some(Duration::from_secs(7));
        for status in [408, 409, 500, 502, 503] {
            let kind = answer(status, None, "").kind;
            assert_eq!(
                kind,
                FailureKind::Retryable { retry_after: None },
                "{status}"
            );
        }
        let kind = answer(503, Some("7"), "").kind;
        assert_eq!(kind, FailureKind::Retryable { retry_after: seven });
        let kind = answer(429, Some("7"), "").kind;
        assert_eq!(kind, FailureKind::Retryable { retry_after: seven });
    }

    #[test]
    fn a_429_without_retry_after_waits_for_kits_window_to_reset() {
        let kind = answer(429, None, "Retry later").kind;
        let retry_after = Some(RATE_LIMIT_RESET);
        assert_eq!(kind, FailureKind::Retryable { retry_after });
    }

    #[test]
    fn messages_carry_the_status_and_kits_error_text() {
        let v3 = answer(
            401,
            None,
            r#"{"error":"Authorization Failed","message":"API Key not valid"}"#,
        );
        assert_eq!(
            v3.message,
            "add tag (POST /v4/tags/1/subscribers): kit answered 401 Unauthorized: \
             Authorization Failed: API Key not valid"
        );
        let v4 = answer(422, None, r#"{"errors":["Email address is invalid","x"]}"#);
        assert!(
            v4.message
                .ends_with("422 Unprocessable Entity: Email address is invalid; x")
        );
        assert!(
            answer(429, None, "Retry later")
                .message
                .ends_with(": Retry later")
        );
        assert!(
            answer(500, None, "")
                .message
                .ends_with("500 Internal Server Error")
        );
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_a_date() {
        let in_a_minute = (Utc::now() + chrono::Duration::seconds(60))
            .to_rfc2822()
            .replace("+0000", "GMT");
        let mut headers = HeaderMap::new();
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_str(&in_a_minute).expect("header"),
        );
        let status = StatusCode::from_u16(503).expect("status");
        let FailureKind::Retryable {
            retry_after: Some(wait),
        } = from_status("add tag", status, &headers, "").kind
        else {
            panic!("a 503 with Retry-After is retryable after a wait");
        };
        assert!(
            wait > Duration::from_secs(50) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
    }

    #[test]
    fn secrets_are_masked_and_preparatory_unknowns_become_retryable() {
        let failure = KitFailure::unknown("upsert: echoed key_123 back").redacted(&["key_123", ""]);
        assert_eq!(failure.message, "upsert: echoed [redacted] back");
        let failure = failure.before_action();
        assert_eq!(failure.kind, FailureKind::Retryable { retry_after: None });
        assert_eq!(
            KitFailure::rejected("x").before_action().kind,
            FailureKind::Rejected
        );
    }
}
