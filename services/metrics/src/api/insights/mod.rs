//! The weekly growth insights' RPCs: `GenerateGrowthInsights` gathers the
//! week's inputs (revenue at week boundaries, active users, signups,
//! trials, plans, the month's audit), computes the report
//! (`crate::insights`), stores it as the week's next revision and queues its
//! Slack post; `GetGrowthReport` and `ListGrowthReports` read them back.

pub mod wire;

use chrono::NaiveDate;
use growth_proto::metrics::v1 as pb;
use growth_proto::paging::Page;
use prost::Message as _;

use crate::active::series::Series;
use crate::api::today;
use crate::error::MetricsError;
use crate::insights::ai::{self, AiInput, AiKpi, AiOutcome};
use crate::insights::document::{AuditLine, Document, Source, llm_summary, markdown, rule_summary};
use crate::insights::report::{self, Inputs, WEEKS};
use crate::insights::rules::Audit;
use crate::insights::week::Week;
use crate::repo;
use crate::repo::insights::LatestAudit;
use crate::repo::reports::{Columns, Post};
use crate::state::Metrics;

/// `week` over by `today`, as `INVALID_ARGUMENT` naming the field when not.
fn parse_week(text: &str, today: NaiveDate) -> Result<Week, MetricsError> {
    Week::parse("week", text, today).map_err(|reason| {
        let (field, why) = reason.split_once(": ").unwrap_or(("week", &reason));
        MetricsError::invalid(field, why.to_owned())
    })
}

/// The week to generate: the last complete one when empty.
fn week(text: &str, today: NaiveDate) -> Result<Week, MetricsError> {
    if text.trim().is_empty() {
        return Ok(Week::last_complete(today));
    }
    parse_week(text, today)
}

/// The week a stored report is asked for (any week: stored ones are over);
/// `None` when empty.
fn stored_week(text: &str) -> Result<Option<Week>, MetricsError> {
    match text.trim() {
        "" => Ok(None),
        t => parse_week(t, NaiveDate::MAX).map(Some),
    }
}

/// The month a week's audit is read from: the month its Sunday is in.
fn month(week: Week) -> String {
    week.sunday().format("%Y-%m").to_string()
}

/// The rules' view of an audit run.
fn verdict(latest: Option<&LatestAudit>) -> Audit {
    match latest.map(|a| (a.status.as_str(), a.verdict.as_deref())) {
        None => Audit::None,
        Some(("completed", Some("PASS"))) => Audit::Pass,
        Some(("completed", Some("WARNING"))) => Audit::Warning,
        Some(("completed", Some("FAIL"))) => Audit::Fail,
        Some(_) => Audit::Failed,
    }
}

/// The week's inputs from the database, read concurrently (each on its own
/// connection: the report's time is its slowest read, not their sum); the
/// month's latest audit run is returned beside them.
async fn inputs(
    state: &Metrics,
    week: Week,
) -> Result<(Inputs, Option<LatestAudit>), MetricsError> {
    let (pool, tz) = (&state.pool, state.reporting.time_zone.as_str());
    let first = week.previous(WEEKS as i64 - 1);
    let bounds: Vec<NaiveDate> = (0..=WEEKS as i64)
        .map(|i| first.monday + chrono::Duration::weeks(i))
        .collect();
    let days = async {
        // Activity still pending is not in the stored years yet.
        repo::cohorts::fold::fold(pool).await?;
        let mut series = Series::new(first.monday, week.sunday());
        let look_from = series.look_from();
        repo::active_years::each_user(pool, look_from, week.sunday(), |u| series.add(&u)).await?;
        Ok::<_, MetricsError>(series.finish())
    };
    let (days, signups, trials, mrr, money, latest) = tokio::try_join!(
        days,
        async { Ok(repo::insights::signups(pool, &bounds, tz).await?) },
        async { Ok(repo::insights::trials(pool, &bounds, tz).await?) },
        async { Ok(repo::revenue::totals(pool, &bounds, tz).await?) },
        async { Ok(repo::revenue::money(pool, &bounds, tz).await?) },
        async { Ok(repo::insights::latest_audit(pool, &month(week)).await?) },
    )?;
    let inputs = Inputs {
        days,
        signups,
        trials,
        mrr,
        money,
        audit: verdict(latest.as_ref()),
        audit_month: month(week),
        lifecycle_reachable: false,
    };
    Ok((inputs, latest))
}

