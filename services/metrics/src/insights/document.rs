//! The whole weekly report as stored and shown: the computed part, what
//! came from elsewhere (plans, the audit, lifecycle's stages), the summary
//! and the AI part's status; rendered as markdown with the old report's
//! sections. Pure.

use std::fmt::Write as _;

use growth_proto::money::{percent, with_currency};

use super::ai::AiOutcome;
use super::kpi::{Kpi, Unit};
use super::report::{Computed, PlanWeek};
use super::rules::{Audit, Insight, Kind};
use super::week::Week;

/// Who wrote the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The rules.
    Rules,
    /// The LLM.
    Llm,
}

/// The month's latest audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditLine {
    /// The month, "YYYY-MM".
    pub month: String,
    /// Its verdict as the rules see it.
    pub verdict: Audit,
    /// The run, if any.
    pub run_id: String,
    /// When it finished.
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A weekly report.
#[derive(Debug, Clone)]
pub struct Document {
    /// The week.
    pub week: Week,
    /// The reporting time zone.
    pub time_zone: String,
    /// KPIs, anomalies, insights, the week's MRR and money.
    pub computed: Computed,
    /// The per-plan table.
    pub plans: Vec<PlanWeek>,
    /// Lifecycle's stage distribution, or why it is missing.
    pub stages: Result<Vec<(String, i64)>, String>,
    /// The month's latest audit.
    pub audit: AuditLine,
    /// The summary, markdown.
    pub summary: String,
    /// Who wrote it.
    pub source: Source,
    /// The AI part.
    pub ai: AiOutcome,
}

/// A KPI's value as people read it.
pub fn value(k: &Kpi, x: f64) -> String {
    match k.series.unit {
        Unit::Count => format!("{x:.0}"),
        Unit::Ratio => percent(x),
        Unit::MoneyMinor => with_currency(x.round() as i64, &k.series.currency),
    }
}

fn change(ratio: Option<f64>) -> String {
    ratio.map_or_else(
        || "n/a".to_owned(),
        |r| format!("{}{}", if r >= 0.0 { "+" } else { "" }, percent(r)),
    )
}

/// The rule-based summary: the headline KPIs, the first driver and
/// bottleneck, and how many anomalies.
pub fn rule_summary(week: Week, computed: &Computed) -> String {
    let mut parts = Vec::new();
    for k in &computed.kpis {
        if ["wau", "signups"].contains(&k.series.name.as_str()) || k.series.name.starts_with("mrr_")
        {
            parts.push(format!(
                "{} {} ({})",
                k.series.label.to_lowercase(),
                value(k, k.value),
                change(k.change)
            ));
        }
    }
    let mut out = format!("Week {}: {}.", week.label(), parts.join(", "));
    for kind in [Kind::Driver, Kind::Bottleneck] {
        if let Some(i) = computed.insights.iter().find(|i| i.kind == kind) {
            out.push(' ');
            out.push_str(&i.text);
        }
    }
    match computed.anomalies.len() {
        0 => out.push_str(" No anomalies."),
        1 => out.push_str(" One anomaly (below)."),
        n => {
            let _ = write!(out, " {n} anomalies (below).");
        }
    }
    out
}

fn insights(out: &mut String, title: &str, insights: &[&Insight]) {
    let _ = writeln!(out, "\n## {title}\n");
    if insights.is_empty() {
        out.push_str("None this week.\n");
    }
    for i in insights {
        let _ = writeln!(out, "- {}", i.text);
    }
}

