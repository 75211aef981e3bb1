//! Sending one alert to its channel.

use std::time::Duration;

use secrecy::ExposeSecret;
use serde_json::json;

use super::AlertConfig;
use crate::repo::alerts::Alert;

/// A failed attempt: the error (never containing a credential), the
/// channel's `Retry-After`, if any, and whether the request may have reached
/// the channel without an answer.
pub struct Failure {
    pub message: String,
    pub retry_after: Option<Duration>,
    pub unknown: bool,
}

impl Failure {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retry_after: None,
            unknown: false,
        }
    }

    async fn from_response(what: &str, response: reqwest::Response) -> Self {
        let status = response.status();
        let retry_after = growth_proto::retry_after::parse(
            response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok()),
            chrono::Utc::now(),
        );
        let body: String = response
            .text()
            .await
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect();
        Self {
            message: format!("{what} answered {status}: {body}"),
            retry_after,
            unknown: false,
        }
    }
}

/// No answer: refused connections never reached the channel; anything else
/// (a timeout, a reset) may have.
fn transport(what: &str, e: reqwest::Error) -> Failure {
    Failure {
        unknown: !e.is_connect(),
        ..Failure::new(format!("{what} unreachable: {}", e.without_url()))
    }
}

/// Sends `alert`; `Ok` carries what the channel made of it.
pub async fn send(
    http: &reqwest::Client,
    config: &AlertConfig,
    alert: &Alert,
) -> Result<Option<String>, Failure> {
    match alert.channel.as_str() {
        "slack" => {
            let url = config
                .slack_webhook_url
                .as_ref()
                .ok_or_else(|| Failure::new("SLACK_WEBHOOK_URL is no longer configured"))?;
            let text: String = format!("*{}*\n{}", alert.title, alert.body)
                .chars()
                .take(3500)
                .collect();
            let response = http
                .post(url.expose_secret())
                .json(&json!({ "text": text }))
                .send()
                .await
                .map_err(|e| transport("Slack", e))?;
            if response.status().is_success() {
                Ok(None)
            } else {
                Err(Failure::from_response("Slack", response).await)
            }
        }
        "github" => github(http, config, alert).await.map(Some),
        other => Err(Failure::new(format!("unknown channel {other:?}"))),
    }
}

/// Opens the month's issue, or updates it when it is already open.
async fn github(
    http: &reqwest::Client,
    config: &AlertConfig,
    alert: &Alert,
) -> Result<String, Failure> {
    let target = config
        .github
        .as_ref()
        .ok_or_else(|| Failure::new("GITHUB_TOKEN / GITHUB_REPOSITORY are no longer configured"))?;
    let base = format!(
        "{}/repos/{}/issues",
        target.api_base.trim_end_matches('/'),
        target.repository
    );
    let request = |builder: reqwest::RequestBuilder| {
        builder
            .bearer_auth(target.token.expose_secret())
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
    };
    let response = request(http.get(&base))
        .query(&[
            ("state", "open"),
            ("labels", "revenue-audit"),
            ("per_page", "100"),
        ])
        .send()
        .await
        .map_err(|e| transport("GitHub", e))?;
    if !response.status().is_success() {
        return Err(Failure::from_response("GitHub", response).await);
    }
    let open: Vec<serde_json::Value> = response
        .json()
        .await
        .map_err(|e| Failure::new(format!("GitHub sent an unexpected issue list: {e}")))?;
    let existing = open
        .iter()
        .find(|issue| issue["title"].as_str() == Some(alert.title.as_str()))
        .and_then(|issue| issue["number"].as_i64());
    let body: String = alert.body.chars().take(60_000).collect();
    let response = match existing {
        Some(number) => {
            request(http.patch(format!("{base}/{number}")))
                .json(&json!({ "body": body }))
                .send()
                .await
        }
        None => {
            request(http.post(&base))
                .json(&json!({ "title": alert.title, "body": body, "labels": ["revenue-audit"] }))
                .send()
                .await
        }
    }
    .map_err(|e| transport("GitHub", e))?;
    if !response.status().is_success() {
        return Err(Failure::from_response("GitHub", response).await);
    }
    let issue: serde_json::Value = response.json().await.unwrap_or_default();
    Ok(issue["number"]
        .as_i64()
        .or(existing)
        .map(|n| format!("#{n}"))
        .unwrap_or_default())
}
