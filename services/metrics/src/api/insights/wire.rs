//! The weekly report onto the wire (`GrowthReport` and its parts).

use growth_proto::metrics::v1 as pb;
use growth_proto::timestamp::from_utc;

use crate::insights::anomaly::{Level, Method};
use crate::insights::document::{Document, Source};
use crate::insights::kpi::{Kpi, Unit};
use crate::insights::rules::{Audit, Kind};
use crate::repo::reports::Revision;

fn kpi(k: &Kpi) -> pb::Kpi {
    pb::Kpi {
        name: k.series.name.clone(),
        value: k.value,
        previous: k.previous,
        change: k.change,
        currency: k.series.currency.clone(),
        label: k.series.label.clone(),
        unit: match k.series.unit {
            Unit::Count => pb::KpiUnit::Count,
            Unit::Ratio => pb::KpiUnit::Ratio,
            Unit::MoneyMinor => pb::KpiUnit::MoneyMinor,
        } as i32,
        trend_4w: k.trend_4w,
        history: k.history.clone(),
        higher_is_better: k.series.higher_is_better,
    }
}

/// The report as the wire's message, with `revision`'s identity and the
/// rendered `markdown`.
pub fn report(d: &Document, revision: &Revision, markdown: String) -> pb::GrowthReport {
    let c = &d.computed;
    pb::GrowthReport {
        report_id: revision.report_id.to_string(),
        week: d.week.label(),
        kpis: c.kpis.iter().map(kpi).collect(),
        anomalies: c
            .anomalies
            .iter()
            .map(|f| pb::Anomaly {
                kpi: f.series.clone(),
                description: f.description(),
                severity: match f.anomaly.level {
                    Level::Warning => pb::Severity::Warning,
                    Level::Critical => pb::Severity::Critical,
                } as i32,
                at: f.at.clone(),
                value: f.anomaly.value,
                baseline: f.anomaly.baseline,
                method: match f.anomaly.method {
                    Method::RobustZ => pb::AnomalyMethod::RobustZ,
                    Method::RobustZSameWeekday => pb::AnomalyMethod::RobustZSameWeekday,
                    Method::FlatLine => pb::AnomalyMethod::FlatLine,
                } as i32,
                score: f.anomaly.score,
                baseline_points: i32::try_from(f.anomaly.points).unwrap_or(i32::MAX),
            })
            .collect(),
        stages: d
            .stages
            .as_ref()
            .map(|s| {
                s.iter()
                    .map(|(stage, users)| pb::StageCount {
                        stage: stage.clone(),
                        users: *users,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        summary_markdown: d.summary.clone(),
        summary_source: match d.source {
            Source::Rules => pb::SummarySource::Rules,
            Source::Llm => pb::SummarySource::Llm,
        } as i32,
        generated_at: Some(from_utc(revision.generated_at)),
        revision: revision.revision,
        time_zone: d.time_zone.clone(),
        week_start: None,
        week_end: None,
        insights: c
            .insights
            .iter()
            .map(|i| pb::Insight {
                kind: match i.kind {
                    Kind::Driver => pb::InsightKind::Driver,
                    Kind::Bottleneck => pb::InsightKind::Bottleneck,
                    Kind::Recommendation => pb::InsightKind::Recommendation,
                } as i32,
                rule: i.rule.to_owned(),
                text: i.text.clone(),
                kpis: i.kpis.clone(),
            })
            .collect(),
        mrr: c
            .mrr
            .iter()
            .map(|t| {
                let money = c.money.iter().find(|m| m.currency == t.currency);
                let (gross, refunds) = money.map_or((0, 0), |m| (m.gross, m.refunds));
                let lost = t.contraction + t.churned;
                pb::WeeklyMrr {
                    currency: t.currency.clone(),
                    mrr_at_start_minor: t.mrr_start,
                    mrr_minor: t.mrr_end,
                    arr_minor: t.mrr_end.saturating_mul(12),
                    new_minor: t.new,
                    expansion_minor: t.expansion,
                    contraction_minor: t.contraction,
                    churned_minor: t.churned,
                    reactivation_minor: t.reactivation,
                    quick_ratio: (lost > 0)
                        .then(|| (t.new + t.expansion + t.reactivation) as f64 / lost as f64),
                    arpa_minor: if t.customers > 0 {
                        t.mrr_end as f64 / t.customers as f64
                    } else {
                        0.0
                    },
                    gross_revenue_minor: gross,
                    refunds_minor: refunds,
                    refund_share: (gross > 0).then(|| refunds as f64 / gross as f64),
                }
            })
            .collect(),
        plans: d
            .plans
            .iter()
            .map(|p| pb::PlanWeek {
                plan: p.plan.clone(),
                currency: p.currency.clone(),
                customers: p.customers,
                mrr_minor: p.mrr,
                new_customers: p.new_customers,
                churned_customers: p.churned_customers,
            })
            .collect(),
        audit: Some(pb::AuditStatus {
            run_id: d.audit.run_id.clone(),
            month: d.audit.month.clone(),
            verdict: match d.audit.verdict {
                Audit::Pass => pb::AuditVerdict::Pass,
                Audit::Warning => pb::AuditVerdict::Warning,
                Audit::Fail => pb::AuditVerdict::Fail,
                Audit::None | Audit::Failed => pb::AuditVerdict::Unspecified,
            } as i32,
            finished_at: d.audit.finished_at.map(from_utc),
        }),
        lifecycle_reachable: d.stages.is_ok(),
        lifecycle_error: d.stages.as_ref().err().cloned().unwrap_or_default(),
        ai: Some(pb::AiPart::from(&d.ai)),
        report_markdown: markdown,
    }
}

/// A report as lists show it: without its heavy parts.
pub fn header(mut r: pb::GrowthReport) -> pb::GrowthReport {
    r.kpis.clear();
    r.anomalies.clear();
    r.insights.clear();
    r.mrr.clear();
    r.plans.clear();
    r.report_markdown.clear();
    r
}
