//! `growthctl lifecycle …`: users' stages and scores, bulk evaluation (the
//! hourly CronJob), stage transitions, trigger rules and the Kit outbox.
//! Exit codes: 0 success, 1 failure (a refused RPC names the field).

mod deliveries;
pub mod evaluate;
pub mod names;
mod rules;
mod show;

use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};

use crate::cli::Format;
use crate::clients::Target;
use names::{ActionArg, StageArg, StatusArg};

/// `lifecycle` subcommands.
#[derive(Debug, Subcommand)]
pub enum LifecycleCommand {
    /// A user's stage, score with its components, and recent transitions.
    Get {
        /// The user's id (as in the metrics service).
        user_id: String,
    },
    /// Score and re-stage users now, with progress (exit 1 when it fails,
    /// e.g. while another evaluation is running).
    Evaluate(EvaluateArgs),
    /// How many users are in each stage.
    Stages {
        /// Count as of this instant (RFC 3339 or YYYY-MM-DD; default: now).
        #[arg(long, value_parser = names::instant)]
        as_of: Option<DateTime<Utc>>,
    },
    /// Recorded stage transitions, newest first.
    Transitions(TransitionsArgs),
    /// Trigger rules: Kit actions on stage transitions.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Kit actions queued by the rules (the outbox), newest first.
    Deliveries(DeliveriesArgs),
    /// Queue a dead or skipped delivery again.
    Retry {
        /// The delivery's id (from `lifecycle deliveries`).
        delivery_id: String,
    },
}

/// `lifecycle evaluate` options.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Compute and report what would change; write nothing, queue nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Only this user (repeatable); default: all users.
    #[arg(long = "user", value_name = "ID")]
    pub users: Vec<String>,
    /// Only users currently in this stage.
    #[arg(long, value_enum)]
    pub stage: Option<StageArg>,
    /// Print transitions as they are made (table format).
    #[arg(long, short)]
    pub verbose: bool,
}

/// `lifecycle transitions` options.
#[derive(Debug, Args)]
pub struct TransitionsArgs {
    /// Only this user's.
    #[arg(long = "user", value_name = "ID")]
    pub user: Option<String>,
    /// Only transitions out of this stage.
    #[arg(long, value_enum)]
    pub from: Option<StageArg>,
    /// Only transitions into this stage.
    #[arg(long, value_enum)]
    pub to: Option<StageArg>,
    /// Only transitions at or after this instant (RFC 3339, or YYYY-MM-DD for
    /// midnight UTC).
    #[arg(long, value_parser = names::instant)]
    pub since: Option<DateTime<Utc>>,
    /// Only transitions before this instant (RFC 3339, or YYYY-MM-DD for
    /// midnight UTC).
    #[arg(long, value_parser = names::instant)]
    pub until: Option<DateTime<Utc>>,
    /// At most this many rows (pages are followed until then).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: u32,
}

/// `lifecycle rules` subcommands.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// The rules, in creation order.
    List,
    /// Create a rule: when a user enters `--to` (from `--from`, default any
    /// stage), do a Kit action.
    Add(RuleArgs),
    /// Delete a rule (deliveries it queued are kept).
    Rm {
        /// The rule's id (from `rules list`).
        rule_id: String,
    },
}

/// `lifecycle rules add` options.
#[derive(Debug, Args)]
pub struct RuleArgs {
    /// Stage entered.
    #[arg(long, value_enum)]
    pub to: StageArg,
    /// Stage left (default: any, including a user's first stage).
    #[arg(long, value_enum)]
    pub from: Option<StageArg>,
    /// The Kit action.
    #[arg(long, value_enum)]
    pub action: ActionArg,
    /// Kit id of the tag, sequence or form.
    #[arg(long, value_name = "ID")]
    pub target: String,
    /// A Kit custom field set with the action (repeatable):
    /// KEY=score|stage|previous-stage.
    #[arg(long = "field", value_name = "KEY=VALUE", value_parser = names::custom_field)]
    pub fields: Vec<growth_proto::lifecycle::v1::CustomField>,
    /// Store the rule disabled (it queues nothing).
    #[arg(long)]
    pub disabled: bool,
    /// Human description.
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub description: String,
}

/// `lifecycle deliveries` options.
#[derive(Debug, Args)]
pub struct DeliveriesArgs {
    /// Only rows in this status.
    #[arg(long, value_enum)]
    pub status: Option<StatusArg>,
    /// Only this user's.
    #[arg(long = "user", value_name = "ID")]
    pub user: Option<String>,
    /// At most this many rows (pages are followed until then).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: u32,
}

/// Runs a `lifecycle` subcommand.
pub async fn run(
    target: &Target,
    command: &LifecycleCommand,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let mut client = target.lifecycle().await?;
    match command {
        LifecycleCommand::Get { user_id } => show::get(&mut client, user_id, format).await,
        LifecycleCommand::Evaluate(args) => evaluate::run(&mut client, args, format).await,
        LifecycleCommand::Stages { as_of } => show::stages(&mut client, *as_of, format).await,
        LifecycleCommand::Transitions(args) => show::transitions(&mut client, args, format).await,
        LifecycleCommand::Rules(RulesCommand::List) => rules::list(&mut client, format).await,
        LifecycleCommand::Rules(RulesCommand::Add(args)) => {
            rules::add(&mut client, args, format).await
        }
        LifecycleCommand::Rules(RulesCommand::Rm { rule_id }) => {
            rules::rm(&mut client, rule_id, format).await
        }
        LifecycleCommand::Deliveries(args) => deliveries::list(&mut client, args, format).await,
        LifecycleCommand::Retry { delivery_id } => {
            deliveries::retry(&mut client, delivery_id, format).await
        }
    }
}
