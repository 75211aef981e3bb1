//! Configuration shared by both services: every setting is a flag and an
//! environment variable (12-factor). Secrets are wrapped so they never print.

use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, ValueEnum};
use secrecy::{ExposeSecret, SecretString};

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LogFormat {
    /// Human-readable, coloured when the output is a terminal.
    #[default]
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Settings every service takes. Each service embeds these with
/// `#[command(flatten)]` and supplies its own default listen addresses.
#[derive(Debug, Clone, Args)]
pub struct RuntimeArgs {
    /// PostgreSQL connection URL, e.g. postgres://postgres@127.0.0.1:5432/growth
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: SecretString,

    /// Maximum connections in the database pool.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 10)]
    pub database_max_connections: u32,

    /// Address the gRPC server listens on (port 0 picks a free port).
    #[arg(long, env = "GRPC_LISTEN_ADDR")]
    pub grpc_listen_addr: Option<SocketAddr>,

    /// Address the HTTP listener (/metrics, webhooks) listens on.
    #[arg(long, env = "HTTP_LISTEN_ADDR")]
    pub http_listen_addr: Option<SocketAddr>,

    /// Bearer tokens accepted on RPCs, comma-separated. Health checks and
    /// reflection need none.
    #[arg(
        long,
        env = "GROWTH_AUTH_TOKENS",
        hide_env_values = true,
        default_value = "",
        hide_default_value = true
    )]
    pub auth_tokens: OptionalSecret,

    /// Accept RPCs without a token. Only for local development; the service
    /// logs a warning at start when set.
    #[arg(long, env = "GROWTH_INSECURE_DISABLE_AUTH", default_value_t = false)]
    pub insecure_disable_auth: bool,

    /// Do not apply database migrations at start (run the `migrate` subcommand
    /// from a deploy job instead).
    #[arg(long, env = "SKIP_MIGRATIONS", default_value_t = false)]
    pub skip_migrations: bool,

    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,

    /// Seconds in-flight requests get to finish after SIGTERM/Ctrl-C.
    #[arg(long, env = "SHUTDOWN_GRACE_SECONDS", default_value_t = 20)]
    pub shutdown_grace_seconds: u64,
}

impl RuntimeArgs {
    /// The tokens accepted by the auth layer; `None` when auth is disabled.
    ///
    /// Fails when auth is enabled but no token is configured: a service must
    /// never be open by accident.
    pub fn auth_policy(&self) -> anyhow::Result<AuthPolicy> {
        if self.insecure_disable_auth {
            return Ok(AuthPolicy::Disabled);
        }
        let tokens = self.auth_tokens.tokens();
        if tokens.is_empty() {
            anyhow::bail!(
                "no RPC auth token configured: set GROWTH_AUTH_TOKENS (comma-separated) \
                 or, for local development only, GROWTH_INSECURE_DISABLE_AUTH=true"
            );
        }
        Ok(AuthPolicy::Tokens(tokens))
    }

    /// The shutdown grace period.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_seconds)
    }
}

/// A secret setting that may be absent (an API key, a token, a webhook
/// secret). Empty or whitespace-only counts as unset: a Kubernetes Secret
/// with a missing key renders the variable empty, and an empty HMAC key or
/// token must never be used. Surrounding whitespace (the trailing newline of
/// `echo key | kubectl create secret …`) is dropped. This is the one place
/// that rule lives; every optional secret of both services has this type.
#[derive(Clone, Default)]
pub struct OptionalSecret(Option<SecretString>);

impl OptionalSecret {
    /// The secret, unless it is unset, empty or whitespace-only.
    pub fn get(&self) -> Option<&SecretString> {
        self.0.as_ref()
    }

    /// Whether a usable value is set.
    pub fn is_set(&self) -> bool {
        self.0.is_some()
    }

