//! `RunRevenueAudit`, `GetAuditRun` and `ListAuditRuns`: months and run ids
//! validated, the audit run or its stored runs read, and the runs put onto
//! the wire (`wire`).

pub mod wire;

use chrono::Utc;
use growth_proto::metrics::v1 as pb;
use growth_proto::paging::Page;
use uuid::Uuid;

use crate::audit::month::Month;
use crate::audit::record::AuditRecord;
use crate::audit::run;
use crate::error::MetricsError;
use crate::repo;
use crate::state::Metrics;

/// `RunRevenueAudit`.
pub async fn run_audit(
    state: &Metrics,
    r: pb::RunRevenueAuditRequest,
) -> Result<pb::RunRevenueAuditResponse, MetricsError> {
    let month = Month::parse_required("month", &r.month, Utc::now())
        .map_err(|v| MetricsError::Invalid(vec![v]))?;
    let run = run::run(state, month, r.repair, r.dry_run).await?;
    Ok(pb::RunRevenueAuditResponse {
        run: Some(run.into()),
    })
}

/// `GetAuditRun`: one stored run with its findings.
pub async fn get_run(
    state: &Metrics,
    r: pb::GetAuditRunRequest,
) -> Result<pb::GetAuditRunResponse, MetricsError> {
    let id = &r.run_id;
    let run_id = Uuid::parse_str(id)
        .map_err(|_| MetricsError::invalid("run_id", format!("{id:?} is not a run id (a UUID)")))?;
    let row = repo::audit::get(&state.pool, run_id)
        .await?
        .ok_or_else(|| MetricsError::NotFound(format!("no audit run with id {run_id}")))?;
    let findings = repo::audit::findings(&state.pool, run_id).await?;
    Ok(pb::GetAuditRunResponse {
        run: Some(AuditRecord::from_row(row, findings, true).into()),
    })
}

/// `ListAuditRuns`: stored runs, newest first.
pub async fn list_runs(
    state: &Metrics,
    r: pb::ListAuditRunsRequest,
) -> Result<pb::ListAuditRunsResponse, MetricsError> {
    let month = match r.month.trim() {
        "" => None,
        text => Some(
            Month::parse("month", text, Utc::now()).map_err(|v| MetricsError::Invalid(vec![v]))?,
        ),
    };
    let page = Page::read(r.page.as_ref())?;
    let offset = page.offset()?;
    let month = month.map(|m| m.to_string());
    let rows = repo::audit::list(&state.pool, month.as_deref(), page.size + 1, offset).await?;
    let more = rows.len() as i64 > page.size;
    Ok(pb::ListAuditRunsResponse {
        runs: rows
            .into_iter()
            .take(page.size as usize)
            .map(|row| AuditRecord::from_row(row, vec![], false).into())
            .collect(),
        next_page_token: page.next_offset(offset, more),
    })
}