/// `GenerateGrowthInsights`.
pub async fn generate(
    state: &Metrics,
    r: pb::GenerateGrowthInsightsRequest,
) -> Result<pb::GenerateGrowthInsightsResponse, MetricsError> {
    let (week, _) = today::parse(state, |today| week(&r.week, today)).await?;
    let (pool, tz) = (&state.pool, state.reporting.time_zone.as_str());
    let starts = repo::reporting::day_starts(pool, &[week.monday, week.end()], tz).await?;
    let stages = async {
        match (&state.lifecycle, starts.get(1)) {
            (None, _) => {
                Err("LIFECYCLE_ADDR is not set, so the lifecycle service was not asked".into())
            }
            (Some(lifecycle), end) => {
                let as_of = end
                    .copied()
                    .unwrap_or_else(chrono::Utc::now)
                    .min(chrono::Utc::now());
                lifecycle.stages(as_of).await
            }
        }
    };
    let plans = async {
        Ok::<_, MetricsError>(repo::insights::plans(pool, [week.monday, week.end()], tz).await?)
    };
    let (stages, read, plans) = tokio::join!(stages, inputs(state, week), plans);
    let (mut inputs, latest) = read?;
    let plans = plans?;
    inputs.lifecycle_reachable = stages.is_ok();
    let computed = report::compute(week, &inputs);
    let ai = if r.use_llm {
        let input = AiInput {
            week,
            time_zone: tz.to_owned(),
            kpis: computed.kpis.iter().map(AiKpi::from).collect(),
            insights: computed.insights.iter().map(|i| i.text.clone()).collect(),
            anomalies: computed.anomalies.iter().map(|a| a.description()).collect(),
        };
        ai::summarize(state.ai.as_ref(), &input).await
    } else {
        AiOutcome::skipped(ai::outcome::NOT_REQUESTED)
    };
    let (summary, source) = match &ai {
        AiOutcome::Used {
            summary_markdown,
            highlights,
            recommendations,
            ..
        } => (
            llm_summary(summary_markdown, highlights, recommendations),
            Source::Llm,
        ),
        _ => (rule_summary(week, &computed), Source::Rules),
    };
    if let Some(reason) = ai.reason().filter(|_| r.use_llm) {
        tracing::warn!(week = %week.label(), reason, "weekly report without its AI summary");
    }
    let ai_status = match &ai {
        AiOutcome::Used { .. } => "used",
        AiOutcome::Skipped { .. } => "skipped",
        AiOutcome::Failed { .. } => "failed",
    };
    let document = Document {
        week,
        time_zone: tz.to_owned(),
        summary,
        computed,
        plans,
        stages,
        audit: AuditLine {
            month: inputs.audit_month.clone(),
            verdict: inputs.audit,
            run_id: latest
                .as_ref()
                .map(|a| a.run_id.to_string())
                .unwrap_or_default(),
            finished_at: latest.as_ref().and_then(|a| a.finished_at),
        },
        source,
        ai,
    };
    let post = (r.notify && state.alerts.channels.contains(&"slack")).then(|| Post {
        title: format!("Weekly growth report {}", week.label()),
        body: document.summary.clone(),
    });
    let label = week.label();
    let columns = Columns {
        week: &label,
        summary_source: match source {
            Source::Rules => "rules",
            Source::Llm => "llm",
        },
        ai_status,
    };
    let mut stored = None;
    repo::reports::store(
        pool,
        columns,
        |revision| {
            let generated = revision
                .generated_at
                .format("%Y-%m-%d %H:%M UTC")
                .to_string();
            let md = markdown(&document, revision.revision, &generated);
            let mut report = wire::report(&document, revision, md.clone());
            report.week_start = starts
                .first()
                .copied()
                .map(growth_proto::timestamp::from_utc);
            report.week_end = starts
                .get(1)
                .copied()
                .map(growth_proto::timestamp::from_utc);
            let mut bytes = report.clone();
            bytes.report_markdown.clear();
            stored = Some(report);
            (bytes.encode_to_vec(), md)
        },
        post,
    )
    .await?;
    if r.notify {
        state.alerts.wake();
    }
    tracing::info!(week = %week.label(), "weekly growth report generated");
    Ok(pb::GenerateGrowthInsightsResponse { report: stored })
}

fn decode(bytes: &[u8]) -> Result<pb::GrowthReport, MetricsError> {
    pb::GrowthReport::decode(bytes)
        .map_err(|e| MetricsError::Internal(format!("a stored report does not decode: {e}")))
}

/// `GetGrowthReport`.
pub async fn report(
    state: &Metrics,
    r: pb::GetGrowthReportRequest,
) -> Result<pb::GetGrowthReportResponse, MetricsError> {
    let week = stored_week(&r.week)?;
    if r.revision < 0 {
        return Err(MetricsError::invalid(
            "revision",
            format!("must not be negative, got {}", r.revision),
        ));
    }
    let label = week.map(Week::label);
    let revision = (r.revision > 0).then_some(r.revision);
    let Some((bytes, markdown)) =
        repo::reports::get(&state.pool, label.as_deref(), revision).await?
    else {
        return Err(MetricsError::NotFound(match (&label, revision) {
            (None, _) => "no weekly report was generated yet".to_owned(),
            (Some(w), None) => format!("no report of {w}"),
            (Some(w), Some(n)) => format!("no revision {n} of {w}"),
        }));
    };
    let mut report = decode(&bytes)?;
    report.report_markdown = markdown;
    Ok(pb::GetGrowthReportResponse {
        report: Some(report),
    })
}

/// `ListGrowthReports`.
pub async fn list(
    state: &Metrics,
    r: pb::ListGrowthReportsRequest,
) -> Result<pb::ListGrowthReportsResponse, MetricsError> {
    let week = stored_week(&r.week)?.map(Week::label);
    let page = Page::read(r.page.as_ref())?;
    let offset = page.offset()?;
    let rows = repo::reports::list(&state.pool, week.as_deref(), page.size + 1, offset).await?;
    let more = rows.len() as i64 > page.size;
    Ok(pb::ListGrowthReportsResponse {
        reports: rows
            .iter()
            .take(page.size as usize)
            .map(|b| decode(b).map(wire::header))
            .collect::<Result<_, _>>()?,
        next_page_token: page.next_offset(offset, more),
    })
}
