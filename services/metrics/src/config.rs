//! Settings of the metrics service beyond the shared ones.

use std::time::Duration;

use clap::Args;
use growth_runtime::config::{Integration, OptionalSecret};

use crate::alerts::{AlertConfig, GithubTarget};
use crate::audit::verdict::Thresholds;
use crate::insights::ai::AiConfig;
use crate::insights::ai::config::{DEFAULT_API_BASE, DEFAULT_MODEL};
use crate::stripe::StripeConfig;

/// Stripe and audit settings; every one also an environment variable.
#[derive(Debug, Clone, Args)]
pub struct MetricsArgs {
    /// Stripe secret (or restricted, read-only) key for the revenue audit.
    #[arg(
        long,
        env = "STRIPE_SECRET_KEY",
        hide_env_values = true,
        default_value = "",
        hide_default_value = true
    )]
    pub stripe_secret_key: OptionalSecret,

    /// Signing secret of the Stripe webhook endpoint (`whsec_…`).
    #[arg(
        long,
        env = "STRIPE_WEBHOOK_SECRET",
        hide_env_values = true,
        default_value = "",
        hide_default_value = true
    )]
    pub stripe_webhook_secret: OptionalSecret,

    /// Stripe API root (tests point it at a local fake).
    #[arg(
        long,
        env = "STRIPE_API_BASE",
        default_value = "https://api.stripe.com"
    )]
    pub stripe_api_base: String,

    /// Stripe requests per second (default: 80 for live keys, 20 for test keys).
    #[arg(long, env = "STRIPE_RATE_LIMIT")]
    pub stripe_rate_limit: Option<u32>,

    /// The most pages of one Stripe listing in flight at once (a listing is
    /// cut into time ranges while it runs, while the rate limit has room).
    #[arg(long, env = "STRIPE_TIME_SLICES", default_value_t = 8)]
    pub stripe_time_slices: u32,

    /// Slack incoming webhook for audit alerts (WARNING and FAIL).
    #[arg(
        long,
        env = "SLACK_WEBHOOK_URL",
        hide_env_values = true,
        default_value = "",
        hide_default_value = true
    )]
    pub slack_webhook_url: OptionalSecret,

    /// GitHub token for audit issues (needs issues: write).
    #[arg(
        long,
        env = "GITHUB_TOKEN",
        hide_env_values = true,
        default_value = "",
        hide_default_value = true
    )]
    pub github_token: OptionalSecret,

    /// GitHub repository for audit issues, owner/name.
    #[arg(long, env = "GITHUB_REPOSITORY")]
    pub github_repository: Option<String>,

    /// GitHub API root.
    #[arg(
        long,
        env = "GITHUB_API_BASE",
        default_value = "https://api.github.com"
    )]
    pub github_api_base: String,

    /// How often (ms) the alert worker looks for due alerts.
    #[arg(long, env = "ALERT_POLL_INTERVAL_MS", default_value_t = 5000)]
    pub alert_poll_interval_ms: u64,

    /// First alert retry delay (ms): the ceiling doubles per attempt up to an
    /// hour, the wait is drawn below it (full jitter).
    #[arg(long, env = "ALERT_RETRY_BASE_MS", default_value_t = 30_000)]
    pub alert_retry_base_ms: u64,

    /// Delivery attempts before an alert is parked as dead.
    #[arg(long, env = "ALERT_MAX_ATTEMPTS", default_value_t = 10)]
    pub alert_max_attempts: i32,

    /// Timeout (ms) of one Slack or GitHub request; an alert that gets no
    /// answer in time is retried.
    #[arg(long, env = "ALERT_TIMEOUT_MS", default_value_t = 15_000)]
    pub alert_timeout_ms: u64,

    /// Critical findings that make an audit FAIL.
    #[arg(long, env = "AUDIT_FAIL_CRITICAL_FINDINGS", default_value_t = 1)]
    pub audit_fail_critical_findings: usize,

    /// Relative net-revenue difference in one currency that makes an audit FAIL.
    #[arg(long, env = "AUDIT_FAIL_NET_RATIO", default_value_t = 0.005)]
    pub audit_fail_net_ratio: f64,

    /// The audit's entitlement-drift and stale-money settings.
    #[command(flatten)]
    pub drift: crate::audit::settings::DriftArgs,

    /// Time zone (IANA name) cohorts and retention periods are cut in.
    /// Changing it rebuilds the activity rollup at the next start.
    #[arg(long, env = "REPORTING_TIME_ZONE", default_value = "UTC")]
    pub reporting_time_zone: String,

    /// Event names that count as activity for retention, comma-separated;
    /// empty = every event. Changing it rebuilds the rollup at the next start.
    #[arg(long, env = "ACTIVITY_EVENTS", value_delimiter = ',')]
    pub activity_events: Vec<String>,

    /// The lifecycle service's gRPC address (host:port or http://host:port),
    /// for the weekly report's stage distribution; empty: not asked (the
    /// report says so).
    #[arg(long, env = "LIFECYCLE_ADDR", default_value = "")]
    pub lifecycle_addr: String,

    /// Bearer token metrics presents to the lifecycle service.
    #[arg(
        long,
        env = "LIFECYCLE_TOKEN",
        hide_env_values = true,
        default_value = "",
        hide_default_value = true
    )]
    pub lifecycle_token: OptionalSecret,

    /// Anthropic API key for the weekly report's AI summary; unset = the
    /// rule-based summary only.
    #[arg(
        long,
        env = "ANTHROPIC_API_KEY",
        hide_env_values = true,
        default_value = "",
        hide_default_value = true
    )]
    pub anthropic_api_key: OptionalSecret,

    /// Anthropic API root (tests point it at a local fake).
    #[arg(long, env = "ANTHROPIC_API_BASE", default_value = DEFAULT_API_BASE)]
    pub anthropic_api_base: String,

    /// The model that writes the AI summary.
    #[arg(long, env = "ANTHROPIC_MODEL", default_value = DEFAULT_MODEL)]
    pub anthropic_model: String,

    /// Timeout (ms) of one Anthropic request; a timed-out summary is not
    /// retried and the report keeps its rule-based summary.
    #[arg(long, env = "ANTHROPIC_TIMEOUT_MS", default_value_t = 30_000)]
    pub anthropic_timeout_ms: u64,

    /// Tokens people sign in to the dashboard (`/dashboard`) with,
    /// comma-separated; apart from the RPC tokens so that people and
    /// services are revoked separately. Unset: the dashboard is off.
    #[arg(
        long,
        env = "DASHBOARD_TOKENS",
        hide_env_values = true,
        default_value = "",
        hide_default_value = true
    )]
    pub dashboard_tokens: OptionalSecret,

    /// Hours a dashboard sign-in lasts.
    #[arg(long, env = "DASHBOARD_SESSION_HOURS", default_value_t = 12)]
    pub dashboard_session_hours: u32,

    /// Leave the `Secure` attribute off the dashboard's session cookie, for
    /// plain HTTP on an address other than localhost (browsers keep Secure
    /// cookies of http://localhost and http://127.0.0.1).
    #[arg(long, env = "DASHBOARD_INSECURE_COOKIE", default_value_t = false)]
    pub dashboard_insecure_cookie: bool,

    /// Seconds the overview page shows its slow reads (revenue, active
    /// users, the trial funnel) before reading them again; 0 reads them on
    /// every load.
    #[arg(long, env = "DASHBOARD_REMEMBER_SECONDS", default_value_t = 60)]
    pub dashboard_remember_seconds: u32,
}

