//! How `growthctl audit` shows a run: as JSON, as the service's markdown
//! report, or as tables (the run, the month's money, findings, what a
//! repair did), and the list of runs.

use growth_proto::audit::verdict_label;
use growth_proto::metrics::v1::{self as pb, AuditRunStatus, FindingKind, Severity};
use growth_proto::money::with_currency;
use growth_proto::timestamp::rfc3339;
use serde_json::{Value, json};

use crate::cli::Format;
use crate::output::{self, enum_name};

fn status_name(v: i32) -> String {
    AuditRunStatus::try_from(v).map_or("UNKNOWN".into(), |v| {
        enum_name(v.as_str_name(), "AUDIT_RUN_STATUS_")
    })
}

fn kind_name(v: i32) -> String {
    FindingKind::try_from(v).map_or("UNKNOWN".into(), |v| {
        enum_name(v.as_str_name(), "FINDING_KIND_")
    })
}

fn severity_name(v: i32) -> String {
    Severity::try_from(v).map_or("UNKNOWN".into(), |v| {
        enum_name(v.as_str_name(), "SEVERITY_")
    })
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
        "repair_summary": run.repair_summary.as_ref().map(repair_json),
    })
}

/// What a repair did (or, in a dry run, would do).
fn repair_json(r: &pb::RepairSummary) -> Value {
    json!({
        "payments_backfilled": r.payments_backfilled,
        "backfilled_stripe_ids": r.backfilled_stripe_ids,
        "replayed_events": r.replayed_events.iter().map(|e| json!({
            "event_id": e.event_id,
            "type": e.r#type,
            "created_at": output::time_json(e.created_at.as_ref()),
            "outcome": e.outcome,
        })).collect::<Vec<_>>(),
        "drift_repairs": r.drift_repairs,
    })
}

/// What a repair did, one line each, for the table format.
fn repair_lines(run: &pb::AuditRun) -> Vec<String> {
    let Some(r) = &run.repair_summary else {
        return vec![];
    };
    let verb = if run.dry_run { "would be" } else { "were" };
    let mut lines = vec![format!(
        "{} payment(s) {verb} backfilled, {} missed event(s) {verb} replayed, {} entitlement repair(s)",
        r.payments_backfilled,
        r.replayed_events.len(),
        r.drift_repairs.len()
    )];
    lines.extend(r.replayed_events.iter().map(|e| {
        format!(
            "event {} ({}, created {}): {}",
            e.event_id,
            e.r#type,
            rfc3339(e.created_at.as_ref()).unwrap_or_default(),
            e.outcome
        )
    }));
    lines.extend(r.drift_repairs.iter().cloned());
    lines
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

/// Prints one run in `format`.
pub fn print_run(run: &pb::AuditRun, format: Format) {
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
            let repair = repair_lines(run);
            if !repair.is_empty() {
                println!("repair:");
                for line in repair {
                    println!("  - {line}");
                }
            }
        }
    }
}

/// Stored runs, one row each.
pub fn list_table(runs: &[pb::AuditRun]) -> comfy_table::Table {
    let mut table = output::table(["run", "month", "status", "verdict", "findings", "started"]);
    for r in runs {
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
}
