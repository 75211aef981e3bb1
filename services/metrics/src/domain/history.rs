//! How a batch of subscription states meets the stored history: appended
//! (`recorded`), equal to what is stored (`unchanged`) or older than the
//! latest (`stale`). Pure: the repository loads what it needs and writes
//! what this decides.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::NewSubscription;

/// What became of the states of a batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateCounts {
    /// Appended to a history.
    pub recorded: u32,
    /// Equal to the subscription's latest state.
    pub unchanged: u32,
    /// Older than the subscription's latest state; ignored.
    pub stale: u32,
}

/// The writes a batch needs: history rows to append and the new latest state
/// of every subscription that changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Writes {
    /// States to append (in subscription, then time order).
    pub recorded: Vec<NewSubscription>,
    /// The latest state of each subscription that changed.
    pub latest: Vec<NewSubscription>,
    /// The counts to report.
    pub counts: StateCounts,
}

/// Applies `batch` to the stored history, one subscription at a time in
/// `effective_at` order. `latest` holds the stored latest state of the
/// batch's subscriptions, `history` the stored states at the batch's exact
/// (subscription, instant) keys. A state already stored at its instant, or
/// equal to the latest at a later instant, is unchanged (so a batch sent
/// again is all unchanged); a state older than the latest is stale; any
/// other state is recorded and becomes the latest. A different state at the
/// latest's very instant replaces it (Stripe can send two events within one
/// second).
pub fn plan_writes(
    batch: &[NewSubscription],
    latest: &[NewSubscription],
    history: &[NewSubscription],
) -> Writes {
    let mut current: HashMap<&str, &NewSubscription> = latest
        .iter()
        .map(|s| (s.stripe_subscription_id.as_str(), s))
        .collect();
    let stored: HashMap<(&str, DateTime<Utc>), &NewSubscription> = history
        .iter()
        .map(|s| ((s.stripe_subscription_id.as_str(), s.effective_at), s))
        .collect();
    let mut ordered: Vec<&NewSubscription> = batch.iter().collect();
    ordered.sort_by(|a, b| {
        (a.stripe_subscription_id.as_str(), a.effective_at)
            .cmp(&(b.stripe_subscription_id.as_str(), b.effective_at))
    });
    let mut writes = Writes::default();
    let mut changed: Vec<&str> = Vec::new();
    for state in ordered {
        let id = state.stripe_subscription_id.as_str();
        if stored
            .get(&(id, state.effective_at))
            .is_some_and(|s| s.same_state(state))
        {
            writes.counts.unchanged += 1;
            continue;
        }
        match current.get(id) {
            Some(latest) if state.effective_at < latest.effective_at => {
                writes.counts.stale += 1;
            }
            Some(latest) if latest.same_state(state) => writes.counts.unchanged += 1,
            _ => {
                writes.counts.recorded += 1;
                writes.recorded.push(state.clone());
                if changed.last() != Some(&id) {
                    changed.push(id);
                }
                current.insert(id, state);
            }
        }
    }
    writes.latest = changed
        .into_iter()
        .filter_map(|id| current.get(id).map(|s| (*s).clone()))
        .collect();
    writes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::subscription::tests::state;

    #[test]
    fn new_states_are_recorded_in_time_order_and_the_newest_is_latest() {
        let batch = [
            state("sub_1", 20, "business"),
            state("sub_1", 0, "pro"),
            state("sub_2", 0, "pro"),
        ];
        let w = plan_writes(&batch, &[], &[]);
        assert_eq!(
            w.counts,
            StateCounts {
                recorded: 3,
                unchanged: 0,
                stale: 0
            }
        );
        let plans: Vec<&str> = w.recorded.iter().map(|s| s.plan.as_str()).collect();
        assert_eq!(plans, ["pro", "business", "pro"]);
        assert_eq!(w.latest.len(), 2);
        assert_eq!(w.latest[0].plan, "business");
    }

    #[test]
    fn equal_states_are_unchanged_and_older_ones_stale() {
        let stored = [state("sub_1", 10, "pro")];
        let batch = [
            state("sub_1", 5, "business"),
            state("sub_1", 10, "pro"),
            state("sub_1", 15, "pro"),
        ];
        let w = plan_writes(&batch, &stored, &[]);
        assert_eq!(
            w.counts,
            StateCounts {
                recorded: 0,
                unchanged: 2,
                stale: 1
            }
        );
        assert!(w.recorded.is_empty() && w.latest.is_empty());
    }

    #[test]
    fn replaying_what_was_recorded_changes_nothing() {
        let batch = [state("sub_1", 0, "pro"), state("sub_1", 30, "business")];
        let first = plan_writes(&batch, &[], &[]);
        let again = plan_writes(&batch, &first.latest, &first.recorded);
        assert_eq!(
            again.counts,
            StateCounts {
                recorded: 0,
                unchanged: 2,
                stale: 0
            }
        );
    }
}