impl Default for MetricsArgs {
    fn default() -> Self {
        Self {
            stripe_secret_key: OptionalSecret::default(),
            stripe_webhook_secret: OptionalSecret::default(),
            stripe_api_base: "https://api.stripe.com".to_owned(),
            stripe_rate_limit: None,
            stripe_time_slices: 8,
            slack_webhook_url: OptionalSecret::default(),
            github_token: OptionalSecret::default(),
            github_repository: None,
            github_api_base: "https://api.github.com".to_owned(),
            alert_poll_interval_ms: 5000,
            alert_retry_base_ms: 30_000,
            alert_max_attempts: 10,
            alert_timeout_ms: 15_000,
            audit_fail_critical_findings: 1,
            audit_fail_net_ratio: 0.005,
            drift: crate::audit::settings::DriftArgs::default(),
            reporting_time_zone: "UTC".to_owned(),
            activity_events: Vec::new(),
            lifecycle_addr: String::new(),
            lifecycle_token: OptionalSecret::default(),
            anthropic_api_key: OptionalSecret::default(),
            anthropic_api_base: DEFAULT_API_BASE.to_owned(),
            anthropic_model: DEFAULT_MODEL.to_owned(),
            anthropic_timeout_ms: 30_000,
            dashboard_tokens: OptionalSecret::default(),
            dashboard_session_hours: 12,
            dashboard_insecure_cookie: false,
            dashboard_remember_seconds: 60,
        }
    }
}

