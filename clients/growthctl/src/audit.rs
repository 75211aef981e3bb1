//! `growthctl audit run|show|list`: the revenue audit from the command line
//! and from the daily CronJob. Exit codes: 0 PASS, 2 WARNING (or
//! `--warning-exit-code`), 3 FAIL, 1 when the audit could not run.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use growth_proto::audit::verdict_label;
use growth_proto::metrics::v1::{self as pb, AuditRunStatus, AuditVerdict, FindingKind, Severity};
use growth_proto::money::with_currency;
use growth_proto::timestamp::rfc3339;
use serde_json::{Value, json};

use crate::cli::Format;
use crate::clients::Target;
use crate::output;

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
    /// Backfill payments missing from the database.
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

/// An enum value's protobuf name without its type prefix
/// (`FINDING_KIND_MISSING_IN_DB` → `MISSING_IN_DB`).
fn short(full: &str, prefix: &str) -> String {
    full.strip_prefix(prefix).unwrap_or(full).to_owned()
}

fn status_name(v: i32) -> String {
    AuditRunStatus::try_from(v).map_or("UNKNOWN".into(), |v| {
        short(v.as_str_name(), "AUDIT_RUN_STATUS_")
    })
}

fn kind_name(v: i32) -> String {
    FindingKind::try_from(v).map_or("UNKNOWN".into(), |v| {
        short(v.as_str_name(), "FINDING_KIND_")
    })
}

fn severity_name(v: i32) -> String {
    Severity::try_from(v).map_or("UNKNOWN".into(), |v| short(v.as_str_name(), "SEVERITY_"))
}

/// A run as JSON.
pub fn run_json(run: &pb::AuditRun) -> Value {
    let money = |m: &Option<growth_proto::common::v1::Money>| {
        m.as_ref()
            .map(|m| json!({"amount_minor": m.amount_minor, "currency": m.currency}))
    };
    json!({
        "run_id": run.run_id,
        "month": run.month,
        "status": status_name(run.status),
        // A run without a verdict (FAILED, RUNNING) shows its status.
        "verdict": verdict_label(run),
        "started_at": output::time_json(run.started_at.as_ref()),
        "finished_at": output::time_json(run.finished_at.as_ref()),
        "window": window(run),
        "repair": run.repair,
        "dry_run": run.dry_run,
        "error": run.error,
        "finding_count": run.finding_count,
        "totals": run.totals.iter().map(|t| json!({
            "currency": t.currency,
            // refunds_minor / net_minor: refunded to date on the month's
            // charges; refunds_in_month_minor / month_net_minor: refunds made
            // in the month and the net revenue of the month (docs/AUDIT.md).
            "stripe": {"count": t.stripe_count, "gross_minor": t.stripe_gross_minor, "refunds_minor": t.stripe_refunds_minor, "net_minor": t.stripe_net_minor,
                       "refunds_in_month_minor": t.stripe_refunds_in_month_minor, "month_net_minor": t.stripe_month_net_minor},
            "db": {"count": t.db_count, "gross_minor": t.db_gross_minor, "refunds_minor": t.db_refunds_minor, "net_minor": t.db_net_minor,
                   "refunds_in_month_minor": t.db_refunds_in_month_minor, "month_net_minor": t.db_month_net_minor},
        })).collect::<Vec<_>>(),
        "findings": run.findings.iter().map(|f| json!({
            "kind": kind_name(f.kind),
            "severity": severity_name(f.severity),
            "object_type": f.object_type,
            "stripe_id": f.stripe_id,
            "db_payment_ids": f.db_payment_ids,
            "reason": f.reason,
            "stripe_amount": money(&f.stripe_amount),
            "db_amount": money(&f.db_amount),
        })).collect::<Vec<_>>(),
        "recommendations": run.recommendations,
        "repair_summary": run.repair_summary.as_ref().map(|r| json!({"payments_backfilled": r.payments_backfilled, "backfilled_stripe_ids": r.backfilled_stripe_ids})),
    })
}

/// The audited window, `[2025-11-01T00:00:00Z, 2025-12-01T00:00:00Z)`;
/// empty when the service did not say.
fn window(run: &pb::AuditRun) -> String {
    match (
        rfc3339(run.window_start.as_ref()),
        rfc3339(run.window_end.as_ref()),
    ) {
        (Some(from), Some(to)) => format!("[{from}, {to})"),
        _ => String::new(),
    }
}

/// The month's money per currency: both readings, both sides.
fn money_table(run: &pb::AuditRun) -> comfy_table::Table {
    let mut table = output::table(["currency", "figure", "Stripe", "database", "difference"]);
    for t in &run.totals {
        let c = t.currency.as_str();
        for (figure, stripe, db) in [
            ("captured", t.stripe_gross_minor, t.db_gross_minor),
            (
                "refunds made in the month",
                t.stripe_refunds_in_month_minor,
                t.db_refunds_in_month_minor,
            ),
            (
                "net revenue of the month",
                t.stripe_month_net_minor,
                t.db_month_net_minor,
            ),
            (
                "refunded to date on the month's charges",
                t.stripe_refunds_minor,
                t.db_refunds_minor,
            ),
            (
                "the month's charges net of refunds to date",
                t.stripe_net_minor,
                t.db_net_minor,
            ),
        ] {
            table.add_row(vec![
                c.to_uppercase(),
                figure.to_owned(),
                with_currency(stripe, c),
                with_currency(db, c),
                with_currency(stripe - db, c),
            ]);
        }
    }
    table
}

fn print_run(run: &pb::AuditRun, format: Format) {
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&run_json(run)).unwrap_or_default()
        ),
        Format::Md if !run.report_markdown.is_empty() => print!("{}", run.report_markdown),
        _ => {
            let mut table = output::table(["run", "month", "status", "verdict", "findings"]);
            table.add_row(vec![
                if run.run_id.is_empty() {
                    "(dry run)".into()
                } else {
                    run.run_id.clone()
                },
                run.month.clone(),
                status_name(run.status),
                verdict_label(run).to_owned(),
                run.finding_count.to_string(),
            ]);
            println!("{table}");
            let when = |t: Option<&prost_types::Timestamp>| rfc3339(t).unwrap_or("-".into());
            println!(
                "window {} (UTC), started {}, finished {}",
                window(run),
                when(run.started_at.as_ref()),
                when(run.finished_at.as_ref())
            );
            if !run.error.is_empty() {
                println!("error: {}", run.error);
            }
            if !run.totals.is_empty() {
                println!("{}", money_table(run));
            }
            for f in run.findings.iter().take(50) {
                println!(
                    "  [{}] {} {}: {}",
                    severity_name(f.severity),
                    kind_name(f.kind),
                    f.stripe_id,
                    f.reason
                );
            }
            for line in &run.recommendations {
                println!("  - {line}");
            }
        }
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
            output::emit(format, json, || {
                let mut table =
                    output::table(["run", "month", "status", "verdict", "findings", "started"]);
                for r in &runs {
                    let started = r
                        .started_at
                        .as_ref()
                        .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0))
                        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                        .unwrap_or_default();
                    table.add_row(vec![
                        r.run_id.clone(),
                        r.month.clone(),
                        status_name(r.status),
                        verdict_label(r).to_owned(),
                        r.finding_count.to_string(),
                        started,
                    ]);
                }
                table
            });
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
