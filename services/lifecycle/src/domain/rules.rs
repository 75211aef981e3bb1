//! The stage transition rules: one table, evaluated top to bottom for a
//! user's current stage, first match wins; no match keeps the stage.
//! `docs/LIFECYCLE.md` shows the same table.
//!
//! | rule             | from                         | when                                                        | to          |
//! |------------------|------------------------------|-------------------------------------------------------------|-------------|
//! | trial            | any but trial                | trial ends in the future, not paying                        | trial       |
//! | trial_running    | trial                        | trial ends in the future, not paying                        | (stay)      |
//! | payments_stopped | active, at_risk, reactivated | paying at the last evaluation, not paying now               | churned     |
//! | inactive         | any but churned              | not paying, no event for `churn_after_days` (or since signup) | churned   |
//! | came_back        | churned                      | paying again; or never paid, an event in the last `churn_after_days` (when it occurred) and score ≥ `active_from` | reactivated |
//! | churned_holds    | churned                      | otherwise                                                   | (stay)      |
//! | settled          | reactivated                  | reactivated ≥ `reactivated_days` ago, score ≥ `at_risk_below` | active    |
//! | onboarding       | none, onboarding             | signed up < `onboarding_days` ago, not paying, score < `active_from` | onboarding |
//! | slipping         | any but at_risk              | score < `at_risk_below`                                     | at_risk     |
//! | recovered        | at_risk                      | score ≥ `active_from`                                       | active      |
//! | engaged          | none, trial, onboarding      | paying, or score ≥ `at_risk_below`                          | active      |
//!
//! A user's first evaluation enters the stage the table gives for "none".

use chrono::{DateTime, Utc};

use super::signals::Signals;
use super::stage::Stage;
use super::tuning::Tuning;

/// A user's stored state going into an evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Current {
    /// Current stage.
    pub stage: Stage,
    /// In it since.
    pub since: DateTime<Utc>,
    /// Paying at the last evaluation.
    pub paying: bool,
}

/// A stage change and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The stage to enter.
    pub to: Stage,
    /// The rule's name (first column of the table).
    pub rule: &'static str,
    /// The reason, in words, with the numbers that decided it.
    pub reason: String,
}

enum Outcome {
    Stay,
    Move(Stage, &'static str, String),
}

use Outcome::{Move, Stay};

fn table(
    current: Option<&Current>,
    s: &Signals,
    score: u8,
    now: DateTime<Utc>,
    t: &Tuning,
) -> Option<Outcome> {
    use Stage::*;
    let th = &t.thresholds;
    let stage = current.map(|c| c.stage);
    let trial_running = !s.paying && s.trial_ends_at.is_some_and(|end| end > now);
    let trial_until = || {
        s.trial_ends_at
            .map(|e| e.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };
    let inactive_days = s.days_inactive(now);
    let signed_up_days = (now - s.signup_at).num_days().max(0);

    if trial_running {
        return Some(match stage {
            Some(Trial) => Stay,
            _ => Move(
                Trial,
                "trial",
                format!("trial running until {}", trial_until()),
            ),
        });
    }
    if matches!(stage, Some(Active | AtRisk | Reactivated))
        && current.is_some_and(|c| c.paying)
        && !s.paying
    {
        return Some(Move(
            Churned,
            "payments_stopped",
            "payments stopped: no captured payment in the last 35 days".into(),
        ));
    }
    if stage != Some(Churned) && !s.paying && inactive_days >= th.churn_after_days {
        let since = if s.last_seen_at.is_some() {
            ""
        } else {
            " since signup"
        };
        return Some(Move(
            Churned,
            "inactive",
            format!(
                "no activity{since} for {inactive_days} days (churn after {})",
                th.churn_after_days
            ),
        ));
    }
    if let Some(c) = current.filter(|c| c.stage == Churned) {
        // By when the events occurred, not when they arrived: activity that
        // arrives after the churn was recorded but occurred inside the churn
        // window would have prevented the churn had it arrived on time.
        let active_again = s.last_seen_at.is_some() && inactive_days < th.churn_after_days;
        if s.paying && !c.paying {
            return Some(Move(
                Reactivated,
                "came_back",
                "paying again after churning".into(),
            ));
        }
        if !s.has_paid && active_again && score >= th.active_from {
            return Some(Move(
                Reactivated,
                "came_back",
                format!(
                    "active again after churning (score {score} ≥ {})",
                    th.active_from
                ),
            ));
        }
        return Some(Stay);
    }
    if let Some(c) = current.filter(|c| c.stage == Reactivated) {
        let days = (now - c.since).num_days();
        if days >= th.reactivated_days && score >= th.at_risk_below {
            return Some(Move(
                Active,
                "settled",
                format!(
                    "reactivated {days} days ago and still engaged (score {score} ≥ {})",
                    th.at_risk_below
                ),
            ));
        }
    }
    if matches!(stage, None | Some(Onboarding))
        && signed_up_days < th.onboarding_days
        && !s.paying
        && score < th.active_from
    {
        return Some(match stage {
            Some(Onboarding) => Stay,
            _ => Move(
                Onboarding,
                "onboarding",
                format!(
                    "signed up {signed_up_days} days ago, not engaged yet (score {score} < {}); onboarding lasts {} days",
                    th.active_from, th.onboarding_days
                ),
            ),
        });
    }
    if stage != Some(AtRisk) && score < th.at_risk_below {
        return Some(Move(
            AtRisk,
            "slipping",
            format!(
                "score {score} is below the at-risk threshold {}",
                th.at_risk_below
            ),
        ));
    }
    if stage == Some(AtRisk) && score >= th.active_from {
        return Some(Move(
            Active,
            "recovered",
            format!(
                "score {score} reached the active threshold {}",
                th.active_from
            ),
        ));
    }
    if matches!(stage, None | Some(Trial | Onboarding)) {
        let reason = match (stage, s.paying) {
            (Some(Trial), true) => "converted: paying after the trial".to_owned(),
            (Some(Trial), false) => format!(
                "trial ended; engaged (score {score} ≥ {})",
                th.at_risk_below
            ),
            (_, true) => "paying customer".to_owned(),
            (_, false) => format!("engaged (score {score} ≥ {})", th.at_risk_below),
        };
        return Some(Move(Active, "engaged", reason));
    }
    None
}

/// The stage change for a user with `current` state (none before the first
/// evaluation), `s` signals and `score` at `now`; `None` keeps the stage.
pub fn next_stage(
    current: Option<&Current>,
    s: &Signals,
    score: u8,
    now: DateTime<Utc>,
    t: &Tuning,
) -> Option<Decision> {
    match table(current, s, score, now, t)? {
        Stay => None,
        Move(to, _, _) if current.is_some_and(|c| c.stage == to) => None,
        Move(to, rule, reason) => Some(Decision { to, rule, reason }),
    }
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