impl MetricsArgs {
    /// The reporting settings (time zone, activity events).
    pub fn reporting(&self) -> crate::reporting::Settings {
        let mut names: Vec<String> = self
            .activity_events
            .iter()
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
            .collect();
        names.sort();
        names.dedup();
        crate::reporting::Settings {
            time_zone: self.reporting_time_zone.trim().to_owned(),
            activity_events: (!names.is_empty()).then_some(names),
        }
    }

    /// What runs only when its secret is set (logged at start when off).
    pub fn integrations(&self) -> [Integration; 6] {
        [
            Integration {
                name: "revenue audit",
                needs: "STRIPE_SECRET_KEY",
                on: self.stripe_secret_key.is_set(),
            },
            Integration {
                name: "Stripe webhook (answers 503)",
                needs: "STRIPE_WEBHOOK_SECRET",
                on: self.stripe_webhook_secret.is_set(),
            },
            Integration {
                name: "Slack audit alerts",
                needs: "SLACK_WEBHOOK_URL",
                on: self.slack_webhook_url.is_set(),
            },
            Integration {
                name: "GitHub audit issues",
                needs: "GITHUB_TOKEN and GITHUB_REPOSITORY",
                on: self.github_token.is_set(),
            },
            Integration {
                name: "AI summary of the weekly report",
                needs: "ANTHROPIC_API_KEY",
                on: self.anthropic_api_key.is_set(),
            },
            Integration {
                name: "dashboard (answers 503)",
                needs: "DASHBOARD_TOKENS",
                on: !self.dashboard_tokens.tokens().is_empty(),
            },
        ]
    }

    /// The dashboard's sign-in settings.
    pub fn dashboard(&self) -> crate::dashboard::Settings {
        crate::dashboard::Settings {
            tokens: self.dashboard_tokens.tokens(),
            session_ttl: chrono::Duration::hours(i64::from(self.dashboard_session_hours.max(1))),
            secure_cookie: !self.dashboard_insecure_cookie,
            remember: std::time::Duration::from_secs(u64::from(self.dashboard_remember_seconds)),
        }
    }

    /// The AI summary's settings, when a key is configured.
    pub fn anthropic(&self) -> Option<AiConfig> {
        let key = self.anthropic_api_key.get()?.clone();
        let model = self.anthropic_model.trim();
        Some(AiConfig {
            api_base: self.anthropic_api_base.trim().to_owned(),
            model: if model.is_empty() {
                DEFAULT_MODEL.to_owned()
            } else {
                model.to_owned()
            },
            timeout: Duration::from_millis(self.anthropic_timeout_ms.max(1)),
            ..AiConfig::new(key)
        })
    }

    /// The Stripe client settings, when a key is configured.
    pub fn stripe(&self) -> Option<StripeConfig> {
        let key = self.stripe_secret_key.get()?.clone();
        Some(StripeConfig {
            rate_per_second: self.stripe_rate_limit,
            slices: self.stripe_time_slices,
            ..StripeConfig::new(key, self.stripe_api_base.clone())
        })
    }

