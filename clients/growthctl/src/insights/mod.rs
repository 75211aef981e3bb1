//! `growthctl insights weekly|show|list|active`: the weekly growth report
//! (the Monday CronJob runs `insights weekly --notify`) and the daily active
//! users (`active`). `weekly` exits 0 when
//! the report was written, with or without its AI part, and 1 when it could
//! not be.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use growth_proto::metrics::v1::{
    self as pb, AiStatus, AnomalyMethod, InsightKind, KpiUnit, Severity,
};
use growth_proto::money::{percent, with_currency};
use serde_json::{Value, json};

use crate::cli::Format;
use crate::clients::Target;
use crate::output;

mod active;

/// `insights` subcommands.
#[derive(Debug, Subcommand)]
pub enum InsightsCommand {
    /// Generate a week's report and store it as the week's next revision
    /// (exit 0 when written, 1 when not).
    Weekly(WeeklyArgs),
    /// Show a stored report (default: the latest week's latest revision).
    Show {
        /// ISO week, e.g. 2025-W47.
        #[arg(long, value_name = "YYYY-Www", value_parser = week)]
        week: Option<String>,
        /// Revision of the week (default: the latest).
        #[arg(long, requires = "week")]
        revision: Option<u32>,
    },
    /// List stored reports, newest week first, every revision.
    List {
        /// Only this week's revisions.
        #[arg(long, value_name = "YYYY-Www", value_parser = week)]
        week: Option<String>,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: i32,
    },
    /// Active users per day: DAU, WAU (rolling 7 days), MAU (rolling 28
    /// days), stickiness (DAU/MAU), new, returning and resurrected actives.
    Active(active::ActiveArgs),
}

/// `insights weekly` options.
#[derive(Debug, Args)]
pub struct WeeklyArgs {
    /// ISO week in the service's reporting time zone, e.g. 2025-W47
    /// (default: the last complete week).
    #[arg(long, value_name = "YYYY-Www", value_parser = week)]
    pub week: Option<String>,
    /// Do not ask the LLM for the summary (rule-based only).
    #[arg(long)]
    pub no_ai: bool,
    /// Post the report to the service's Slack webhook.
    #[arg(long)]
    pub notify: bool,
    /// Also write the report (markdown, or JSON with --format json) to
    /// this file.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

/// Checks the shape of a week (clap names the flag in its error); whether
/// the week exists and is over is the server's to say.
pub fn week(text: &str) -> Result<String, String> {
    let t = text.trim();
    let ok = t.len() == 8
        && t.as_bytes()[4..6] == *b"-W"
        && t[..4].bytes().all(|b| b.is_ascii_digit())
        && t[6..].bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(t.to_owned())
    } else {
        Err(format!(
            "{text:?} is not an ISO week (YYYY-Www, e.g. 2025-W47)"
        ))
    }
}

/// An enum value's name without its prefix, lower case (`ai_status`'s `ok`).
fn name(full: &str, prefix: &str) -> String {
    output::enum_name(full, prefix).to_ascii_lowercase()
}

fn kpi_value(k: &pb::Kpi, x: f64) -> String {
    match KpiUnit::try_from(k.unit) {
        Ok(KpiUnit::Ratio) => percent(x),
        Ok(KpiUnit::MoneyMinor) => with_currency(x.round() as i64, &k.currency),
        _ => format!("{x:.0}"),
    }
}

/// The report as JSON (every part; amounts in minor units).
pub fn report_json(r: &pb::GrowthReport) -> Value {
    let ai = r.ai.clone().unwrap_or_default();
    json!({
        "report_id": r.report_id,
        "week": r.week,
        "revision": r.revision,
        "time_zone": r.time_zone,
        "generated_at": output::time_json(r.generated_at.as_ref()),
        "summary_source": if r.summary_source == pb::SummarySource::Llm as i32 { "llm" } else { "rules" },
        "summary_markdown": r.summary_markdown,
        "kpis": r.kpis.iter().map(|k| json!({
            "name": k.name, "label": k.label, "value": k.value, "previous": k.previous,
            "change": k.change, "trend_4w": k.trend_4w, "history": k.history,
            "currency": k.currency,
        })).collect::<Vec<_>>(),
        "anomalies": r.anomalies.iter().map(|a| json!({
            "series": a.kpi, "at": a.at, "value": a.value, "baseline": a.baseline,
            "method": AnomalyMethod::try_from(a.method).map_or("unknown".into(), |m| name(m.as_str_name(), "ANOMALY_METHOD_")),
            "severity": Severity::try_from(a.severity).map_or("unknown".into(), |s| name(s.as_str_name(), "SEVERITY_")),
            "score": a.score, "description": a.description,
        })).collect::<Vec<_>>(),
        "insights": r.insights.iter().map(|i| json!({
            "kind": InsightKind::try_from(i.kind).map_or("unknown".into(), |k| name(k.as_str_name(), "INSIGHT_KIND_")),
            "rule": i.rule, "text": i.text, "kpis": i.kpis,
        })).collect::<Vec<_>>(),
        "stages": r.stages.iter().map(|s| json!({"stage": s.stage, "users": s.users})).collect::<Vec<_>>(),
        "lifecycle_reachable": r.lifecycle_reachable,
        "lifecycle_error": r.lifecycle_error,
        "ai": {
            "status": AiStatus::try_from(ai.status).map_or("unknown".into(), |s| name(s.as_str_name(), "AI_STATUS_")),
            "reason": ai.reason, "model": ai.model, "prompt_version": ai.prompt_version,
            "input_tokens": ai.input_tokens, "output_tokens": ai.output_tokens,
        },
        "report_markdown": r.report_markdown,
    })
}

