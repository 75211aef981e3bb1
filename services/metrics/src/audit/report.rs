//! The audit report as markdown, in five sections: executive summary, Stripe
//! data, database data, validation issues, recommendations.

use std::fmt::Write;

use super::findings::Severity;
use super::run::AuditOutcome;

/// Findings listed in full; the rest are counted.
const LISTED: usize = 100;

/// Renders `outcome` for `month`.
pub fn markdown(month: &str, outcome: &AuditOutcome) -> String {
    let r = &outcome.reconciliation;
    let count = |s: Severity| r.findings.iter().filter(|f| f.severity == s).count();
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Revenue audit {month}: {}\n",
        outcome.verdict.as_str()
    );

    let _ = writeln!(md, "## Executive summary\n");
    let _ = writeln!(
        md,
        "Verdict **{}**: {} finding(s): {} critical, {} warning, {} info. {} Stripe payment(s) matched exactly one database row.",
        outcome.verdict.as_str(),
        r.findings.len(),
        count(Severity::Critical),
        count(Severity::Warning),
        count(Severity::Info),
        r.matched
    );
    for t in &r.totals {
        let diff = t.stripe_net() - t.db_net();
        let _ = writeln!(
            md,
            "- {}: net {} in Stripe vs {} in the database (difference {diff})",
            t.currency.to_uppercase(),
            t.stripe_net(),
            t.db_net()
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

    let _ = writeln!(md, "\n## Stripe data\n");
    let _ = writeln!(md, "| object | count |\n| --- | ---: |");
    for (name, n) in &outcome.stripe_counts {
        let _ = writeln!(md, "| {name} | {n} |");
    }
    let _ = writeln!(
        md,
        "\n| currency | payments | gross | refunds | net |\n| --- | ---: | ---: | ---: | ---: |"
    );
    for t in &r.totals {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} |",
            t.currency,
            t.stripe_count,
            t.stripe_gross,
            t.stripe_refunds,
            t.stripe_net()
        );
    }

    let _ = writeln!(md, "\n## Database data\n");
    let _ = writeln!(
        md,
        "| currency | rows | gross | refunds | net |\n| --- | ---: | ---: | ---: | ---: |"
    );
    for t in &r.totals {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} |",
            t.currency,
            t.db_count,
            t.db_gross,
            t.db_refunds,
            t.db_net()
        );
    }

    let _ = writeln!(md, "\n## Validation issues\n");
    if r.findings.is_empty() {
        let _ = writeln!(md, "None: Stripe and the database agree.");
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
