//! An audit run as the API returns it: fresh from `run`, or read back from
//! its stored row.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::findings::Finding;
use super::missed::ReplayedEvent;
use super::reconcile::CurrencyTotals;
use super::verdict::Verdict;
use crate::repo::audit::RunRow;

/// A run as the API returns it, fresh or read back.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    /// Id (a dry run's is not stored).
    pub run_id: Uuid,
    /// `YYYY-MM`.
    pub month: String,
    /// `running`, `completed` or `failed`.
    pub status: String,
    /// The verdict, once completed.
    pub verdict: Option<Verdict>,
    /// Whether a repair was asked for.
    pub repair: bool,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End.
    pub finished_at: Option<DateTime<Utc>>,
    /// Totals per currency.
    pub totals: Vec<CurrencyTotals>,
    /// Findings (empty in lists).
    pub findings: Vec<Finding>,
    /// Number of findings.
    pub finding_count: i64,
    /// Recommendations.
    pub recommendations: Vec<String>,
    /// Stripe ids backfilled.
    pub repaired: Option<Vec<String>>,
    /// Missed webhook events replayed (or, in a dry run, to be).
    pub replayed_events: Vec<ReplayedEvent>,
    /// Entitlement drift repaired (or, in a dry run, to be).
    pub drift_repairs: Vec<String>,
    /// The markdown report (empty in lists).
    pub report_markdown: String,
    /// Why the run failed.
    pub error: Option<String>,
}

impl AuditRecord {
    /// A run just started: nothing concluded yet.
    pub fn started(
        run_id: Uuid,
        month: String,
        repair: bool,
        dry_run: bool,
        started_at: DateTime<Utc>,
    ) -> Self {
        Self {
            run_id,
            month,
            status: "running".into(),
            verdict: None,
            repair,
            dry_run,
            started_at,
            finished_at: None,
            totals: vec![],
            findings: vec![],
            finding_count: 0,
            recommendations: vec![],
            repaired: None,
            replayed_events: vec![],
            drift_repairs: vec![],
            report_markdown: String::new(),
            error: None,
        }
    }

    /// A stored run, with `findings` when read in full.
    pub fn from_row(row: RunRow, findings: Vec<Finding>, full: bool) -> Self {
        let summary = row.repair_summary.map(|j| j.0);
        Self {
            run_id: row.run_id,
            month: row.month,
            status: row.status,
            verdict: row.verdict.as_deref().and_then(Verdict::parse),
            repair: row.repair,
            dry_run: false,
            started_at: row.started_at,
            finished_at: row.finished_at,
            totals: row.totals.0,
            findings,
            finding_count: row.finding_count,
            recommendations: row.recommendations.0,
            repaired: summary.as_ref().map(|s| s.backfilled.clone()),
            replayed_events: summary
                .as_ref()
                .map(|s| s.replayed_events.clone())
                .unwrap_or_default(),
            drift_repairs: summary.map(|s| s.drift_repairs).unwrap_or_default(),
            report_markdown: if full {
                row.report_markdown
            } else {
                String::new()
            },
            error: row.error,
        }
    }
}
