//! `GET /dashboard/overview`: the KPIs at a glance, each panel read through
//! the function its RPC calls, all of them at once (`tokio::join!`: the
//! page takes its slowest read, not their sum):
//!
//! - revenue: `api::revenue::summary` (`GetRevenueSummary`) over the window
//!   of `months` (default 12) ending with this month;
//! - active users: `api::active_users::get` (`GetActiveUsers`) for the 90
//!   days to yesterday, the latest complete day;
//!   (these two and the funnel scan every stored row, or every user of the
//!   window, so their answers are remembered for a minute: `super::memo`)
//! - the trial funnel per month of the window: `repo::insights::trials`,
//!   the read behind the weekly report's `trial_conversion`;
//! - the latest stored weekly report: `api::insights::report`
//!   (`GetGrowthReport`; the page never generates one);
//! - the audit: `api::audit::list_runs` (`ListAuditRuns`) for each month of
//!   the window, and `api::audit::get_run` (`GetAuditRun`) for the latest
//!   run's report;
//! - the lifecycle stages: `crate::lifecycle` (`GetStageDistribution`), a
//!   sentence instead when it is not configured or does not answer.

pub mod params;

use std::time::Duration;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use growth_proto::common::v1::{DateRange, PageRequest};
use growth_proto::metrics::v1 as pb;

use super::auth::SignedIn;
use super::memo::Memo;
use super::timing::Timings;
use super::view::markdown::{self, Block};
use super::view::panels::{self, Active, AuditRow, FunnelRow, Revenue};
use super::{Dashboard, pages};
use crate::api;
use crate::error::MetricsError;
use crate::repo;
use crate::revenue::month;
use crate::state::Metrics;

/// Days of the active-users chart.
pub const ACTIVE_DAYS: u64 = 90;
/// How long the page waits for the lifecycle service.
pub const LIFECYCLE_DEADLINE: Duration = Duration::from_secs(1);

/// The slow reads' remembered answers (see `super::memo`).
#[derive(Clone)]
pub struct Memos {
    /// `GetRevenueSummary` by first and last month.
    revenue: Memo<(String, String), pb::GetRevenueSummaryResponse>,
    /// `GetActiveUsers` by last day.
    active: Memo<NaiveDate, pb::GetActiveUsersResponse>,
    /// The trials per month, by the months' bounds.
    trials: Memo<Vec<NaiveDate>, Vec<(i64, i64)>>,
}

impl Memos {
    /// Answers shown for `fresh` before they are read again.
    pub fn new(fresh: Duration) -> Self {
        Self {
            revenue: Memo::new(fresh),
            active: Memo::new(fresh),
            trials: Memo::new(fresh),
        }
    }
}

/// The latest weekly report, as shown.
pub struct Weekly {
    /// `YYYY-Www`.
    pub week: String,
    /// Revision and when it was generated.
    pub generated: String,
    /// The summary, rendered.
    pub summary: Vec<Block>,
    /// (severity, description) of each anomaly.
    pub anomalies: Vec<(String, String)>,
}

/// The latest audit run's report.
pub struct LatestRun {
    /// `YYYY-MM`.
    pub month: String,
    /// Its verdict or status.
    pub verdict: String,
    /// The report, rendered (empty while running).
    pub report: Vec<Block>,
    /// Why it failed, when it did.
    pub error: String,
}

#[derive(Template)]
#[template(path = "dashboard/overview.html")]
struct OverviewPage {
    months: u32,
    window: String,
    time_zone: String,
    revenue_read_at: String,
    active_read_at: String,
    trials_read_at: String,
    revenue: Revenue,
    active: Option<Active>,
    funnel: Vec<FunnelRow>,
    funnel_total: FunnelRow,
    weekly: Option<Weekly>,
    audits: Vec<AuditRow>,
    latest_run: Option<LatestRun>,
    stages: Result<Vec<(String, i64)>, String>,
}