/// The report as markdown.
pub fn markdown(d: &Document, revision: i32, generated_at: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Weekly growth report {}\n", d.week.label());
    let _ = writeln!(
        out,
        "{} to {} ({}), revision {revision}, generated {generated_at}.",
        d.week.monday,
        d.week.sunday(),
        d.time_zone
    );
    let _ = writeln!(out, "\n## Summary\n\n{}", d.summary.trim());
    out.push_str("\n## KPIs\n\n| KPI | this week | last week | change | 4-week trend |\n|---|---:|---:|---:|---:|\n");
    for k in &d.computed.kpis {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            k.series.label,
            value(k, k.value),
            value(k, k.previous),
            change(k.change),
            k.trend_4w
                .map_or("n/a".to_owned(), |t| format!("{} a week", change(Some(t))))
        );
    }
    if !d.computed.mrr.is_empty() {
        out.push_str("\n## MRR\n\n| currency | start | end | new | expansion | contraction | churned | reactivation | quick ratio |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for t in &d.computed.mrr {
            let c = t.currency.as_str();
            let lost = t.contraction + t.churned;
            let quick = if lost == 0 {
                "n/a".to_owned()
            } else {
                format!(
                    "{:.2}",
                    (t.new + t.expansion + t.reactivation) as f64 / lost as f64
                )
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {quick} |",
                c.to_ascii_uppercase(),
                with_currency(t.mrr_start, c),
                with_currency(t.mrr_end, c),
                with_currency(t.new, c),
                with_currency(t.expansion, c),
                with_currency(t.contraction, c),
                with_currency(t.churned, c),
                with_currency(t.reactivation, c),
            );
        }
    }
    let of = |kind: Kind| -> Vec<&Insight> {
        d.computed
            .insights
            .iter()
            .filter(|i| i.kind == kind)
            .collect()
    };
    insights(&mut out, "Drivers", &of(Kind::Driver));
    insights(&mut out, "Bottlenecks", &of(Kind::Bottleneck));
    out.push_str("\n## Anomalies\n\n");
    if d.computed.anomalies.is_empty() {
        out.push_str("None: every series within its usual range.\n");
    }
    for a in &d.computed.anomalies {
        let _ = writeln!(out, "- {}", a.description());
    }
    insights(&mut out, "Recommendations", &of(Kind::Recommendation));
    if !d.plans.is_empty() {
        out.push_str(
            "\n## Plans\n\n| plan | customers | MRR | new | churned |\n|---|---:|---:|---:|---:|\n",
        );
        for p in &d.plans {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                p.plan,
                p.customers,
                with_currency(p.mrr, &p.currency),
                p.new_customers,
                p.churned_customers
            );
        }
    }
    out.push_str("\n## Lifecycle stages\n\n");
    match &d.stages {
        Ok(stages) => {
            for (stage, users) in stages {
                let _ = writeln!(out, "- {stage}: {users}");
            }
        }
        Err(why) => {
            let _ = writeln!(out, "Not available: {why}.");
        }
    }
    let verdict = match d.audit.verdict {
        Audit::None => "not audited yet".to_owned(),
        Audit::Pass => "PASS".to_owned(),
        Audit::Warning => "WARNING".to_owned(),
        Audit::Fail => "FAIL".to_owned(),
        Audit::Failed => "the latest run failed".to_owned(),
    };
    let _ = writeln!(out, "\n## Revenue audit\n\n{}: {verdict}.", d.audit.month);
    let ai = match &d.ai {
        AiOutcome::Used {
            model,
            prompt_version,
            input_tokens,
            output_tokens,
            ..
        } => format!(
            "written by {model} (prompt {prompt_version}, {input_tokens} tokens in, {output_tokens} out)"
        ),
        AiOutcome::Skipped { reason } => format!("rule-based (AI skipped: {reason})"),
        AiOutcome::Failed { reason, .. } => format!("rule-based (AI failed: {reason})"),
    };
    let _ = writeln!(out, "\n---\nSummary {ai}.");
    out
}

/// The summary the LLM wrote, with its highlights and recommendations.
pub fn llm_summary(summary: &str, highlights: &[String], recommendations: &[String]) -> String {
    let mut out = summary.trim().to_owned();
    for (title, items) in [("Highlights", highlights), ("Recommended", recommendations)] {
        if !items.is_empty() {
            let _ = write!(out, "\n\n**{title}**\n");
            for item in items {
                let _ = write!(out, "\n- {item}");
            }
        }
    }
    out
}
