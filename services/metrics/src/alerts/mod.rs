//! Audit alerts: queued in `metrics.alert_outbox` with the run that raised
//! them, delivered from there by a background worker to a Slack incoming
//! webhook and to a GitHub issue per month (opened once, then updated).
//!
//! Delivery is retried with backoff (honouring `Retry-After`) until
//! `ALERT_MAX_ATTEMPTS`, then the row is parked as `dead` with the last
//! error. A delivered row is never sent again. The one window left is a crash
//! between the channel accepting an alert and the row being marked delivered:
//! GitHub is safe there (the issue for the month is found and updated, not
//! opened twice); a Slack incoming webhook has no idempotency key, so that
//! window can repeat one Slack message.

mod send;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use secrecy::SecretString;
use sqlx::PgPool;
use tokio::sync::Notify;

use crate::repo::alerts as repo;
use growth_runtime::Shutdown;

/// A GitHub repository to open audit issues in.
#[derive(Clone, Debug)]
pub struct GithubTarget {
    /// Token with `issues: write`.
    pub token: SecretString,
    /// `owner/name`.
    pub repository: String,
    /// API root, e.g. `https://api.github.com`.
    pub api_base: String,
}

/// Where alerts go and how delivery retries.
#[derive(Clone, Debug)]
pub struct AlertConfig {
    /// Slack incoming webhook URL (a secret: it is the credential).
    pub slack_webhook_url: Option<SecretString>,
    /// GitHub issues.
    pub github: Option<GithubTarget>,
    /// How often the worker looks for due alerts without being woken.
    pub poll_interval: Duration,
    /// First retry delay; doubles per attempt, capped at an hour.
    pub retry_base: Duration,
    /// Attempts before a row is parked as dead.
    pub max_attempts: i32,
}

impl AlertConfig {
    /// The configured channels.
    pub fn channels(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.slack_webhook_url.is_some() {
            out.push("slack");
        }
        if self.github.is_some() {
            out.push("github");
        }
        out
    }
}

/// Queue side: which channels to queue for, and how to wake the worker.
#[derive(Clone)]
pub struct AlertQueue {
    /// Channels to queue an alert for.
    pub channels: Vec<&'static str>,
    wake: Arc<Notify>,
}

impl AlertQueue {
    /// Wakes the worker (after a commit that queued alerts).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Starts the delivery worker; stops on shutdown.
pub fn spawn(pool: PgPool, config: AlertConfig, shutdown: Shutdown) -> anyhow::Result<AlertQueue> {
    crate::stripe::client::install_crypto_provider();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .user_agent(concat!("growth-metrics-svc/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let wake = Arc::new(Notify::new());
    let queue = AlertQueue {
        channels: config.channels(),
        wake: wake.clone(),
    };
    if queue.channels.is_empty() {
        return Ok(queue);
    }
    let config = Arc::new(config);
    tokio::spawn(async move {
        loop {
            if let Err(e) = deliver_due(&pool, &http, &config).await {
                tracing::warn!(error = %e, "alert delivery pass failed; will retry");
            }
            tokio::select! {
                _ = shutdown.wait() => return,
                _ = wake.notified() => {}
                _ = tokio::time::sleep(config.poll_interval) => {}
            }
        }
    });
    Ok(queue)
}

/// The wait before the next attempt after `attempts` failures.
fn backoff(config: &AlertConfig, attempts: i32, retry_after: Option<Duration>) -> Duration {
    growth_runtime::backoff::outbox_delay(config.retry_base, attempts, retry_after)
}

/// Delivers every due alert once; returns how many were delivered.
pub async fn deliver_due(
    pool: &PgPool,
    http: &reqwest::Client,
    config: &AlertConfig,
) -> Result<usize, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let due = repo::claim_due(&mut tx, 20).await?;
    let mut delivered = 0;
    for alert in due {
        match send::send(http, config, &alert).await {
            Ok(reference) => {
                repo::delivered(&mut tx, alert.alert_id, reference.as_deref()).await?;
                delivered += 1;
                tracing::info!(alert_id = alert.alert_id, channel = %alert.channel, month = %alert.month, "audit alert delivered");
            }
            Err(failure) => {
                let attempts = alert.attempts + 1;
                let retry_at = (attempts < config.max_attempts).then(|| {
                    let wait = backoff(config, attempts - 1, failure.retry_after);
                    Utc::now()
                        + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1))
                });
                tracing::warn!(alert_id = alert.alert_id, channel = %alert.channel, attempts, error = %failure.message, dead = retry_at.is_none(), "audit alert not delivered");
                repo::failed(&mut tx, alert.alert_id, &failure.message, retry_at).await?;
            }
        }
    }
    tx.commit().await?;
    Ok(delivered)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> AlertConfig {
        AlertConfig {
            slack_webhook_url: None,
            github: None,
            poll_interval: Duration::from_secs(5),
            retry_base: Duration::from_secs(30),
            max_attempts: 8,
        }
    }

    #[test]
    fn backoff_doubles_is_capped_and_respects_retry_after() {
        let c = config();
        assert_eq!(backoff(&c, 0, None), Duration::from_secs(30));
        assert_eq!(backoff(&c, 2, None), Duration::from_secs(120));
        assert_eq!(backoff(&c, 20, None), Duration::from_secs(3600));
        assert_eq!(
            backoff(&c, 0, Some(Duration::from_secs(90))),
            Duration::from_secs(90)
        );
    }
}
