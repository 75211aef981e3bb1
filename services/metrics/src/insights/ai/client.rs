//! The one call: `POST {api_base}/v1/messages` with the key in `x-api-key`,
//! retried as [`super::retry`] says, its answer read by [`super::answer`].
//! Every way it can go wrong ends in [`AiOutcome::Failed`] with a reason
//! that names the cause (the status and the API's message, the timeout,
//! the host that could not be reached) and never the key.

use std::time::Instant;

use reqwest::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use secrecy::ExposeSecret;

use super::answer::{self, Usage};
use super::config::{API_VERSION, AiConfig};
use super::input::{AiInput, REDACTED};
use super::outcome::{AiOutcome, NO_KEY};
use super::prompt::{PROMPT_VERSION, request_body};
use super::retry::{Decision, MAX_ATTEMPTS, MAX_RETRY_AFTER, TIME_BUDGET, decide, delay};

/// One summary of `input`: [`AiOutcome::Skipped`] without a configuration
/// (no key), else one Messages API call with its retries. Never fails: a
/// failure is an outcome, and the report carries on with its rule-based
/// summary.
pub async fn summarize(config: Option<&AiConfig>, input: &AiInput) -> AiOutcome {
    let Some(config) = config else {
        return AiOutcome::skipped(NO_KEY);
    };
    let outcome = match call(config, input).await {
        Ok(answer) => AiOutcome::Used {
            summary_markdown: answer.summary.summary_markdown,
            highlights: answer.summary.highlights,
            recommendations: answer.summary.recommendations,
            model: config.model.clone(),
            prompt_version: PROMPT_VERSION.to_owned(),
            input_tokens: answer.usage.input_tokens,
            output_tokens: answer.usage.output_tokens,
        },
        Err((reason, usage)) => AiOutcome::Failed {
            reason: redact(&reason, config),
            model: config.model.clone(),
            prompt_version: PROMPT_VERSION.to_owned(),
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
        },
    };
    match &outcome {
        AiOutcome::Failed { reason, model, .. } => {
            tracing::warn!(%model, %reason, "AI summary failed; the rule-based summary stands");
        }
        AiOutcome::Used {
            model,
            input_tokens,
            output_tokens,
            ..
        } => tracing::info!(%model, input_tokens, output_tokens, "AI summary written"),
        AiOutcome::Skipped { .. } => {}
    }
    outcome
}

/// What one attempt came to.
enum Attempt {
    /// A usable answer.
    Done(answer::Answer),
    /// A failure worth another attempt, with the `Retry-After` if any.
    Again(String, Option<std::time::Duration>),
    /// A failure another attempt would repeat.
    Stop(String, Usage),
}

