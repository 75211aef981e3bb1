//! `growthctl cohorts …`: recompute the stored retention matrices (the
//! nightly CronJob runs `cohorts refresh`), show them, report one month's
//! churn, and the cohorts' value (LTV curves).
//! Exit codes: 0 success, 1 failure (a refused RPC shows the server's message,
//! which names the field), 2 a malformed flag.

mod churn;
mod matrix;
pub(crate) mod names;
mod overview;
mod refresh;
mod show;
mod value;

use std::process::ExitCode;

use chrono::NaiveDate;
use clap::{Args, Subcommand};
use growth_proto::common::v1::DateRange;

use crate::cli::Format;
use crate::clients::Target;
use names::{MetricArg, ModeArg, OutputArg, PeriodArg};

/// `cohorts` subcommands.
#[derive(Debug, Subcommand)]
pub enum CohortsCommand {
    /// Recompute the stored retention and revenue cells: incrementally
    /// (cohorts whose activity, members or payments changed since the last
    /// refresh), or every cohort in range with `--full`. Exit 0 on success, 1
    /// on any error.
    Refresh(RefreshArgs),
    /// A retention matrix: one row per cohort, one column per period offset.
    Show(ShowArgs),
    /// One line per cohort: users, paying users, conversion, net revenue to
    /// date and retention at a few checkpoints.
    Overview(OverviewArgs),
    /// Churn in one month: paying customers at its start, those paying
    /// nothing at its end, the MRR they took with them, and who they are.
    Churn(ChurnArgs),
    /// Cohort value (LTV curves): per monthly signup cohort and currency,
    /// the cumulative net revenue per user at the end of each month since
    /// signup (columns M0 to M11, `*` = month not over, `~` = projected
    /// from older cohorts' curves) and the 12-month LTV (column LTV 12m).
    /// The service refreshes the monthly cells it reads first.
    Value(ValueArgs),
}

/// `cohorts value` options.
#[derive(Debug, Args)]
pub struct ValueArgs {
    /// First cohort month, in the service's reporting time zone (default:
    /// the first).
    #[arg(long, value_name = "YYYY-MM", value_parser = names::month)]
    pub from: Option<String>,
    /// Last cohort month (default: the current one).
    #[arg(long, value_name = "YYYY-MM", value_parser = names::month)]
    pub to: Option<String>,
    /// Output of this command: table (one row per cohort and currency:
    /// cohort, users, currency, M0..M11 per user in major units, LTV 12m),
    /// csv (one line per point: cohort, users, currency, offset,
    /// cumulative_per_user_minor, partial, projected) or json (default: the
    /// global --format: json or csv there mean the same here).
    #[arg(long, value_enum)]
    pub output: Option<OutputArg>,
}

/// `cohorts overview` options.
#[derive(Debug, Args)]
pub struct OverviewArgs {
    /// Granularity of the cohorts.
    #[arg(long, value_enum)]
    pub period: PeriodArg,
    /// Only cohorts starting on or after this day (reporting time zone).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = names::date)]
    pub from: Option<NaiveDate>,
    /// Only cohorts starting on or before this day (reporting time zone).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = names::date)]
    pub to: Option<NaiveDate>,
}

/// `cohorts churn` options.
#[derive(Debug, Args)]
pub struct ChurnArgs {
    /// The month, in the service's reporting time zone.
    #[arg(long, value_name = "YYYY-MM", value_parser = names::month)]
    pub month: String,
    /// Output of this command: table (headline numbers and the churned
    /// customers), csv (one line per churned customer and currency: user_id,
    /// email, plan, currency, mrr_lost, churned_at) or json (default: the
    /// global --format: json or csv there mean the same here).
    #[arg(long, value_enum)]
    pub output: Option<OutputArg>,
}

