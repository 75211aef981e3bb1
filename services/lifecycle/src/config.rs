//! Settings of the lifecycle service beyond the shared ones; every one also
//! an environment variable.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use growth_runtime::config::{Integration, OptionalSecret};
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
    #[arg(
        long,
        env = "METRICS_TOKEN",
        hide_env_values = true,
        default_value = "",
        hide_default_value = true
    )]
    pub metrics_token: OptionalSecret,

    /// Do not follow the metrics event feed (stages then change only by
    /// EvaluateUsers).
    #[arg(long, env = "FEED_DISABLED")]
    pub feed_disabled: bool,

    /// Longest wait (ms) for more feed events before a batch is processed.
    #[arg(long, env = "FEED_BATCH_WAIT_MS", default_value_t = 200)]
    pub feed_batch_wait_ms: u64,

    /// Kit API v4 key (sent as X-Kit-Api-Key). Takes precedence over a v3 key.
    #[arg(
        long,
        env = "KIT_API_KEY",
        hide_env_values = true,
        default_value = "",
        hide_default_value = true
    )]
    pub kit_api_key: OptionalSecret,

    /// Kit (ConvertKit) API v3 key, used when no v4 key is set.
    #[arg(
        long,
        env = "CONVERTKIT_API_KEY",
        hide_env_values = true,
        default_value = "",
        hide_default_value = true
    )]
    pub convertkit_api_key: OptionalSecret,

    /// Kit (ConvertKit) API v3 secret: needed to remove tags and to check
    /// tags after an unanswered request.
    #[arg(
        long,
        env = "CONVERTKIT_API_SECRET",
        hide_env_values = true,
        default_value = "",
        hide_default_value = true
    )]
    pub convertkit_api_secret: OptionalSecret,

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
            metrics_token: metrics_token.into(),
            feed_disabled: false,
            feed_batch_wait_ms: 200,
            kit_api_key: OptionalSecret::default(),
            convertkit_api_key: OptionalSecret::default(),
            convertkit_api_secret: OptionalSecret::default(),
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
        let mut config = match (self.kit_api_key.get(), self.convertkit_api_key.get()) {
            (Some(key), other) => {
                if other.is_some() {
                    tracing::warn!(
                        "both KIT_API_KEY and CONVERTKIT_API_KEY are set; using the v4 key"
                    );
                }
                KitConfig::v4(key.clone())
            }
            (None, Some(key)) => {
                KitConfig::v3(key.clone(), self.convertkit_api_secret.get().cloned())
            }
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
            // Verify, upsert and the action: three requests at most.
            send_timeout: timeout * 3 + Duration::from_secs(1),
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

    /// What runs only when its secret is set (logged at start when off).
    pub fn integrations(&self) -> [Integration; 2] {
        [
            Integration {
                name: "Kit deliveries (kept as skipped_no_credentials)",
                needs: "KIT_API_KEY or CONVERTKIT_API_KEY",
                on: self.kit_api().is_some(),
            },
            Integration {
                name: "a token on calls to the metrics service",
                needs: "METRICS_TOKEN",
                on: self.metrics_token.is_set(),
            },
        ]
    }
}

#[cfg(test)]
mod secret_tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        lifecycle: LifecycleArgs,
    }

    /// The settings parsed from `flag` set to each blank value, and to a
    /// real one; environment variables go through the same parser.
    fn blank_and_set(flag: &str) -> Vec<(String, LifecycleArgs)> {
        ["", "   ", "\n", "value_1"]
            .into_iter()
            .map(|v| {
                let args = Cli::try_parse_from(["lifecycle-svc", &format!("--{flag}={v}")])
                    .expect("parses")
                    .lifecycle;
                (v.to_owned(), args)
            })
            .collect()
    }

    #[test]
    fn a_blank_metrics_token_sends_no_token() {
        for (v, args) in blank_and_set("metrics-token") {
            assert_eq!(args.metrics_token.get().is_none(), v != "value_1", "{v:?}");
            assert_eq!(args.integrations()[1].on, v == "value_1", "{v:?}");
        }
    }

    #[test]
    fn a_blank_kit_api_key_turns_kit_off() {
        for (v, args) in blank_and_set("kit-api-key") {
            assert_eq!(args.kit_api(), (v == "value_1").then_some(KitApi::V4));
            assert_eq!(args.integrations()[0].on, v == "value_1", "{v:?}");
        }
    }

    #[test]
    fn a_blank_convertkit_api_key_turns_kit_off() {
        for (v, args) in blank_and_set("convertkit-api-key") {
            assert_eq!(args.kit_api(), (v == "value_1").then_some(KitApi::V3));
        }
    }

    #[test]
    fn a_blank_convertkit_api_secret_is_no_secret() {
        for (v, mut args) in blank_and_set("convertkit-api-secret") {
            args.convertkit_api_key = OptionalSecret::from("v3_key");
            let kit = args.kit().expect("a v3 key is set");
            assert_eq!(kit.api_secret.is_some(), v == "value_1", "{v:?}");
        }
    }
}
