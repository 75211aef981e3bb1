//! The engagement score: 0 to 100 from five components, each explained.
//!
//! Recency and frequency decay exponentially with the configured half-life.
//! Metrics reports event counts over the rolling 1, 7 and 30 day windows, so
//! frequency weighs each window's events by the decay at the window's middle
//! (12 hours, 4 days, 18.5 days ago): a piecewise form of exponential decay.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::signals::Signals;
use super::tuning::Tuning;

/// One part of a score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    /// "recency", "frequency", "consistency", "breadth" or "revenue".
    pub name: String,
    /// Points earned (one decimal).
    pub points: f64,
    /// Most points the component gives.
    pub max_points: f64,
    /// Why, in words.
    pub explanation: String,
}

/// A score and its parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// 0..=100, the rounded sum of the components.
    pub total: u8,
    /// The components.
    pub components: Vec<Component>,
}

fn component(name: &str, share: f64, max: f64, explanation: String) -> Component {
    Component {
        name: name.to_owned(),
        points: (share.clamp(0.0, 1.0) * max * 10.0).round() / 10.0,
        max_points: max,
        explanation,
    }
}

/// `0.5^(age / half_life)`.
fn decay(age_days: f64, half_life_days: f64) -> f64 {
    0.5f64.powf(age_days.max(0.0) / half_life_days)
}

fn plural(n: u32, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn ago(days: f64) -> String {
    match days {
        d if d < 1.0 => "today".to_owned(),
        d if d < 2.0 => "1 day ago".to_owned(),
        d => format!("{} days ago", d.floor()),
    }
}

/// Scores `s` at `now`.
pub fn score(s: &Signals, now: DateTime<Utc>, t: &Tuning) -> Score {
    let w = &t.weights;
    let hl = t.half_life_days;

    let recency = match s.last_seen_at {
        None => component("recency", 0.0, w.recency, "no activity recorded".into()),
        Some(seen) => {
            let days = (now - seen).num_seconds().max(0) as f64 / 86_400.0;
            component(
                "recency",
                decay(days, hl),
                w.recency,
                format!("last active {}", ago(days)),
            )
        }
    };

    let (e1, e7, e30) = (
        f64::from(s.events_1d),
        f64::from(s.events_7d.max(s.events_1d)),
        f64::from(s.events_30d.max(s.events_7d)),
    );
    let weighted = e1 * decay(0.5, hl) + (e7 - e1) * decay(4.0, hl) + (e30 - e7) * decay(18.5, hl);
    let frequency = component(
        "frequency",
        1.0 - (-weighted / t.frequency_scale).exp(),
        w.frequency,
        format!(
            "{} in 7 days, {} in 30 (time-weighted {weighted:.1})",
            plural(s.events_7d, "event"),
            s.events_30d
        ),
    );

    let consistency = component(
        "consistency",
        f64::from(s.active_days_30d) / f64::from(t.consistency_days),
        w.consistency,
        format!(
            "active on {} of the last 30 days (full points at {})",
            s.active_days_30d, t.consistency_days
        ),
    );

    let breadth = component(
        "breadth",
        f64::from(s.distinct_events_30d) / f64::from(t.breadth_names),
        w.breadth,
        format!(
            "{} used in 30 days (full points at {})",
            plural(s.distinct_events_30d, "distinct feature"),
            t.breadth_names
        ),
    );

    let on_trial = s.trial_ends_at.is_some_and(|end| end > now);
    let (share, why) = if s.paying {
        (1.0, format!("paying customer (plan {})", s.plan))
    } else if s.has_paid {
        (
            0.4,
            "paid before, no captured payment in 35 days".to_owned(),
        )
    } else if on_trial {
        (0.25, format!("on a trial (plan {})", s.plan))
    } else {
        (0.0, format!("never paid (plan {})", s.plan))
    };
    let revenue = component("revenue", share, w.revenue, why);

    let components = vec![recency, frequency, consistency, breadth, revenue];
    let sum: f64 = components.iter().map(|c| c.points).sum();
    Score {
        total: sum.round().clamp(0.0, 100.0) as u8,
        components,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
    }

    fn points(score: &Score, name: &str) -> f64 {
        score
            .components
            .iter()
            .find(|c| c.name == name)
            .unwrap()
            .points
    }

    #[test]
    fn a_user_without_activity_or_payments_scores_zero() {
        let s = Signals::quiet("u1", now() - Duration::days(40));
        let score = score(&s, now(), &Tuning::default());
        assert_eq!(score.total, 0);
        assert_eq!(score.components[0].explanation, "no activity recorded");
    }

    #[test]
    fn recency_halves_every_half_life() {
        let t = Tuning::default();
        let mut s = Signals::quiet("u1", now() - Duration::days(90));
        s.last_seen_at = Some(now());
        assert_eq!(points(&score(&s, now(), &t), "recency"), 30.0);
        s.last_seen_at = Some(now() - Duration::days(7));
        let week = score(&s, now(), &t);
        assert_eq!(points(&week, "recency"), 15.0);
        assert_eq!(week.components[0].explanation, "last active 7 days ago");
        s.last_seen_at = Some(now() - Duration::days(14));
        assert_eq!(points(&score(&s, now(), &t), "recency"), 7.5);
    }

    #[test]
    fn frequency_weighs_recent_events_more_and_saturates() {
        let t = Tuning::default();
        let mut recent = Signals::quiet("u1", now() - Duration::days(90));
        (recent.events_1d, recent.events_7d, recent.events_30d) = (10, 10, 10);
        let mut old = recent.clone();
        (old.events_1d, old.events_7d, old.events_30d) = (0, 0, 10);
        let (r, o) = (
            points(&score(&recent, now(), &t), "frequency"),
            points(&score(&old, now(), &t), "frequency"),
        );
        assert!(r > 2.0 * o, "recent {r} vs old {o}");
        // 10 events half a day ago weigh 10 * 0.5^(0.5/7) = 9.52: 1 - e^-0.952.
        assert_eq!(r, 15.3);
        let mut heavy = recent.clone();
        (heavy.events_1d, heavy.events_7d, heavy.events_30d) = (500, 2000, 5000);
        assert_eq!(points(&score(&heavy, now(), &t), "frequency"), 25.0);
    }

    #[test]
    fn consistency_breadth_and_revenue_follow_their_targets() {
        let t = Tuning::default();
        let mut s = Signals::quiet("u1", now() - Duration::days(90));
        s.active_days_30d = 6;
        s.distinct_events_30d = 10;
        s.paying = true;
        s.plan = "pro".into();
        let score = score(&s, now(), &t);
        assert_eq!(points(&score, "consistency"), 7.5);
        assert_eq!(points(&score, "breadth"), 10.0);
        assert_eq!(points(&score, "revenue"), 20.0);
        assert_eq!(
            score.components[4].explanation,
            "paying customer (plan pro)"
        );
        assert_eq!(score.total, 38);
    }

    #[test]
    fn an_engaged_paying_user_scores_near_the_top() {
        let t = Tuning::default();
        let mut s = Signals::quiet("u1", now() - Duration::days(200));
        s.last_seen_at = Some(now() - Duration::hours(2));
        (s.events_1d, s.events_7d, s.events_30d) = (12, 60, 200);
        (s.active_days_30d, s.distinct_events_30d) = (25, 8);
        (s.paying, s.has_paid) = (true, true);
        let score = score(&s, now(), &t);
        assert!(score.total >= 98, "{score:?}");
        let sum: f64 = score.components.iter().map(|c| c.max_points).sum();
        assert_eq!(sum, 100.0);
    }
}
