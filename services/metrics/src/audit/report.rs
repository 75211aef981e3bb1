//! The audit report as markdown: a header (run id, window, start and end,
//! UTC), then five sections: executive summary, Stripe data, database data,
//! validation issues, recommendations. Amounts are money as people read it
//! (`growth_proto::money`), per currency.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use growth_proto::money::with_currency;
use uuid::Uuid;

use super::findings::Severity;
use super::reconcile::CurrencyTotals;
use super::run::AuditOutcome;

/// Findings listed in full; the rest are counted.
const LISTED: usize = 100;

/// Which run a report is of.
#[derive(Debug, Clone)]
pub struct Header {
    /// `YYYY-MM`.
    pub month: String,
    /// The stored run's id; `None` for a dry run (not stored).
    pub run_id: Option<Uuid>,
    /// First instant audited.
    pub from: DateTime<Utc>,
    /// First instant after the window.
    pub to: DateTime<Utc>,
    /// When the run started.
    pub started_at: DateTime<Utc>,
    /// When the run finished.
    pub finished_at: DateTime<Utc>,
}

fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// One side's money table: a row per currency.
fn money_table(md: &mut String, rows: &[CurrencyTotals], stripe: bool) {
    let _ = writeln!(
        md,
        "| currency | {} | captured | refunds made in the month | net revenue of the month | refunded to date on the month's charges | the month's charges net of refunds to date |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        if stripe { "payments" } else { "rows" }
    );
    for t in rows {
        let c = t.currency.as_str();
        let (count, gross, made, month_net, to_date, net) = if stripe {
            (
                t.stripe_count,
                t.stripe_gross,
                t.stripe_refunds_in_month,
                t.stripe_month_net(),
                t.stripe_refunds,
                t.stripe_net(),
            )
        } else {
            (
                t.db_count,
                t.db_gross,
                t.db_refunds_in_month,
                t.db_month_net(),
                t.db_refunds,
                t.db_net(),
            )
        };
        let _ = writeln!(
            md,
            "| {} | {count} | {} | {} | {} | {} | {} |",
            c.to_uppercase(),
            with_currency(gross, c),
            with_currency(made, c),
            with_currency(month_net, c),
            with_currency(to_date, c),
            with_currency(net, c),
        );
    }
}

/// Renders `outcome` for the run `header` names.
pub fn markdown(header: &Header, outcome: &AuditOutcome) -> String {
    let r = &outcome.reconciliation;
    let count = |s: Severity| r.findings.iter().filter(|f| f.severity == s).count();
    let mut md = String::new();
    let verdict = outcome.verdict.as_str();
    let _ = writeln!(md, "# Revenue audit {}: {verdict}\n", header.month);
    let run = header
        .run_id
        .map_or("(dry run: not stored)".to_owned(), |id| format!("`{id}`"));
    let _ = writeln!(md, "| run | {run} |\n| --- | --- |");
    let _ = writeln!(
        md,
        "| window (UTC) | [{}, {}) |",
        utc(header.from),
        utc(header.to)
    );
    let _ = writeln!(md, "| started | {} |", utc(header.started_at));
    let _ = writeln!(md, "| finished | {} |", utc(header.finished_at));

    let _ = writeln!(md, "\n## Executive summary\n");
    let _ = writeln!(
        md,
        "Verdict **{verdict}**: {} finding(s): {} critical, {} warning, {} info. {} Stripe payment(s) matched exactly one database row.\n",
        r.findings.len(),
        count(Severity::Critical),
        count(Severity::Warning),
        count(Severity::Info),
        r.matched
    );
    for t in &r.totals {
        let c = t.currency.as_str();
        let _ = writeln!(
            md,
            "- {}: net revenue of the month {} in Stripe vs {} in the database (difference {}); the month's charges net of refunds to date {} vs {}",
            c.to_uppercase(),
            with_currency(t.stripe_month_net(), c),
            with_currency(t.db_month_net(), c),
            with_currency(t.stripe_month_net() - t.db_month_net(), c),
            with_currency(t.stripe_net(), c),
            with_currency(t.db_net(), c),
        );
    }
    let _ = writeln!(
        md,
        "- to backfill: {} captured payment(s) missing from the database (a repair inserts them)",
        outcome.to_backfill
    );
    if outcome.not_backfilled > 0 {
        let _ = writeln!(
            md,
            "- {} missing payment(s) that took no money (failed, canceled, uncaptured or pending) are findings but are not backfilled: there is no revenue to restore, and the webhook records them when their events arrive",
            outcome.not_backfilled
        );
    }
    if let Some(repair) = &outcome.repaired {
        let verb = if outcome.dry_run { "would be" } else { "were" };
        let _ = writeln!(
            md,
            "- repair: {} payment(s) {verb} backfilled from Stripe",
            repair.len()
        );
    }
    for line in &outcome.drift_repairs {
        let _ = writeln!(md, "- entitlement repair: {line}");
    }
    if outcome.dry_run {
        let _ = writeln!(md, "- dry run: nothing was written");
    }
    let _ = writeln!(
        md,
        "\n**Net revenue of the month** is what was captured on payments created in the month minus the refunds made in the month, whatever month their charge is of; the verdict compares it, and a refund made later does not change it. **Refunded to date on the month's charges** is what has been refunded so far on the month's payments, whenever; it grows as later refunds arrive."
    );

    let _ = writeln!(md, "\n## Stripe data\n");
    let _ = writeln!(
        md,
        "| object (created in the window) | count |\n| --- | ---: |"
    );
    for (name, n) in &outcome.stripe_counts {
        let _ = writeln!(md, "| {name} | {n} |");
    }
    let _ = writeln!(md);
    money_table(&mut md, &r.totals, true);

    let _ = writeln!(md, "\n## Database data\n");
    money_table(&mut md, &r.totals, false);

    let _ = writeln!(md, "\n## Validation issues\n");
    let refunds_off: Vec<&CurrencyTotals> = r
        .totals
        .iter()
        .filter(|t| t.stripe_refunds_in_month != t.db_refunds_in_month)
        .collect();
    for t in &refunds_off {
        let c = t.currency.as_str();
        let _ = writeln!(
            md,
            "- {}: refunds made in the month {} in Stripe vs {} in the database (not a per-payment finding: the refunds may be on other months' charges)",
            c.to_uppercase(),
            with_currency(t.stripe_refunds_in_month, c),
            with_currency(t.db_refunds_in_month, c),
        );
    }
    if !refunds_off.is_empty() {
        let _ = writeln!(md);
    }
    if r.findings.is_empty() && refunds_off.is_empty() {
        let _ = writeln!(md, "None: Stripe and the database agree.");
    } else if r.findings.is_empty() {
        let _ = writeln!(md, "No per-payment finding.");
    } else {
        let _ = writeln!(
            md,
            "| severity | kind | Stripe id | reason |\n| --- | --- | --- | --- |"
        );
        for f in r.findings.iter().take(LISTED) {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                f.severity.as_str(),
                f.kind.as_str(),
                f.stripe_id,
                f.reason.replace('|', "\\|")
            );
        }
        if r.findings.len() > LISTED {
            let _ = writeln!(
                md,
                "\n… and {} more (all are stored with the run).",
                r.findings.len() - LISTED
            );
        }
    }

    super::missed_report::section(&mut md, &outcome.missed);

    let _ = writeln!(md, "\n## Recommendations\n");
    if outcome.recommendations.is_empty() {
        let _ = writeln!(md, "Nothing to do.");
    }
    for line in &outcome.recommendations {
        let _ = writeln!(md, "- {line}");
    }
    md
}
