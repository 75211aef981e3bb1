//! What a repair changed, as stored with its run
//! (`audit_runs.repair_summary`, JSON): the payments backfilled, the
//! missed webhook events replayed and the entitlement drift repaired. Runs
//! stored before replay existed hold a bare array of backfilled ids; they
//! read as a summary without replays or drift repairs.

use serde::{Deserialize, Serialize};

use super::missed::ReplayedEvent;

/// A repair's changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Stored")]
pub struct RepairSummary {
    /// Stripe ids of the payments backfilled.
    pub backfilled: Vec<String>,
    /// Missed webhook events replayed.
    #[serde(default)]
    pub replayed_events: Vec<ReplayedEvent>,
    /// Entitlement drift repaired, a line per subscription.
    #[serde(default)]
    pub drift_repairs: Vec<String>,
}

/// Every shape ever stored.
#[derive(Deserialize)]
#[serde(untagged)]
enum Stored {
    /// Before missed-event replay: the backfilled ids.
    Backfilled(Vec<String>),
    /// Since.
    Summary {
        backfilled: Vec<String>,
        #[serde(default)]
        replayed_events: Vec<ReplayedEvent>,
        #[serde(default)]
        drift_repairs: Vec<String>,
    },
}

impl From<Stored> for RepairSummary {
    fn from(stored: Stored) -> Self {
        match stored {
            Stored::Backfilled(backfilled) => Self {
                backfilled,
                ..Self::default()
            },
            Stored::Summary {
                backfilled,
                replayed_events,
                drift_repairs,
            } => Self {
                backfilled,
                replayed_events,
                drift_repairs,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_stored_before_replay_still_read() {
        let old: RepairSummary = serde_json::from_str(r#"["pi_1","pi_2"]"#).expect("old shape");
        assert_eq!(old.backfilled, ["pi_1", "pi_2"]);
        assert!(old.replayed_events.is_empty());
    }

    #[test]
    fn a_summary_reads_back_as_written() {
        let summary = RepairSummary {
            backfilled: vec!["pi_1".into()],
            replayed_events: vec![ReplayedEvent {
                event_id: "evt_1".into(),
                kind: "charge.refunded".into(),
                created_at: "2026-12-05T10:00:00Z".parse().expect("a time"),
                outcome: "applied".into(),
            }],
            drift_repairs: vec!["sub_1: recorded as active, as in Stripe (user u_1)".into()],
        };
        let json = serde_json::to_string(&summary).expect("serializes");
        assert_eq!(
            serde_json::from_str::<RepairSummary>(&json).expect("reads"),
            summary
        );
    }
}
