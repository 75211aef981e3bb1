//! Settings of the lifecycle service beyond the shared ones; every one also
//! an environment variable.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use secrecy::SecretString;

use crate::domain::Tuning;
use crate::feed::FeedConfig;
use crate::kit::{DEFAULT_REQUESTS_PER_MINUTE, KitApi, KitConfig};
use crate::outbox::OutboxConfig;

/// The lifecycle service's own settings.
#[derive(Debug, Clone, Args)]
pub struct LifecycleArgs {
    /// The metrics service's gRPC address (host:port or http://host:port).
    #[arg(long, env = "METRICS_ADDR", default_value = "http://127.0.0.1:50051")]
    pub metrics_addr: String,

    /// Bearer token lifecycle presents to the metrics service.
    #[arg(long, env = "METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<SecretString>,

    /// Do not follow the metrics event feed (stages then change only by
    /// EvaluateUsers).
    #[arg(long, env = "FEED_DISABLED")]
    pub feed_disabled: bool,

    /// Longest wait (ms) for more feed events before a batch is processed.
    #[arg(long, env = "FEED_BATCH_WAIT_MS", default_value_t = 200)]
    pub feed_batch_wait_ms: u64,

    /// Kit API v4 key (sent as X-Kit-Api-Key). Takes precedence over a v3 key.
    #[arg(long, env = "KIT_API_KEY", hide_env_values = true)]
    pub kit_api_key: Option<SecretString>,

    /// Kit (ConvertKit) API v3 key, used when no v4 key is set.
    #[arg(long, env = "CONVERTKIT_API_KEY", hide_env_values = true)]
    pub convertkit_api_key: Option<SecretString>,

    /// Kit (ConvertKit) API v3 secret: needed to remove tags and to check
    /// tags after an unanswered request.
    #[arg(long, env = "CONVERTKIT_API_SECRET", hide_env_values = true)]
    pub convertkit_api_secret: Option<SecretString>,

    /// Kit API root (default: https://api.kit.com for v4, https://api.convertkit.com for v3).
    #[arg(long, env = "KIT_API_BASE")]
    pub kit_api_base: Option<String>,

    /// Kit requests allowed in any 60 s window (Kit allows 120 per key).
    #[arg(long, env = "KIT_REQUESTS_PER_MINUTE", default_value_t = DEFAULT_REQUESTS_PER_MINUTE)]
    pub kit_requests_per_minute: u32,

    /// Timeout (ms) of one Kit request.
    #[arg(long, env = "KIT_TIMEOUT_MS", default_value_t = 20_000)]
    pub kit_timeout_ms: u64,

    /// Do not deliver Kit actions from this replica (others, or a later
    /// start, deliver what it queues).
    #[arg(long, env = "OUTBOX_DISABLED")]
    pub outbox_disabled: bool,

    /// Delivery attempts before an outbox row is parked as dead.
    #[arg(long, env = "OUTBOX_MAX_ATTEMPTS", default_value_t = 8)]
    pub outbox_max_attempts: i32,

    /// First delivery retry delay (ms), doubling per attempt up to an hour.
    #[arg(long, env = "OUTBOX_RETRY_BASE_MS", default_value_t = 30_000)]
    pub outbox_retry_base_ms: u64,

    /// How often (ms) the outbox worker looks for due rows.
    #[arg(long, env = "OUTBOX_POLL_INTERVAL_MS", default_value_t = 5_000)]
    pub outbox_poll_interval_ms: u64,

    /// Scoring weights, half-life and stage thresholds (TOML; see
    /// deploy/lifecycle-tuning.toml). Default: the built-in values.
    #[arg(long, env = "LIFECYCLE_TUNING_FILE")]
    pub tuning_file: Option<PathBuf>,

    /// Decay half-life in days; overrides the tuning file's.
    #[arg(long, env = "LIFECYCLE_HALF_LIFE_DAYS")]
    pub half_life_days: Option<f64>,
}

impl LifecycleArgs {
    /// Defaults, calling metrics at `metrics_addr` with `metrics_token`
    /// (tests and the demo).
    pub fn for_metrics(metrics_addr: &str, metrics_token: Option<SecretString>) -> Self {
        Self {
            metrics_addr: metrics_addr.to_owned(),
            metrics_token,
            feed_disabled: false,
            feed_batch_wait_ms: 200,
            kit_api_key: None,
            convertkit_api_key: None,
            convertkit_api_secret: None,
            kit_api_base: None,
            kit_requests_per_minute: DEFAULT_REQUESTS_PER_MINUTE,
            kit_timeout_ms: 20_000,
            outbox_disabled: false,
            outbox_max_attempts: 8,
            outbox_retry_base_ms: 30_000,
            outbox_poll_interval_ms: 5_000,
            tuning_file: None,
            half_life_days: None,
        }
    }

    /// The tuning: the file's (or the default), then the half-life override.
    pub fn tuning(&self) -> anyhow::Result<Tuning> {
        let mut tuning = match &self.tuning_file {
            None => Tuning::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!("cannot read LIFECYCLE_TUNING_FILE {}", path.display())
                })?;
                Tuning::from_toml(&text)
                    .map_err(|e| anyhow::anyhow!("LIFECYCLE_TUNING_FILE {}: {e}", path.display()))?
            }
        };
        if let Some(days) = self.half_life_days {
            tuning = tuning
                .with_half_life(days)
                .map_err(|e| anyhow::anyhow!("LIFECYCLE_HALF_LIFE_DAYS: {e}"))?;
        }
        Ok(tuning)
    }

    /// The Kit client settings, if a key is configured.
    pub fn kit(&self) -> Option<KitConfig> {
        let mut config = match (&self.kit_api_key, &self.convertkit_api_key) {
            (Some(key), other) => {
                if other.is_some() {
                    tracing::warn!(
                        "both KIT_API_KEY and CONVERTKIT_API_KEY are set; using the v4 key"
                    );
                }
                KitConfig::v4(key.clone())
            }
            (None, Some(key)) => KitConfig::v3(key.clone(), self.convertkit_api_secret.clone()),
            (None, None) => return None,
        };
        if let Some(base) = &self.kit_api_base {
            config.api_base = base.clone();
        }
        config.requests_per_minute = self.kit_requests_per_minute;
        config.timeout = Duration::from_millis(self.kit_timeout_ms);
        Some(config)
    }

    /// The outbox worker's settings; the lease outlasts a Kit request.
    pub fn outbox(&self) -> OutboxConfig {
        let timeout = Duration::from_millis(self.kit_timeout_ms);
        OutboxConfig {
            max_attempts: self.outbox_max_attempts.max(1),
            retry_base: Duration::from_millis(self.outbox_retry_base_ms),
            poll_interval: Duration::from_millis(self.outbox_poll_interval_ms.max(10)),
            // Verify, upsert and the action: three requests at most, plus margin.
            lease: timeout * 4 + Duration::from_secs(5),
            ..OutboxConfig::default()
        }
    }

    /// The feed consumer's settings.
    pub fn feed(&self) -> FeedConfig {
        FeedConfig {
            batch_wait: Duration::from_millis(self.feed_batch_wait_ms),
            ..FeedConfig::default()
        }
    }

    /// Which Kit API is configured, for the start-up log.
    pub fn kit_api(&self) -> Option<KitApi> {
        self.kit().map(|c| c.api)
    }
}
