//! `growthctl revenue …`: MRR, ARR and MRR movements per month and currency
//! (`revenue summary`). Exit codes: 0 success, 1 failure (a refused RPC shows
//! the server's message, which names the field), 2 a malformed flag.

mod summary;

use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::cli::Format;
use crate::clients::Target;
use crate::cohorts::names::{self, OutputArg};

/// `revenue` subcommands.
#[derive(Debug, Subcommand)]
pub enum RevenueCommand {
    /// MRR, ARR and the MRR movements (new, expansion, contraction, churned,
    /// reactivation) per month and currency, with net and gross revenue
    /// retention. Months are calendar months in the service's reporting time
    /// zone; the current month ends now.
    Summary(SummaryArgs),
}

/// `revenue summary` options.
#[derive(Debug, Args)]
pub struct SummaryArgs {
    /// First month.
    #[arg(long, value_name = "YYYY-MM", value_parser = names::month)]
    pub from: String,
    /// Last month, inclusive (default: --from; at most 120 months after it).
    #[arg(long, value_name = "YYYY-MM", value_parser = names::month)]
    pub to: Option<String>,
    /// Output of this command: table (one row per month and currency), csv
    /// (one line per month and currency: month, currency, mrr_at_start, mrr,
    /// arr, new, expansion, contraction, churned, reactivation, net_new,
    /// nrr, grr (empty when the month started without MRR), customers,
    /// active_subscriptions, gross_revenue, refunds, disputes, net_revenue,
    /// partial (the month is not over); amounts in major units) or json
    /// (default: the global --format: json or csv there mean the same here).
    #[arg(long, value_enum)]
    pub output: Option<OutputArg>,
}

/// Runs a `revenue` subcommand.
pub async fn run(
    target: &Target,
    command: &RevenueCommand,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let mut client = target.metrics().await?;
    match command {
        RevenueCommand::Summary(args) => {
            let output = names::output_for(args.output, format);
            summary::run(&mut client, args, output).await
        }
    }
}