/// Prints a report: markdown for `md`, JSON for `json`, else the KPIs.
fn print(r: &pb::GrowthReport, format: Format) {
    match format {
        Format::Md => println!("{}", r.report_markdown),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report_json(r)).unwrap_or_default()
        ),
        Format::Table | Format::Csv => {
            println!("{} (revision {}, {})", r.week, r.revision, r.time_zone);
            println!("{}\n", r.summary_markdown);
            let mut table = output::table(["KPI", "this week", "last week", "change"]);
            for k in &r.kpis {
                table.add_row(vec![
                    k.label.clone(),
                    kpi_value(k, k.value),
                    kpi_value(k, k.previous),
                    k.change.map_or("n/a".into(), percent),
                ]);
            }
            println!("{table}");
            println!(
                "{} anomalies, {} insights; `--format md` prints the whole report",
                r.anomalies.len(),
                r.insights.len()
            );
        }
    }
}

/// Runs an `insights` subcommand.
pub async fn run(
    target: &Target,
    command: &InsightsCommand,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let mut client = target.metrics().await?;
    match command {
        InsightsCommand::Weekly(args) => {
            let report = client
                .generate_growth_insights(pb::GenerateGrowthInsightsRequest {
                    week: args.week.clone().unwrap_or_default(),
                    use_llm: !args.no_ai,
                    notify: args.notify,
                })
                .await?
                .into_inner()
                .report
                .context("the service returned no report")?;
            if let Some(path) = &args.output {
                let text = match format {
                    Format::Json => serde_json::to_string_pretty(&report_json(&report))?,
                    _ => report.report_markdown.clone(),
                };
                std::fs::write(path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                eprintln!("report written to {}", path.display());
            }
            let ai = report.ai.clone().unwrap_or_default();
            if ai.status != AiStatus::Used as i32 {
                eprintln!(
                    "the summary is rule-based: the AI part was {} ({})",
                    name(
                        AiStatus::try_from(ai.status)
                            .unwrap_or(AiStatus::Unspecified)
                            .as_str_name(),
                        "AI_STATUS_"
                    ),
                    ai.reason
                );
            }
            print(&report, format);
            Ok(ExitCode::SUCCESS)
        }
        InsightsCommand::Show { week, revision } => {
            let report = client
                .get_growth_report(pb::GetGrowthReportRequest {
                    week: week.clone().unwrap_or_default(),
                    revision: revision.map_or(0, |r| i32::try_from(r).unwrap_or(i32::MAX)),
                })
                .await?
                .into_inner()
                .report
                .context("the service returned no report")?;
            print(&report, format);
            Ok(ExitCode::SUCCESS)
        }
        InsightsCommand::Active(args) => {
            let output = crate::cohorts::names::output_for(args.output, format);
            active::run(&mut client, args, output).await?;
            Ok(ExitCode::SUCCESS)
        }
        InsightsCommand::List { week, limit } => {
            let reports = client
                .list_growth_reports(pb::ListGrowthReportsRequest {
                    week: week.clone().unwrap_or_default(),
                    page: Some(growth_proto::common::v1::PageRequest {
                        page_size: *limit,
                        page_token: String::new(),
                    }),
                })
                .await?
                .into_inner()
                .reports;
            output::emit(
                format,
                Value::Array(reports.iter().map(report_json).collect()),
                || {
                    let mut table =
                        output::table(["week", "revision", "generated", "summary", "AI"]);
                    for r in &reports {
                        let ai = r.ai.clone().unwrap_or_default();
                        table.add_row(vec![
                            r.week.clone(),
                            r.revision.to_string(),
                            output::time(r.generated_at.as_ref()).unwrap_or_default(),
                            if r.summary_source == pb::SummarySource::Llm as i32 {
                                "llm".into()
                            } else {
                                "rules".into()
                            },
                            AiStatus::try_from(ai.status)
                                .map_or("unknown".into(), |s| name(s.as_str_name(), "AI_STATUS_")),
                        ]);
                    }
                    table
                },
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