/// The call with its retries.
async fn call(config: &AiConfig, input: &AiInput) -> Result<answer::Answer, (String, Usage)> {
    let none = |reason: String| (reason, Usage::default());
    let base = config.api_base.trim_end_matches('/');
    let url = reqwest::Url::parse(&format!("{base}/v1/messages"))
        .map_err(|e| none(format!("ANTHROPIC_API_BASE is not a usable URL: {e}")))?;
    let host = match (url.host_str(), url.port_or_known_default()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => return Err(none("ANTHROPIC_API_BASE has no host".to_owned())),
    };
    let mut key = HeaderValue::from_str(config.api_key.expose_secret())
        .map_err(|_| none("ANTHROPIC_API_KEY is not a valid header value".to_owned()))?;
    key.set_sensitive(true);
    growth_runtime::tls::install_crypto_provider();
    let http = reqwest::Client::builder()
        .timeout(config.timeout)
        .connect_timeout(config.timeout)
        .user_agent(concat!("growth-metrics-svc/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| none(format!("cannot build the HTTP client: {e}")))?;
    let body = request_body(&config.model, input).to_string();
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let sent = http
            .post(url.clone())
            .header("x-api-key", key.clone())
            .header("anthropic-version", API_VERSION)
            .header(CONTENT_TYPE, "application/json")
            .body(body.clone())
            .send()
            .await;
        let (failure, floor) = match once(sent, &host, config).await {
            Attempt::Done(answer) => return Ok(answer),
            Attempt::Stop(reason, usage) => return Err((reason, usage)),
            Attempt::Again(reason, floor) => (reason, floor),
        };
        if attempt >= MAX_ATTEMPTS {
            return Err(none(format!("gave up after {attempt} attempts: {failure}")));
        }
        if let Some(asked) = floor.filter(|f| *f > MAX_RETRY_AFTER) {
            return Err(none(format!(
                "{failure}; the API asked to wait {} s, longer than the {} s a report waits",
                asked.as_secs(),
                MAX_RETRY_AFTER.as_secs()
            )));
        }
        let wait = delay(attempt - 1, floor);
        if started.elapsed() + wait > TIME_BUDGET {
            return Err(none(format!(
                "gave up after {attempt} attempts ({} s budget): {failure}",
                TIME_BUDGET.as_secs()
            )));
        }
        tracing::warn!(
            attempt,
            wait_ms = wait.as_millis() as u64,
            failure = %redact(&failure, config),
            "Anthropic request failed; retrying"
        );
        tokio::time::sleep(wait).await;
    }
}

/// Reads one attempt's result.
async fn once(sent: reqwest::Result<reqwest::Response>, host: &str, config: &AiConfig) -> Attempt {
    let response = match sent {
        Ok(response) => response,
        Err(e) => return transport(e, host, config),
    };
    let status = response.status();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = match response.bytes().await {
        Ok(body) => body,
        Err(e) => return transport(e, host, config),
    };
    match decide(status.as_u16(), retry_after.as_deref()) {
        Decision::Done => match answer::read(&body) {
            Ok(answer) => Attempt::Done(answer),
            Err((reason, usage)) => Attempt::Stop(reason, usage),
        },
        Decision::Retry(floor) => Attempt::Again(api_error(status, &body), floor),
        Decision::Fail => Attempt::Stop(api_error(status, &body), Usage::default()),
    }
}

/// A request that got no HTTP answer. A timeout is not retried: the API may
/// have done (and billed) the work, and a second wait as long would hold the
/// report up; a refused or failed connection is.
fn transport(e: reqwest::Error, host: &str, config: &AiConfig) -> Attempt {
    // The URL is left out: the reason names the host, and only the host.
    let e = e.without_url();
    if e.is_timeout() {
        return Attempt::Stop(
            format!(
                "the Anthropic API at {host} did not answer within {} ms (ANTHROPIC_TIMEOUT_MS): timed out",
                config.timeout.as_millis()
            ),
            Usage::default(),
        );
    }
    let cause = root_cause(&e);
    let reason = if e.is_connect() {
        format!("cannot connect to the Anthropic API at {host}: {cause}")
    } else {
        format!("the request to the Anthropic API at {host} failed: {cause}")
    };
    Attempt::Again(reason, None)
}

/// The innermost error's message (e.g. "Connection refused (os error
/// 111)"), which says more than reqwest's "error sending request".
fn root_cause(e: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    if std::ptr::addr_eq(cause, e as &dyn std::error::Error) {
        e.to_string()
    } else {
        cause.to_string()
    }
}

/// "the Anthropic API answered 400 Bad Request (invalid_request_error):
/// <its message>", from the API's error body, or the start of the body.
fn api_error(status: reqwest::StatusCode, body: &[u8]) -> String {
    let parsed = serde_json::from_slice::<serde_json::Value>(body).ok();
    let kind = parsed
        .as_ref()
        .and_then(|v| v["error"]["type"].as_str())
        .map(|t| format!(" ({t})"))
        .unwrap_or_default();
    let message = parsed
        .as_ref()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    let message: String = message.trim().chars().take(300).collect();
    let status = match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    };
    format!("the Anthropic API answered {status}{kind}: {message}")
}

/// `text` with the key, should anything have echoed it, replaced.
fn redact(text: &str, config: &AiConfig) -> String {
    let key = config.api_key.expose_secret();
    if key.is_empty() {
        text.to_owned()
    } else {
        text.replace(key, REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_name_the_status_type_and_message() {
        let body = br#"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: too large"}}"#;
        assert_eq!(
            api_error(reqwest::StatusCode::BAD_REQUEST, body),
            "the Anthropic API answered 400 Bad Request (invalid_request_error): max_tokens: too large"
        );
        assert_eq!(
            api_error(
                reqwest::StatusCode::from_u16(529).expect("status"),
                b" overloaded "
            ),
            "the Anthropic API answered 529: overloaded"
        );
    }

    #[test]
    fn the_key_is_redacted_wherever_it_appears() {
        let config = AiConfig::new("sk-ant-secret".to_owned().into());
        assert_eq!(
            redact("invalid x-api-key sk-ant-secret, sk-ant-secret", &config),
            "invalid x-api-key [redacted], [redacted]"
        );
        assert!(!format!("{config:?}").contains("sk-ant-secret"));
    }
}