    /// The value as a comma-separated list of tokens (blank ones dropped,
    /// each trimmed): `GROWTH_AUTH_TOKENS`, `DASHBOARD_TOKENS`.
    pub fn tokens(&self) -> Vec<SecretString> {
        self.0
            .as_ref()
            .map(|s| {
                s.expose_secret()
                    .split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(|t| SecretString::from(t.to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl FromStr for OptionalSecret {
    type Err = Infallible;

    fn from_str(value: &str) -> Result<Self, Infallible> {
        let value = value.trim();
        Ok(Self(
            (!value.is_empty()).then(|| SecretString::from(value.to_owned())),
        ))
    }
}

impl From<&str> for OptionalSecret {
    fn from(value: &str) -> Self {
        let Ok(secret) = value.parse();
        secret
    }
}

impl From<Option<SecretString>> for OptionalSecret {
    fn from(value: Option<SecretString>) -> Self {
        value.map_or_else(Self::default, |s| Self::from(s.expose_secret()))
    }
}

impl fmt::Debug for OptionalSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_set() { "[REDACTED]" } else { "unset" })
    }
}

/// One integration a service can run without: its name and the variable
/// that turns it on.
#[derive(Debug, Clone, Copy)]
pub struct Integration {
    /// What it does, e.g. "revenue audit".
    pub name: &'static str,
    /// What turns it on, e.g. "STRIPE_SECRET_KEY".
    pub needs: &'static str,
    /// Whether it is configured.
    pub on: bool,
}

/// Logs once, at start, which integrations are off and what would turn
/// them on (nothing when all are on).
pub fn log_integrations(integrations: &[Integration]) {
    let off: Vec<String> = integrations
        .iter()
        .filter(|i| !i.on)
        .map(|i| format!("{} (set {})", i.name, i.needs))
        .collect();
    if !off.is_empty() {
        tracing::info!(off = %off.join(", "), "integrations off");
    }
}

/// Which callers the auth layer lets through.
#[derive(Debug, Clone)]
pub enum AuthPolicy {
    /// Every call is accepted (explicit opt-out; logged as a warning).
    Disabled,
    /// Calls must carry `authorization: Bearer <one of these>`.
    Tokens(Vec<SecretString>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        runtime: RuntimeArgs,
    }

    fn parse(args: &[&str]) -> RuntimeArgs {
        let mut argv = vec!["svc", "--database-url", "postgres://x@localhost/db"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).expect("arguments parse").runtime
    }

    #[test]
    fn auth_without_tokens_is_refused_unless_disabled_explicitly() {
        let err = parse(&[]).auth_policy().expect_err("no token must fail");
        assert!(err.to_string().contains("GROWTH_AUTH_TOKENS"));
        assert!(matches!(
            parse(&["--insecure-disable-auth"]).auth_policy(),
            Ok(AuthPolicy::Disabled)
        ));
    }

    #[test]
    fn tokens_are_split_on_commas_and_trimmed() {
        let policy = parse(&["--auth-tokens", " a , b,,"]).auth_policy();
        let Ok(AuthPolicy::Tokens(tokens)) = policy else {
            panic!("expected tokens");
        };
        let plain: Vec<&str> = tokens.iter().map(|t| t.expose_secret()).collect();
        assert_eq!(plain, ["a", "b"]);
    }

    #[test]
    fn empty_or_blank_auth_tokens_count_as_none() {
        for blank in ["", "   ", "\n"] {
            let err = parse(&["--auth-tokens", blank])
                .auth_policy()
                .expect_err("a blank token list must fail like an unset one");
            assert!(err.to_string().contains("GROWTH_AUTH_TOKENS"), "{blank:?}");
        }
    }

    #[test]
    fn an_optional_secret_is_unset_when_empty_or_blank_and_trimmed_otherwise() {
        for blank in ["", " ", "\t\n"] {
            assert!(!OptionalSecret::from(blank).is_set(), "{blank:?}");
        }
        let set = OptionalSecret::from(" whsec_1\n");
        assert_eq!(set.get().map(|s| s.expose_secret()), Some("whsec_1"));
        assert_eq!(format!("{set:?}"), "[REDACTED]");
        assert_eq!(format!("{:?}", OptionalSecret::default()), "unset");
    }

    #[test]
    fn database_url_does_not_print_in_debug_output() {
        let args = parse(&[]);
        assert!(!format!("{args:?}").contains("postgres://x@localhost"));
    }
}
