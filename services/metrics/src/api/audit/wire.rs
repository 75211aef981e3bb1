//! Audit records on the wire (`growth.metrics.v1.AuditRun`).

use growth_proto::common::v1::Money;
use growth_proto::metrics::v1 as pb;
use growth_proto::timestamp::from_utc;

use crate::audit::findings::{Amount, Finding, Kind, Severity};
use crate::audit::missed::ReplayedEvent;
use crate::audit::month::Month;
use crate::audit::record::AuditRecord;
use crate::audit::verdict::Verdict;

fn money(amount: &Option<Amount>) -> Option<Money> {
    amount.as_ref().map(|a| Money {
        amount_minor: a.minor,
        currency: a.currency.clone(),
    })
}

fn finding(f: &Finding) -> pb::AuditFinding {
    let kind = match f.kind {
        Kind::MissingInDb => pb::FindingKind::MissingInDb,
        Kind::OrphanedInDb => pb::FindingKind::OrphanedInDb,
        Kind::AmountMismatch => pb::FindingKind::AmountMismatch,
        Kind::CurrencyMismatch => pb::FindingKind::CurrencyMismatch,
        Kind::StatusDrift => pb::FindingKind::StatusDrift,
        Kind::RefundNotRecorded => pb::FindingKind::RefundNotRecorded,
        Kind::DuplicateRows => pb::FindingKind::DuplicateRows,
        Kind::PaidNotProvisioned => pb::FindingKind::PaidNotProvisioned,
        Kind::ProvisionedNotPaid => pb::FindingKind::ProvisionedNotPaid,
        Kind::PlanMismatch => pb::FindingKind::PlanMismatch,
        Kind::DuplicateSubscriptions => pb::FindingKind::DuplicateSubscriptions,
        Kind::TrialOverrun => pb::FindingKind::TrialOverrun,
        Kind::MissedEvent => pb::FindingKind::MissedEvent,
        Kind::StaleMoneyState => pb::FindingKind::StaleMoneyState,
    };
    let severity = match f.severity {
        Severity::Info => pb::Severity::Info,
        Severity::Warning => pb::Severity::Warning,
        Severity::Critical => pb::Severity::Critical,
    };
    pb::AuditFinding {
        kind: kind as i32,
        severity: severity as i32,
        object_type: f.object_type.to_owned(),
        stripe_id: f.stripe_id.clone(),
        db_payment_ids: f.db_payment_ids.iter().map(ToString::to_string).collect(),
        reason: f.reason.clone(),
        stripe_amount: money(&f.stripe_amount),
        db_amount: money(&f.db_amount),
    }
}

fn replayed(e: &ReplayedEvent) -> pb::ReplayedEvent {
    pb::ReplayedEvent {
        event_id: e.event_id.clone(),
        r#type: e.kind.clone(),
        created_at: Some(from_utc(e.created_at)),
        outcome: e.outcome.clone(),
    }
}

impl From<AuditRecord> for pb::AuditRun {
    fn from(r: AuditRecord) -> Self {
        let status = match r.status.as_str() {
            "completed" => pb::AuditRunStatus::Completed,
            "failed" => pb::AuditRunStatus::Failed,
            _ => pb::AuditRunStatus::Running,
        };
        let verdict = match r.verdict {
            None => pb::AuditVerdict::Unspecified,
            Some(Verdict::Pass) => pb::AuditVerdict::Pass,
            Some(Verdict::Warning) => pb::AuditVerdict::Warning,
            Some(Verdict::Fail) => pb::AuditVerdict::Fail,
        };
        // Stored months are valid and started; the window is the month's.
        let window = Month::parse("month", &r.month, chrono::Utc::now())
            .ok()
            .map(|m| (from_utc(m.start()), from_utc(m.end())));
        let (window_start, window_end) = window.map_or((None, None), |(a, b)| (Some(a), Some(b)));
        pb::AuditRun {
            window_start,
            window_end,
            run_id: if r.dry_run {
                String::new()
            } else {
                r.run_id.to_string()
            },
            month: r.month,
            status: status as i32,
            verdict: verdict as i32,
            repair: r.repair,
            dry_run: r.dry_run,
            started_at: Some(from_utc(r.started_at)),
            finished_at: r.finished_at.map(from_utc),
            totals: r
                .totals
                .iter()
                .map(|t| pb::CurrencyTotals {
                    currency: t.currency.clone(),
                    stripe_count: t.stripe_count,
                    stripe_gross_minor: t.stripe_gross,
                    stripe_refunds_minor: t.stripe_refunds,
                    stripe_net_minor: t.stripe_net(),
                    db_count: t.db_count,
                    db_gross_minor: t.db_gross,
                    db_refunds_minor: t.db_refunds,
                    db_net_minor: t.db_net(),
                    stripe_refunds_in_month_minor: t.stripe_refunds_in_month,
                    stripe_month_net_minor: t.stripe_month_net(),
                    db_refunds_in_month_minor: t.db_refunds_in_month,
                    db_month_net_minor: t.db_month_net(),
                })
                .collect(),
            findings: r.findings.iter().map(finding).collect(),
            finding_count: r.finding_count,
            recommendations: r.recommendations,
            repair_summary: r.repaired.map(|ids| pb::RepairSummary {
                payments_backfilled: ids.len() as i64,
                backfilled_stripe_ids: ids,
                replayed_events: r.replayed_events.iter().map(replayed).collect(),
                drift_repairs: r.drift_repairs,
            }),
            report_markdown: r.report_markdown,
            error: r.error.unwrap_or_default(),
        }
    }
}