/// `cohorts refresh` options.
#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// Only this granularity (default: day, week and month).
    #[arg(long, value_enum)]
    pub period: Option<PeriodArg>,
    /// Only the cohort starting on this day (same as --from D --to D).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = names::date, conflicts_with_all = ["from", "to"])]
    pub cohort: Option<NaiveDate>,
    /// Only cohorts starting on or after this day (reporting time zone).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = names::date)]
    pub from: Option<NaiveDate>,
    /// Only cohorts starting on or before this day (reporting time zone).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = names::date)]
    pub to: Option<NaiveDate>,
    /// Recompute every cohort in range, not only those whose activity changed.
    #[arg(long)]
    pub full: bool,
    /// Compute and report what would be written; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// First rebuild the per-user activity rollup from the raw events (after a
    /// change of time zone or activity definition); implies --full and cannot
    /// be combined with --dry-run.
    #[arg(long)]
    pub rebuild: bool,
    /// Only the retention (user) cells or only the revenue cells (default:
    /// both). A one-metric refresh leaves the changes for the next
    /// incremental one.
    #[arg(long, value_enum)]
    pub metric: Option<MetricArg>,
}

impl RefreshArgs {
    /// The cohort range to send (`--cohort D` is from = to = D).
    fn range(&self) -> Option<DateRange> {
        let (from, to) = match self.cohort {
            Some(day) => (Some(day), Some(day)),
            None => (self.from, self.to),
        };
        date_range(from, to)
    }
}

/// `cohorts show` options.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Granularity of the cohorts and of the offsets.
    #[arg(long, value_enum)]
    pub period: PeriodArg,
    /// What the cells count.
    #[arg(long, value_enum, default_value_t = MetricArg::Retention)]
    pub metric: MetricArg,
    /// When a user counts as retained in period N: active in it (on), or in
    /// it or any later period (on-or-after).
    #[arg(long, value_enum, default_value_t = ModeArg::On)]
    pub mode: ModeArg,
    /// Only cohorts starting on or after this day (reporting time zone).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = names::date)]
    pub from: Option<NaiveDate>,
    /// Only cohorts starting on or before this day (reporting time zone).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = names::date)]
    pub to: Option<NaiveDate>,
    /// Split each cohort by "plan" or by "attributes.<key>".
    #[arg(long, value_name = "KEY")]
    pub breakdown: Option<String>,
    /// Output of this command: table (one row per cohort, one column per
    /// offset: a heatmap on a terminal), csv (one line per cell: cohort,
    /// size, offset, retained, rate, incomplete; revenue: currency and
    /// revenue_minor instead of retained and rate; with --breakdown a
    /// segment column after cohort) or json (default: the global --format:
    /// json or csv there mean the same here).
    #[arg(long, value_enum)]
    pub output: Option<OutputArg>,
}

impl ShowArgs {
    /// `--output`, or what the global `--format` stands for.
    fn output(&self, format: Format) -> OutputArg {
        names::output_for(self.output, format)
    }
}

fn date_range(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Option<DateRange> {
    if from.is_none() && to.is_none() {
        return None;
    }
    let text = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    Some(DateRange {
        from: text(from),
        to: text(to),
    })
}

/// Runs a `cohorts` subcommand.
pub async fn run(
    target: &Target,
    command: &CohortsCommand,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let mut client = target.metrics().await?;
    match command {
        CohortsCommand::Refresh(args) => refresh::run(&mut client, args, format).await,
        CohortsCommand::Show(args) => show::run(&mut client, args, args.output(format)).await,
        CohortsCommand::Overview(args) => overview::run(&mut client, args, format).await,
        CohortsCommand::Churn(args) => {
            churn::run(&mut client, args, names::output_for(args.output, format)).await
        }
        CohortsCommand::Value(args) => {
            value::run(&mut client, args, names::output_for(args.output, format)).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        names::date(text).expect("a date")
    }

    #[test]
    fn one_cohort_is_a_range_of_one_day() {
        let args = RefreshArgs {
            period: None,
            cohort: Some(day("2025-03-03")),
            from: None,
            to: None,
            full: false,
            dry_run: false,
            rebuild: false,
            metric: None,
        };
        let range = args.range().expect("a range");
        assert_eq!(
            (range.from.as_str(), range.to.as_str()),
            ("2025-03-03", "2025-03-03")
        );
    }

    #[test]
    fn an_open_bound_is_sent_empty_and_no_bounds_send_no_range() {
        let range = date_range(Some(day("2025-03-01")), None).expect("a range");
        assert_eq!((range.from.as_str(), range.to.as_str()), ("2025-03-01", ""));
        assert_eq!(date_range(None, None), None);
    }
}
