//! Settings of the metrics service beyond the shared ones.

use clap::Args;
use secrecy::SecretString;

use crate::audit::verdict::Thresholds;
use crate::stripe::StripeConfig;

/// Stripe and audit settings; every one also an environment variable.
#[derive(Debug, Clone, Args)]
pub struct MetricsArgs {
    /// Stripe secret (or restricted, read-only) key for the revenue audit.
    #[arg(long, env = "STRIPE_SECRET_KEY", hide_env_values = true)]
    pub stripe_secret_key: Option<SecretString>,

    /// Signing secret of the Stripe webhook endpoint (`whsec_…`).
    #[arg(long, env = "STRIPE_WEBHOOK_SECRET", hide_env_values = true)]
    pub stripe_webhook_secret: Option<SecretString>,

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

    /// Time slices a month is cut into and paginated in parallel.
    #[arg(long, env = "STRIPE_TIME_SLICES", default_value_t = 8)]
    pub stripe_time_slices: u32,

    /// Critical findings that make an audit FAIL.
    #[arg(long, env = "AUDIT_FAIL_CRITICAL_FINDINGS", default_value_t = 1)]
    pub audit_fail_critical_findings: usize,

    /// Relative net-revenue difference in one currency that makes an audit FAIL.
    #[arg(long, env = "AUDIT_FAIL_NET_RATIO", default_value_t = 0.005)]
    pub audit_fail_net_ratio: f64,
}

impl Default for MetricsArgs {
    fn default() -> Self {
        Self {
            stripe_secret_key: None,
            stripe_webhook_secret: None,
            stripe_api_base: "https://api.stripe.com".to_owned(),
            stripe_rate_limit: None,
            stripe_time_slices: 8,
            audit_fail_critical_findings: 1,
            audit_fail_net_ratio: 0.005,
        }
    }
}

impl MetricsArgs {
    /// The Stripe client settings, when a key is configured.
    pub fn stripe(&self) -> Option<StripeConfig> {
        let key = self.stripe_secret_key.clone()?;
        Some(StripeConfig {
            rate_per_second: self.stripe_rate_limit,
            slices: self.stripe_time_slices,
            ..StripeConfig::new(key, self.stripe_api_base.clone())
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
