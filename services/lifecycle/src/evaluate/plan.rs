//! Planning an evaluation batch, without I/O: score every user, decide
//! transitions from their current state, and expand transitions into Kit
//! deliveries by the enabled rules.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::domain::trigger::{FieldSource, idempotency_key};
use crate::domain::{Current, Signals, Stage, Tuning, next_stage, score};
use crate::repo::Json;
use crate::repo::deliveries::NewDelivery;
use crate::repo::profiles::ProfileRow;
use crate::repo::rules::RuleRow;
use crate::repo::transitions::{NewTransition, TransitionRow};

/// What a batch would write.
#[derive(Debug, Default)]
pub struct Plan {
    /// Every evaluated user's new profile.
    pub profiles: Vec<ProfileRow>,
    /// Stage changes.
    pub transitions: Vec<NewTransition>,
}

/// Scores `users` at `now` and decides their transitions from `current`.
pub fn plan(
    current: &HashMap<String, Current>,
    users: &[Signals],
    now: DateTime<Utc>,
    tuning: &Tuning,
) -> Plan {
    let mut out = Plan {
        profiles: Vec::with_capacity(users.len()),
        transitions: Vec::new(),
    };
    for s in users {
        let score = score(s, now, tuning);
        let before = current.get(&s.user_id);
        let decision = next_stage(before, s, score.total, now, tuning);
        let (stage, since) = match (&decision, before) {
            (Some(d), _) => (d.to, now),
            (None, Some(c)) => (c.stage, c.since),
            // next_stage gives every new user a stage; keep the type total.
            (None, None) => (Stage::Onboarding, now),
        };
        if let Some(d) = decision {
            out.transitions.push(NewTransition {
                user_id: s.user_id.clone(),
                from: before.map(|c| c.stage),
                to: d.to,
                occurred_at: now,
                reason: d.reason,
                score: score.total,
            });
        }
        out.profiles.push(ProfileRow {
            user_id: s.user_id.clone(),
            email: s.email.clone(),
            stage: stage.code(),
            stage_since: since,
            score: i16::from(score.total),
            components: Json(score.components),
            paying: s.paying,
            evaluated_at: now,
        });
    }
    out
}

/// The deliveries that `transitions` (recorded, with ids) queue under
/// `rules`, one per (transition, action, target).
pub fn deliveries(
    transitions: &[TransitionRow],
    emails: &HashMap<&str, &str>,
    rules: &[RuleRow],
) -> Vec<NewDelivery> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for t in transitions {
        let (Some(to), from) = (
            Stage::from_code(t.to_stage),
            t.from_stage.and_then(Stage::from_code),
        ) else {
            continue;
        };
        for rule in rules.iter().filter(|r| r.matches(from, to)) {
            let Some(action) = rule.action() else {
                continue;
            };
            let key = idempotency_key(t.transition_id, action, &rule.target_id);
            if !seen.insert(key.clone()) {
                continue;
            }
            let fields: BTreeMap<String, String> = rule
                .custom_fields
                .0
                .iter()
                .map(|f| {
                    let value = match f.value {
                        FieldSource::Score => t.score.to_string(),
                        FieldSource::Stage => to.name().to_owned(),
                        FieldSource::PreviousStage => {
                            from.map(Stage::name).unwrap_or("").to_owned()
                        }
                    };
                    (f.key.clone(), value)
                })
                .collect();
            out.push(NewDelivery {
                rule_id: rule.rule_id,
                user_id: t.user_id.clone(),
                email: emails
                    .get(t.user_id.as_str())
                    .copied()
                    .unwrap_or_default()
                    .to_owned(),
                transition_id: t.transition_id,
                action: action.code(),
                target_id: rule.target_id.clone(),
                fields,
                idempotency_key: key,
            });
        }
    }
    out
}
