//! The audit's settings for entitlement drift and stale money states
//! (environment variables of metrics-svc, read once at start; a bad value
//! stops the service with a message naming the variable).

use std::collections::HashMap;

use clap::Args;

/// `STRIPE_PRICE_PLANS` and `AUDIT_STALE_AFTER_HOURS`.
#[derive(Debug, Clone, Args)]
pub struct DriftArgs {
    /// Which plan each Stripe price grants, `price_…=plan` pairs separated
    /// by commas (e.g. `price_1Pro=pro,price_1Team=team`); empty: plans are
    /// not compared.
    #[arg(long, env = "STRIPE_PRICE_PLANS", default_value = "")]
    pub stripe_price_plans: String,

    /// Hours after which a PaymentIntent still in requires_capture, or a
    /// charge or refund still pending, is a finding.
    #[arg(long, env = "AUDIT_STALE_AFTER_HOURS", default_value_t = 24)]
    pub audit_stale_after_hours: u32,
}

impl Default for DriftArgs {
    fn default() -> Self {
        Self {
            stripe_price_plans: String::new(),
            audit_stale_after_hours: 24,
        }
    }
}

/// The settings, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftSettings {
    /// Stripe price id → plan.
    pub price_plans: HashMap<String, String>,
    /// How long a money state may last before it is a finding.
    pub stale_after: chrono::Duration,
}

impl Default for DriftSettings {
    fn default() -> Self {
        Self {
            price_plans: HashMap::new(),
            stale_after: chrono::Duration::hours(24),
        }
    }
}

impl DriftArgs {
    /// Parses the map; `Err` names the variable and the bad entry.
    pub fn settings(&self) -> Result<DriftSettings, String> {
        let mut price_plans = HashMap::new();
        for entry in self.stripe_price_plans.split(',').map(str::trim) {
            if entry.is_empty() {
                continue;
            }
            let bad = |why: &str| format!("STRIPE_PRICE_PLANS: {entry:?} {why}");
            let Some((price, plan)) = entry.split_once('=') else {
                return Err(bad("is not price=plan"));
            };
            let (price, plan) = (price.trim(), plan.trim());
            if !price.starts_with("price_") && !price.starts_with("plan_") {
                return Err(bad("does not start with a Stripe price id (price_…)"));
            }
            if plan.is_empty() {
                return Err(bad("names no plan"));
            }
            if price_plans
                .insert(price.to_owned(), plan.to_owned())
                .is_some()
            {
                return Err(bad("maps a price a second time"));
            }
        }
        if self.audit_stale_after_hours == 0 {
            return Err("AUDIT_STALE_AFTER_HOURS: must be at least 1".to_owned());
        }
        Ok(DriftSettings {
            price_plans,
            stale_after: chrono::Duration::hours(i64::from(self.audit_stale_after_hours)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(plans: &str) -> DriftArgs {
        DriftArgs {
            stripe_price_plans: plans.to_owned(),
            ..DriftArgs::default()
        }
    }

    #[test]
    fn the_price_map_is_read_and_bad_entries_are_named() {
        let s = args(" price_A=pro, price_B = team ,").settings().unwrap();
        assert_eq!(s.price_plans["price_A"], "pro");
        assert_eq!(s.price_plans["price_B"], "team");
        assert!(args("").settings().unwrap().price_plans.is_empty());
        assert_eq!(
            args("price_A").settings().unwrap_err(),
            "STRIPE_PRICE_PLANS: \"price_A\" is not price=plan"
        );
        assert!(
            args("pro=price_A")
                .settings()
                .unwrap_err()
                .contains("price_…")
        );
        assert!(
            args("price_A=pro,price_A=team")
                .settings()
                .unwrap_err()
                .contains("second time")
        );
        let zero = DriftArgs {
            audit_stale_after_hours: 0,
            ..DriftArgs::default()
        };
        assert!(
            zero.settings()
                .unwrap_err()
                .starts_with("AUDIT_STALE_AFTER_HOURS")
        );
    }
}
