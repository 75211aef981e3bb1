//! The command line of `growthctl`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::SecretString;

use crate::seed::SeedParams;

/// The help heading of the options every command takes.
const GLOBAL: &str = "Global options";

/// Command-line client of the growth services (metrics and lifecycle).
///
/// Exit codes: 0 success, 1 failure (including an unreachable service or a
/// refused request).
#[derive(Debug, Parser)]
#[command(name = "growthctl", version, about, long_about = None)]
pub struct Cli {
    /// Address of the metrics service (host:port).
    #[arg(
        long,
        global = true,
        help_heading = GLOBAL,
        env = "GROWTH_METRICS_ADDR",
        default_value = "127.0.0.1:50051"
    )]
    pub metrics_addr: String,

    /// Address of the lifecycle service (host:port).
    #[arg(
        long,
        global = true,
        help_heading = GLOBAL,
        env = "GROWTH_LIFECYCLE_ADDR",
        default_value = "127.0.0.1:50052"
    )]
    pub lifecycle_addr: String,

    /// Bearer token for the RPCs.
    #[arg(
        long,
        global = true,
        help_heading = GLOBAL,
        env = "GROWTH_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<SecretString>,

    /// Output format.
    #[arg(long, global = true, help_heading = GLOBAL, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    #[command(subcommand)]
    pub command: Command,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable tables.
    Table,
    /// One JSON document (or one per line for streams).
    Json,
    /// Markdown: the audit report (other commands print tables).
    Md,
    /// CSV: retention matrices, the revenue summary and the churn report
    /// (other commands print tables).
    Csv,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check that the services are up (gRPC health); exit 1 unless every
    /// service checked is SERVING.
    Health(HealthArgs),
    /// Users of the product.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Activity events.
    #[command(subcommand)]
    Events(EventsCommand),
    /// Payments as the product's database records them.
    #[command(subcommand)]
    Payments(PaymentsCommand),
    /// Subscription histories (the revenue summary's MRR comes from them).
    #[command(subcommand)]
    Subscriptions(SubscriptionsCommand),
    /// The revenue audit against Stripe.
    #[command(subcommand)]
    Audit(crate::audit::AuditCommand),
    /// Lifecycle stages, scores, transitions, trigger rules and Kit deliveries.
    #[command(subcommand)]
    Lifecycle(crate::lifecycle::LifecycleCommand),
    /// Cohort retention: refresh the stored matrices (the nightly CronJob)
    /// and show them; one month's churn; cohort value (LTV curves).
    #[command(subcommand)]
    Cohorts(crate::cohorts::CohortsCommand),
    /// Revenue from the subscription history: MRR, ARR and MRR movements.
    #[command(subcommand)]
    Revenue(crate::revenue::RevenueCommand),
    /// What the Stripe webhook recorded.
    #[command(subcommand)]
    Stripe(crate::stripe::StripeCommand),
    /// The weekly growth report: KPIs with trends, anomalies, insights and
    /// recommendations (the Monday CronJob).
    #[command(subcommand)]
    Insights(crate::insights::InsightsCommand),
    /// Generate a realistic synthetic SaaS (users, events, payments,
    /// subscription histories) and send it through the ingest RPCs.
    Seed(SeedParams),
}

/// Reading rows from a JSON-lines file.
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// JSON-lines file, one object per line; `-` or absent reads stdin.
    #[arg(long, short)]
    pub file: Option<PathBuf>,
    /// Rows per RPC (1 to 10,000).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub batch_size: u32,
    /// How long to keep sending a batch again while its outcome is unknown
    /// (the service answered UNAVAILABLE or DEADLINE_EXCEEDED, or the
    /// connection failed), counted from its first failure; 0 never sends
    /// again. Safe: users are stored once per user id, events per event id,
    /// payments per stripe_id. Other refusals stop at once.
    #[arg(long, value_name = "SECONDS", default_value_t = crate::resend::DEFAULT_RETRY_SECONDS)]
    pub retry_for: u64,
}

/// `users` subcommands.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Insert or update users from JSON lines:
    /// {"user_id","email","signup_at","plan","trial_ends_at"?,"attributes"?}
    ///
    /// Progress (rows sent, rows/s, percentage and ETA of a file) is drawn on
    /// stderr when it is a terminal and the format is not JSON. A batch whose
    /// outcome is unknown is sent again for up to --retry-for seconds.
    Upsert(InputArgs),
}

/// `events` subcommands.
#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Record events from JSON lines:
    /// {"event_id","user_id","name","occurred_at","properties"?}
    ///
    /// Progress (rows sent, rows/s, percentage and ETA of a file) is drawn on
    /// stderr when it is a terminal and the format is not JSON. A batch whose
    /// outcome is unknown is sent again for up to --retry-for seconds.
    Track(InputArgs),
    /// Print the event feed from a cursor, then follow new events.
    Watch(WatchArgs),
}

/// `subscriptions` subcommands.
#[derive(Debug, Subcommand)]
pub enum SubscriptionsCommand {
    /// Import subscription states from JSON lines: {"stripe_subscription_id",
    /// "user_id","plan","amount_minor","currency","interval","status",
    /// "started_at","effective_at","stripe_customer"?,"quantity"?,
    /// "interval_count"?,"ended_at"?}; interval is day, week, month or year,
    /// status is trialing, active, past_due, canceled, unpaid, incomplete,
    /// incomplete_expired or paused. States equal to a subscription's latest
    /// or older than it change nothing.
    ///
    /// Progress is drawn on stderr when it is a terminal and the format is
    /// not JSON. A batch whose outcome is unknown is sent again for up to
    /// --retry-for seconds.
    Import(InputArgs),
}

/// `payments` subcommands.
#[derive(Debug, Subcommand)]
pub enum PaymentsCommand {
    /// Import payments from JSON lines: {"stripe_id","amount_minor","currency",
    /// "status","created_at","user_id"?,"refunded_minor"?,"refunded_at"?,...}
    ///
    /// Progress (rows sent, rows/s, percentage and ETA of a file) is drawn on
    /// stderr when it is a terminal and the format is not JSON. A batch whose
    /// outcome is unknown is sent again for up to --retry-for seconds.
    Import(InputArgs),
}

/// `events watch` options.
#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    /// Start after this feed sequence (0 = from the first event).
    #[arg(long, default_value_t = 0)]
    pub after: i64,
    /// Stop once caught up instead of following new events.
    #[arg(long)]
    pub stop_at_end: bool,
    /// Stop after printing this many events.
    #[arg(long)]
    pub limit: Option<u64>,
}

/// `health` options.
#[derive(Debug, Clone, Args)]
pub struct HealthArgs {
    /// Check only this service (default: both).
    #[arg(long, value_enum)]
    pub service: Option<ServiceName>,
}

/// One of the two services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServiceName {
    /// The metrics service (`--metrics-addr`).
    Metrics,
    /// The lifecycle service (`--lifecycle-addr`).
    Lifecycle,
}