/// What the page reads, before it is shown.
struct Reads {
    revenue: (pb::GetRevenueSummaryResponse, DateTime<Utc>),
    active: (pb::GetActiveUsersResponse, DateTime<Utc>),
    trials: (Vec<(i64, i64)>, DateTime<Utc>),
    report: Option<pb::GrowthReport>,
    audits: Vec<(String, Option<pb::AuditRun>)>,
    latest_run: Option<pb::AuditRun>,
}

/// The first days of the `n` months ending with `today`'s.
fn window(today: NaiveDate, n: u32) -> Vec<NaiveDate> {
    let this = today.with_day(1).unwrap_or(today);
    (0..n)
        .rev()
        .filter_map(|back| this.checked_sub_months(Months::new(back)))
        .collect()
}

fn not_found_is_none<T>(r: Result<T, MetricsError>) -> Result<Option<T>, MetricsError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(MetricsError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

fn page_of(size: i32) -> Option<PageRequest> {
    Some(PageRequest {
        page_size: size,
        page_token: String::new(),
    })
}

/// The latest run of `month`, through `ListAuditRuns`.
async fn latest_of(state: &Metrics, month: String) -> Result<Option<pb::AuditRun>, MetricsError> {
    let r = pb::ListAuditRunsRequest {
        month,
        page: page_of(1),
    };
    Ok(api::audit::list_runs(state, r)
        .await?
        .runs
        .into_iter()
        .next())
}

/// Every read of the page, concurrently.
async fn read(
    state: &Metrics,
    memos: &Memos,
    months: &[NaiveDate],
    today: NaiveDate,
    t: &Timings,
) -> Result<Reads, MetricsError> {
    let labels: Vec<String> = months.iter().map(|m| month::label(*m)).collect();
    let yesterday = today.pred_opt().unwrap_or(today);
    let first_day = yesterday - chrono::Days::new(ACTIVE_DAYS - 1);
    let bounds = month::bounds(months);
    let tz = state.reporting.time_zone.as_str();
    let (month_from, month_to) = (
        labels.first().cloned().unwrap_or_default(),
        labels.last().cloned().unwrap_or_default(),
    );
    let revenue = memos
        .revenue
        .get((month_from.clone(), month_to.clone()), || {
            let (state, r) = (
                state.clone(),
                pb::GetRevenueSummaryRequest {
                    month_from,
                    month_to,
                },
            );
            async move { api::revenue::summary(&state, r).await }
        });
    let active = memos.active.get(yesterday, || {
        let state = state.clone();
        let r = pb::GetActiveUsersRequest {
            days: Some(DateRange {
                from: first_day.to_string(),
                to: yesterday.to_string(),
            }),
        };
        async move { api::active_users::get(&state, r).await }
    });
    let trials = memos.trials.get(bounds.clone(), || {
        let (state, tz) = (state.clone(), tz.to_owned());
        async move { Ok(repo::insights::trials(&state.pool, &bounds, &tz).await?) }
    });
    let report = async {
        let latest = pb::GetGrowthReportRequest::default();
        not_found_is_none(api::insights::report(state, latest).await)
    };
    let audits = futures::future::try_join_all(labels.iter().rev().map(|m| async move {
        Ok::<_, MetricsError>((m.clone(), latest_of(state, m.clone()).await?))
    }));
    let latest_run = async {
        let Some(run) = latest_of(state, String::new()).await? else {
            return Ok(None);
        };
        let r = pb::GetAuditRunRequest { run_id: run.run_id };
        Ok::<_, MetricsError>(
            not_found_is_none(api::audit::get_run(state, r).await)?.and_then(|r| r.run),
        )
    };
    let (revenue, active, trials, report, audits, latest_run) = tokio::try_join!(
        t.time("revenue", revenue),
        t.time("active", active),
        t.time("funnel", trials),
        t.time("report", report),
        t.time("audits", audits),
        t.time("latest-run", latest_run)
    )?;
    Ok(Reads {
        revenue,
        active,
        trials,
        report: report.and_then(|r| r.report),
        audits,
        latest_run,
    })
}

/// The stage distribution now, or why there is none.
async fn stages(state: &Metrics) -> Result<Vec<(String, i64)>, String> {
    match &state.lifecycle {
        None => Err("LIFECYCLE_ADDR is not set on the metrics service".to_owned()),
        Some(lifecycle) => {
            lifecycle
                .stages_within(chrono::Utc::now(), LIFECYCLE_DEADLINE)
                .await
        }
    }
}

/// The page.
pub async fn page(State(d): State<Dashboard>, _: SignedIn, RawQuery(query): RawQuery) -> Response {
    let q = match params::overview(query.as_deref().unwrap_or_default()) {
        Ok(q) => q,
        Err(bad) => return pages::bad_request(&bad),
    };
    let state = &d.state;
    let today = match repo::reporting::today(&state.pool, &state.reporting.time_zone).await {
        Ok(t) => t,
        Err(e) => return pages::failure(MetricsError::Database(e)),
    };
    let months = window(today, q.months);
    let t = Timings::default();
    let reads = read(state, &d.overview, &months, today, &t);
    let (reads, stages) = tokio::join!(reads, t.time("stages", stages(state)));
    let reads = match reads {
        Ok(r) => r,
        Err(e) => return pages::failure(e),
    };
    let mut page = pages::html(
        StatusCode::OK,
        &view(q.months, &months, reads, stages, state),
    );
    if let Some(timings) = t.header() {
        page.headers_mut().insert("server-timing", timings);
    }
    page
}

fn view(
    n: u32,
    months: &[NaiveDate],
    reads: Reads,
    stages: Result<Vec<(String, i64)>, String>,
    state: &Metrics,
) -> OverviewPage {
    let labels: Vec<String> = months.iter().map(|m| month::label(*m)).collect();
    let (funnel, funnel_total) = panels::funnel(&labels, &reads.trials.0);
    let weekly = reads.report.map(|r| Weekly {
        generated: format!(
            "revision {}, generated {}",
            r.revision,
            growth_proto::timestamp::rfc3339(r.generated_at.as_ref()).unwrap_or_default()
        ),
        summary: markdown::blocks(&r.summary_markdown),
        anomalies: r
            .anomalies
            .iter()
            .map(|a| {
                let severity = pb::Severity::try_from(a.severity)
                    .map(|s| {
                        s.as_str_name()
                            .trim_start_matches("SEVERITY_")
                            .to_ascii_lowercase()
                    })
                    .unwrap_or_default();
                (severity, a.description.clone())
            })
            .collect(),
        week: r.week,
    });
    let latest_run = reads.latest_run.map(|run| LatestRun {
        verdict: panels::verdict(&run).0,
        report: markdown::blocks(&run.report_markdown),
        error: run.error.clone(),
        month: run.month,
    });
    OverviewPage {
        months: n,
        window: format!(
            "{} to {}",
            labels.first().cloned().unwrap_or_default(),
            labels.last().cloned().unwrap_or_default()
        ),
        time_zone: state.reporting.time_zone.clone(),
        revenue_read_at: reads.revenue.1.format("%H:%M:%S UTC").to_string(),
        active_read_at: reads.active.1.format("%H:%M:%S UTC").to_string(),
        trials_read_at: reads.trials.1.format("%H:%M:%S UTC").to_string(),
        revenue: panels::revenue(&reads.revenue.0),
        active: panels::active(&reads.active.0),
        funnel,
        funnel_total,
        weekly,
        audits: panels::audits(&reads.audits),
        latest_run,
        stages,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_ends_with_this_month() {
        let today = NaiveDate::from_ymd_opt(2026, 2, 14).expect("valid");
        let w: Vec<String> = window(today, 3).iter().map(|m| month::label(*m)).collect();
        assert_eq!(w, ["2025-12", "2026-01", "2026-02"]);
    }
}
