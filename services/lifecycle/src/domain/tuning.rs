//! The scoring weights, decay half-life and stage thresholds: a documented
//! default, optionally replaced by a TOML file (`LIFECYCLE_TUNING_FILE`), with
//! the half-life also settable alone (`LIFECYCLE_HALF_LIFE_DAYS`). The file
//! format and every key are described in `docs/LIFECYCLE.md`; an example is
//! `deploy/lifecycle-tuning.toml`.

use serde::Deserialize;

/// Points each score component can give; they must add up to 100.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    /// How recently the user was active.
    pub recency: f64,
    /// How many events, time-weighted.
    pub frequency: f64,
    /// On how many distinct days.
    pub consistency: f64,
    /// How many different features (event names).
    pub breadth: f64,
    /// Paying, paid before, or on a trial.
    pub revenue: f64,
}

/// Stage rule thresholds.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// A score at or above this makes a user active (and brings an at-risk
    /// user back).
    pub active_from: u8,
    /// A score below this makes an active user at risk.
    pub at_risk_below: u8,
    /// Days without any event after which a non-paying user churns.
    pub churn_after_days: i64,
    /// Days after signup a user without a trial stays onboarding unless engaged.
    pub onboarding_days: i64,
    /// Days a reactivated user stays reactivated before becoming active.
    pub reactivated_days: i64,
}

/// Everything tunable about scores and stages.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tuning {
    /// Activity loses half its weight every this many days.
    pub half_life_days: f64,
    /// Time-weighted events at which frequency gives 63% of its points
    /// (1 - 1/e); it approaches full points beyond.
    pub frequency_scale: f64,
    /// Active days in 30 for full consistency points.
    pub consistency_days: u32,
    /// Distinct event names in 30 days for full breadth points.
    pub breadth_names: u32,
    /// Component weights.
    pub weights: Weights,
    /// Stage thresholds.
    pub thresholds: Thresholds,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            half_life_days: 7.0,
            frequency_scale: 10.0,
            consistency_days: 12,
            breadth_names: 5,
            weights: Weights {
                recency: 30.0,
                frequency: 25.0,
                consistency: 15.0,
                breadth: 10.0,
                revenue: 20.0,
            },
            thresholds: Thresholds {
                active_from: 40,
                at_risk_below: 25,
                churn_after_days: 30,
                onboarding_days: 14,
                reactivated_days: 14,
            },
        }
    }
}

impl Tuning {
    /// Parses and validates a TOML document (every key required, none unknown).
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let tuning: Tuning = toml::from_str(text).map_err(|e| e.to_string())?;
        tuning.validated()
    }

    /// With the half-life replaced (from `LIFECYCLE_HALF_LIFE_DAYS`).
    pub fn with_half_life(mut self, days: f64) -> Result<Self, String> {
        self.half_life_days = days;
        self.validated()
    }

    /// Checks the values; the error names the key and the reason.
    pub fn validated(self) -> Result<Self, String> {
        let positive = |key: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(format!("{key}: must be a positive number, got {v}"))
            }
        };
        positive("half_life_days", self.half_life_days)?;
        positive("frequency_scale", self.frequency_scale)?;
        if self.consistency_days == 0 || self.consistency_days > 30 {
            return Err(format!(
                "consistency_days: must be 1 to 30, got {}",
                self.consistency_days
            ));
        }
        if self.breadth_names == 0 {
            return Err("breadth_names: must be at least 1".to_owned());
        }
        let w = &self.weights;
        let parts = [
            ("weights.recency", w.recency),
            ("weights.frequency", w.frequency),
            ("weights.consistency", w.consistency),
            ("weights.breadth", w.breadth),
            ("weights.revenue", w.revenue),
        ];
        for (key, v) in parts {
            if !v.is_finite() || v < 0.0 {
                return Err(format!("{key}: must be 0 or more, got {v}"));
            }
        }
        let sum: f64 = parts.iter().map(|(_, v)| v).sum();
        if (sum - 100.0).abs() > 1e-9 {
            return Err(format!("weights: must add up to 100, they add up to {sum}"));
        }
        let t = &self.thresholds;
        if t.at_risk_below > t.active_from || t.active_from > 100 {
            return Err(format!(
                "thresholds: need at_risk_below <= active_from <= 100, got {} and {}",
                t.at_risk_below, t.active_from
            ));
        }
        for (key, v) in [
            ("thresholds.churn_after_days", t.churn_after_days),
            ("thresholds.onboarding_days", t.onboarding_days),
            ("thresholds.reactivated_days", t.reactivated_days),
        ] {
            if v < 1 {
                return Err(format!("{key}: must be at least 1, got {v}"));
            }
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_in_deploy_is_the_default() {
        let text = include_str!("../../../../deploy/lifecycle-tuning.toml");
        assert_eq!(Tuning::from_toml(text).unwrap(), Tuning::default());
    }

    #[test]
    fn bad_files_are_refused_with_the_key_named() {
        let text = include_str!("../../../../deploy/lifecycle-tuning.toml");
        let bad = text.replace("recency = 30.0", "recency = 35.0");
        assert!(
            Tuning::from_toml(&bad)
                .unwrap_err()
                .contains("add up to 100")
        );
        let unknown = format!("{text}\nsurprise = 1\n");
        assert!(
            Tuning::from_toml(&unknown)
                .unwrap_err()
                .contains("surprise")
        );
        let err = Tuning::default().with_half_life(0.0).unwrap_err();
        assert!(err.starts_with("half_life_days"), "{err}");
    }
}
