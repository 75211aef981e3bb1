//! How to reach the Anthropic Messages API (each setting also an
//! environment variable of the service, see `MetricsArgs`).

use std::time::Duration;

use secrecy::SecretString;

/// The API root.
pub const DEFAULT_API_BASE: &str = "https://api.anthropic.com";
/// The model asked by default: the current Haiku (the fast, low-cost tier;
/// a weekly summary of given numbers needs no more).
pub const DEFAULT_MODEL: &str = "claude-haiku-5-5";
/// The timeout of one request by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The `anthropic-version` header every request pins.
pub const API_VERSION: &str = "2023-06-01";

/// The AI summary's settings. `Debug` shows the key as redacted.
#[derive(Clone, Debug)]
pub struct AiConfig {
    /// `ANTHROPIC_API_KEY`.
    pub api_key: SecretString,
    /// `ANTHROPIC_API_BASE`, e.g. `https://api.anthropic.com` (tests point
    /// it at a local fake).
    pub api_base: String,
    /// `ANTHROPIC_MODEL`.
    pub model: String,
    /// `ANTHROPIC_TIMEOUT_MS`: one request's timeout, connect to last byte.
    pub timeout: Duration,
}

impl AiConfig {
    /// The defaults for `api_key`.
    pub fn new(api_key: SecretString) -> Self {
        Self {
            api_key,
            api_base: DEFAULT_API_BASE.to_owned(),
            model: DEFAULT_MODEL.to_owned(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}
