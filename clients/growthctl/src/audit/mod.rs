//! `growthctl audit run|show|list`: the revenue audit from the command line
//! and from the daily CronJob. Exit codes: 0 PASS, 2 WARNING (or
//! `--warning-exit-code`), 3 FAIL, 1 when the audit could not run.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use growth_proto::metrics::v1::{self as pb, AuditRunStatus, AuditVerdict};
use serde_json::Value;

use crate::cli::Format;
use crate::clients::Target;
use crate::output;

mod render;

use render::{list_table, print_run, run_json};

/// `audit` subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Audit one month against Stripe (exit 0 PASS, 2 WARNING, 3 FAIL, 1 could not run).
    Run(RunArgs),
    /// Show a stored run with its findings.
    Show {
        /// The run id (from `audit list`).
        run_id: String,
    },
    /// List stored runs, newest first.
    List {
        /// Only runs of this month (YYYY-MM).
        #[arg(long)]
        month: Option<String>,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: i32,
    },
}

/// `audit run` options.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// UTC month: YYYY-MM, `current`, `previous`, or `yesterday` (the
    /// month of the day before, UTC: on the 1st the month that just ended,
    /// else the current one; what a daily job at 00:00 UTC audits).
    /// Default: the current month.
    #[arg(long, value_name = "MONTH", value_parser = MonthArg::parse)]
    pub month: Option<MonthArg>,
    /// Repair what is safe to repair: backfill captured payments missing
    /// from the database, replay the webhook events it missed, and apply the
    /// safe entitlement repairs (docs/AUDIT.md); the rest stays findings.
    #[arg(long)]
    pub repair: bool,
    /// Compute the report, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Also write the report (markdown, or JSON with --format json) to this file.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Exit code for a WARNING verdict (e.g. 0 to let a CronJob succeed).
    #[arg(long, default_value_t = 2)]
    pub warning_exit_code: u8,
}

/// `audit run --month`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MonthArg {
    /// A month, `YYYY-MM`.
    Month(String),
    /// The current UTC month.
    Current,
    /// The UTC month before the current one.
    Previous,
    /// The UTC month of the day before today.
    Yesterday,
}

impl MonthArg {
    /// Never refuses: anything but a name is a month for the service to
    /// check, so a bad one exits 1 ("could not run") with the service's
    /// message, never 2 (clap's usage error, which is WARNING here).
    fn parse(text: &str) -> Result<Self, std::convert::Infallible> {
        Ok(match text.trim() {
            "current" => Self::Current,
            "previous" => Self::Previous,
            "yesterday" => Self::Yesterday,
            t => Self::Month(t.to_owned()),
        })
    }

    /// The month, `YYYY-MM`, on UTC day `today`.
    pub fn on(&self, today: chrono::NaiveDate) -> String {
        use chrono::Datelike as _;
        let first = today.with_day(1).unwrap_or(today);
        let day = match self {
            Self::Month(m) => return m.clone(),
            Self::Current => today,
            Self::Previous => first.pred_opt().unwrap_or(first),
            Self::Yesterday => today.pred_opt().unwrap_or(today),
        };
        day.format("%Y-%m").to_string()
    }
}

/// The exit code a run stands for.
fn exit_code(run: &pb::AuditRun, warning: u8) -> ExitCode {
    if run.status != AuditRunStatus::Completed as i32 {
        return ExitCode::from(1);
    }
    match AuditVerdict::try_from(run.verdict) {
        Ok(AuditVerdict::Pass) => ExitCode::SUCCESS,
        Ok(AuditVerdict::Warning) => ExitCode::from(warning),
        Ok(AuditVerdict::Fail) => ExitCode::from(3),
        _ => ExitCode::from(1),
    }
}

/// Runs an `audit` subcommand.
pub async fn run(
    target: &Target,
    command: &AuditCommand,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let mut client = target.metrics().await?;
    match command {
        AuditCommand::Run(args) => {
            let month = args
                .month
                .as_ref()
                .unwrap_or(&MonthArg::Current)
                .on(chrono::Utc::now().date_naive());
            let run = client
                .run_revenue_audit(pb::RunRevenueAuditRequest {
                    month,
                    repair: args.repair,
                    dry_run: args.dry_run,
                })
                .await?
                .into_inner()
                .run
                .context("the service returned no run")?;
            if let Some(path) = &args.output {
                // A run that did not complete has no report: nothing is
                // written (an existing file is left as it was), so a file at
                // that path is only ever a completed audit's report, never
                // an empty or error-only one a reader could take for it. Why
                // it failed is on stderr, in the exit code 1, and stored
                // with the run (`audit show`).
                if run.status == AuditRunStatus::Completed as i32 {
                    let text = match format {
                        Format::Json => serde_json::to_string_pretty(&run_json(&run))?,
                        _ => run.report_markdown.clone(),
                    };
                    std::fs::write(path, text)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!("report written to {}", path.display());
                } else {
                    eprintln!(
                        "the audit of {} failed, so {} was not written: {}",
                        run.month,
                        path.display(),
                        if run.error.is_empty() {
                            "the run did not complete"
                        } else {
                            &run.error
                        }
                    );
                }
            }
            print_run(&run, format);
            Ok(exit_code(&run, args.warning_exit_code))
        }
        AuditCommand::Show { run_id } => {
            let run = client
                .get_audit_run(pb::GetAuditRunRequest {
                    run_id: run_id.clone(),
                })
                .await?
                .into_inner()
                .run
                .context("the service returned no run")?;
            print_run(&run, format);
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::List { month, limit } => {
            let runs = client
                .list_audit_runs(pb::ListAuditRunsRequest {
                    month: month.clone().unwrap_or_default(),
                    page: Some(growth_proto::common::v1::PageRequest {
                        page_size: *limit,
                        page_token: String::new(),
                    }),
                })
                .await?
                .into_inner()
                .runs;
            let json = Value::Array(runs.iter().map(run_json).collect());
            output::emit(format, json, || list_table(&runs));
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a date")
    }

    #[test]
    fn named_months_resolve_against_the_utc_day() {
        let first = day(2026, 1, 1);
        let mid = day(2026, 3, 15);
        let parse = |t| MonthArg::parse(t).expect("valid");
        assert_eq!(parse("previous").on(first), "2025-12");
        assert_eq!(parse("previous").on(mid), "2026-02");
        assert_eq!(parse("yesterday").on(first), "2025-12");
        assert_eq!(parse("yesterday").on(mid), "2026-03");
        assert_eq!(parse("current").on(first), "2026-01");
        assert_eq!(parse("2025-07").on(mid), "2025-07");
    }

    #[test]
    fn anything_else_is_left_for_the_service_to_check() {
        let today = day(2026, 3, 15);
        for text in ["2025-13", "last", ""] {
            let month = MonthArg::parse(text).expect("never refused");
            assert_eq!(month.on(today), text);
        }
    }
}
