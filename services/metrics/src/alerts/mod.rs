//! Audit alerts: queued in `metrics.alert_outbox` with the run that raised
//! them, delivered from there by a background worker to a Slack incoming
//! webhook and to a GitHub issue per month (opened once, then updated).
//!
//! Delivery goes through the runtime's outbox kit
//! ([`growth_runtime::outbox`]): one alert claimed at a time, sent outside
//! any transaction, retried with backoff and full jitter (honouring
//! `Retry-After`) until `ALERT_MAX_ATTEMPTS`, then parked as `dead` with the
//! last error. A delivered row is never sent again. The one window left is a
//! crash (or a timeout) between the channel accepting an alert and the row
//! being marked delivered: GitHub is safe there (the issue for the month is
//! found and updated, not opened twice); a Slack incoming webhook has no
//! idempotency key, so that window can repeat one Slack message.

mod send;

use std::sync::Arc;
use std::time::Duration;

use crate::repo::{DbError, Pool};
use growth_runtime::Shutdown;
use growth_runtime::outbox::{
    self, Deliver, Holder, OutboxPolicy, Outcome, Record, Round, SqlTable, deliver_round,
};
use secrecy::SecretString;
use tokio::sync::Notify;

use crate::repo::alerts::{self as repo, Alert};

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
    /// First retry delay; the ceiling doubles per attempt, capped at an
    /// hour, and the wait is drawn below it (full jitter).
    pub retry_base: Duration,
    /// Attempts before a row is parked as dead.
    pub max_attempts: i32,
    /// Timeout of one HTTP request (a GitHub alert makes two).
    pub timeout: Duration,
}

impl AlertConfig {
    /// The outbox kit's policy: one delivery may take two requests.
    pub fn policy(&self) -> OutboxPolicy {
        let send_timeout = self.timeout * 2 + Duration::from_secs(1);
        OutboxPolicy {
            poll_interval: self.poll_interval,
            ..OutboxPolicy::new(self.max_attempts, self.retry_base, send_timeout)
        }
    }

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

/// Starts the delivery worker (the runtime's outbox kit over
/// [`repo::OUTBOX`]); stops on shutdown.
pub fn spawn(pool: Pool, config: AlertConfig, shutdown: Shutdown) -> anyhow::Result<AlertQueue> {
    crate::stripe::client::install_crypto_provider();
    let http = client(&config)?;
    let wake = Arc::new(Notify::new());
    let queue = AlertQueue {
        channels: config.channels(),
        wake: wake.clone(),
    };
    if queue.channels.is_empty() {
        return Ok(queue);
    }
    let policy = config.policy();
    let channel = Channels {
        http,
        config: Arc::new(config),
    };
    outbox::spawn(pool, table(), channel, policy, wake, shutdown);
    Ok(queue)
}

/// The HTTP client of both channels, with the per-request timeout.
pub fn client(config: &AlertConfig) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(config.timeout)
        .user_agent(concat!("growth-metrics-svc/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

fn table() -> SqlTable<Alert> {
    SqlTable::new(repo::OUTBOX)
}

/// Delivers every due alert once, in a worker session of its own (the
/// background worker keeps one across rounds).
pub async fn deliver_due(
    pool: &Pool,
    http: &reqwest::Client,
    config: &AlertConfig,
) -> Result<Round, DbError> {
    let channel = Channels {
        http: http.clone(),
        config: Arc::new(config.clone()),
    };
    let mut holder = Holder::acquire(pool).await?;
    let round = deliver_round(&table(), &channel, &mut holder, &config.policy()).await;
    holder.release().await;
    round
}

/// Slack and GitHub, as one outbox channel.
struct Channels {
    http: reqwest::Client,
    config: Arc<AlertConfig>,
}

impl Deliver for Channels {
    type Row = Alert;

    async fn deliver(&self, alert: &Alert) -> Outcome {
        match send::send(&self.http, &self.config, alert).await {
            Ok(reference) => Outcome::Delivered { reference },
            Err(failure) => Outcome::Retry {
                error: failure.message,
                retry_after: failure.retry_after,
                unknown: failure.unknown,
            },
        }
    }

    fn recorded(&self, alert: &Alert, attempts: i32, record: &Record) {
        match record {
            Record::Delivered { .. } => {
                tracing::info!(alert_id = alert.alert_id, channel = %alert.channel, month = %alert.month, "audit alert delivered");
            }
            Record::Failed {
                error, retry_in, ..
            } => {
                tracing::warn!(alert_id = alert.alert_id, channel = %alert.channel, attempts, error = %error, dead = retry_in.is_none(), "audit alert not delivered");
            }
        }
    }
}
