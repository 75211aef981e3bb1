//! The report's section "Missed webhook events": which part of the window
//! Stripe's Events API covered (and which it could not, and why), and each
//! missed event with what became of it.

use std::fmt::Write;

use super::missed::{Missed, RETENTION_DAYS, minute};

/// Events listed in full; the rest are counted.
const LISTED: usize = 100;

/// Appends the section to `md`.
pub fn section(md: &mut String, missed: &Missed) {
    let _ = writeln!(md, "\n## Missed webhook events\n");
    let Some(window) = &missed.window else {
        let _ = writeln!(md, "Not checked.");
        return;
    };
    match window.checked {
        Some((from, to)) => {
            let _ = writeln!(
                md,
                "Checked the handled event types from {} to {}: {} event(s) the webhook never recorded.",
                minute(from),
                minute(to),
                missed.events.len()
            );
        }
        None => {
            let _ = writeln!(md, "No part of the window could be checked.");
        }
    }
    if let Some((from, to)) = window.unchecked {
        let _ = writeln!(
            md,
            "\nNot checked from {} to {}: Stripe keeps events for {RETENTION_DAYS} days only.",
            minute(from),
            minute(to)
        );
    }
    if missed.events.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "\n| event | type | created | outcome |\n| --- | --- | --- | --- |"
    );
    let outcome = |i: usize| match &missed.replayed {
        Some(replayed) => replayed.get(i).map_or("", |r| r.outcome.as_str()),
        None => "not replayed (an audit with repair replays it)",
    };
    for (i, e) in missed.events.iter().enumerate().take(LISTED) {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            e.event_id,
            e.kind,
            minute(e.created_at),
            outcome(i).replace('|', "\\|")
        );
    }
    if missed.events.len() > LISTED {
        let _ = writeln!(
            md,
            "\n… and {} more (all are stored with the run as findings).",
            missed.events.len() - LISTED
        );
    }
}