    /// Alert channels and delivery settings.
    pub fn alerts(&self) -> anyhow::Result<AlertConfig> {
        let github = match (self.github_token.get(), &self.github_repository) {
            (Some(token), Some(repository)) => {
                anyhow::ensure!(
                    repository.split('/').filter(|p| !p.is_empty()).count() == 2,
                    "GITHUB_REPOSITORY must be owner/name, got {repository:?}"
                );
                Some(GithubTarget {
                    token: token.clone(),
                    repository: repository.clone(),
                    api_base: self.github_api_base.clone(),
                })
            }
            (None, None) => None,
            _ => anyhow::bail!("GitHub alerts need both GITHUB_TOKEN and GITHUB_REPOSITORY"),
        };
        Ok(AlertConfig {
            slack_webhook_url: self.slack_webhook_url.get().cloned(),
            github,
            poll_interval: Duration::from_millis(self.alert_poll_interval_ms.max(10)),
            retry_base: Duration::from_millis(self.alert_retry_base_ms.max(1)),
            max_attempts: self.alert_max_attempts.max(1),
            timeout: Duration::from_millis(self.alert_timeout_ms.max(1)),
        })
    }

    /// The audit's verdict thresholds.
    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            fail_critical_findings: self.audit_fail_critical_findings,
            fail_net_ratio: self.audit_fail_net_ratio,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        metrics: MetricsArgs,
    }

    /// The settings parsed from `flag` set to each blank value, and to a
    /// real one; environment variables go through the same parser.
    fn blank_and_set(flag: &str) -> Vec<(String, MetricsArgs)> {
        ["", "   ", "\n", "value_1"]
            .into_iter()
            .map(|v| {
                let args = Cli::try_parse_from(["metrics-svc", &format!("--{flag}={v}")])
                    .expect("parses")
                    .metrics;
                (v.to_owned(), args)
            })
            .collect()
    }

    fn off(args: &MetricsArgs, needs: &str) -> bool {
        args.integrations()
            .iter()
            .any(|i| i.needs.starts_with(needs) && !i.on)
    }

    #[test]
    fn a_blank_stripe_secret_key_turns_the_audit_off() {
        for (v, args) in blank_and_set("stripe-secret-key") {
            assert_eq!(args.stripe().is_none(), v != "value_1", "{v:?}");
            assert_eq!(off(&args, "STRIPE_SECRET_KEY"), v != "value_1", "{v:?}");
        }
    }

    #[test]
    fn a_blank_stripe_webhook_secret_turns_the_webhook_off() {
        for (v, args) in blank_and_set("stripe-webhook-secret") {
            assert_eq!(args.stripe_webhook_secret.get().is_none(), v != "value_1");
            assert_eq!(off(&args, "STRIPE_WEBHOOK_SECRET"), v != "value_1", "{v:?}");
        }
    }

    #[test]
    fn a_blank_slack_webhook_url_turns_slack_alerts_off() {
        for (v, args) in blank_and_set("slack-webhook-url") {
            let alerts = args.alerts().expect("valid");
            assert_eq!(alerts.slack_webhook_url.is_none(), v != "value_1", "{v:?}");
            assert_eq!(off(&args, "SLACK_WEBHOOK_URL"), v != "value_1", "{v:?}");
        }
    }

    #[test]
    fn a_blank_anthropic_api_key_turns_the_ai_summary_off() {
        for (v, args) in blank_and_set("anthropic-api-key") {
            assert_eq!(args.anthropic().is_none(), v != "value_1", "{v:?}");
            assert_eq!(off(&args, "ANTHROPIC_API_KEY"), v != "value_1", "{v:?}");
        }
        let set = Cli::try_parse_from([
            "metrics-svc",
            "--anthropic-api-key=sk-ant-value",
            "--anthropic-timeout-ms=1500",
        ])
        .expect("parses")
        .metrics
        .anthropic()
        .expect("on");
        assert_eq!(set.model, DEFAULT_MODEL);
        assert_eq!(set.api_base, DEFAULT_API_BASE);
        assert_eq!(set.timeout, Duration::from_millis(1500));
        assert!(!format!("{set:?}").contains("sk-ant-value"));
    }

    #[test]
    fn a_blank_github_token_turns_github_issues_off() {
        for (v, args) in blank_and_set("github-token") {
            // Without a repository a token alone is refused; blank is no token.
            assert_eq!(args.alerts().is_ok(), v != "value_1", "{v:?}");
            assert_eq!(off(&args, "GITHUB_TOKEN"), v != "value_1", "{v:?}");
        }
    }
}
