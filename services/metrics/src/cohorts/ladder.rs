//! The chain-ladder of cohort value (pure): development factors learned
//! from the cohorts' complete months, and the projection of a cohort's
//! cumulative net revenue per user from its last complete month to month
//! [`LAST_OFFSET`]. One currency at a time: the caller never mixes them.
//! docs/METRICS.md ("Cohort value (LTV)") has the method and its
//! assumptions.

/// The last month of an LTV curve: offset 11, the twelfth month.
pub const LAST_OFFSET: usize = 11;

/// Fewest users a cohort needs to be projected, or to shape the factors: a
/// smaller cohort's curve is a handful of customers, not a pattern.
pub const MIN_USERS: i64 = 10;

/// One cohort's measured curve in one currency, as the factors learn from
/// it.
#[derive(Debug, Clone, Copy)]
pub struct Basis<'a> {
    /// Users of the cohort.
    pub users: i64,
    /// Cumulative net revenue (minor units, all users together) at the end of
    /// each complete month, offset 0 first.
    pub complete: &'a [i64],
}

/// The development factors f(0)..f(10) of one currency: f(k) is the sum over
/// the cohorts of at least [`MIN_USERS`] users with months k and k+1 complete
/// of their cumulative net revenue at k+1, over the same sum at k. Summing
/// amounts (not averaging per-user ratios) weights each cohort by its users
/// and revenue. Undefined (`None`) without such a cohort, or when the sum at
/// k is not positive (nothing to scale).
#[derive(Debug, Clone, PartialEq)]
pub struct Factors(Vec<Option<f64>>);

impl Factors {
    /// The factors learned from `curves`.
    pub fn learn<'a>(curves: impl IntoIterator<Item = Basis<'a>>) -> Self {
        let mut sums = [(0i128, 0i128, false); LAST_OFFSET];
        for curve in curves.into_iter().filter(|c| c.users >= MIN_USERS) {
            for (k, (at, next, seen)) in sums.iter_mut().enumerate() {
                if let (Some(a), Some(b)) = (curve.complete.get(k), curve.complete.get(k + 1)) {
                    *at += i128::from(*a);
                    *next += i128::from(*b);
                    *seen = true;
                }
            }
        }
        Self(
            sums.iter()
                .map(|(at, next, seen)| (*seen && *at > 0).then(|| *next as f64 / *at as f64))
                .collect(),
        )
    }

    /// f(k); `None` when undefined or past the curve.
    pub fn get(&self, k: usize) -> Option<f64> {
        self.0.get(k).copied().flatten()
    }

    /// `value` (per user, at the end of month `anchor`) carried forward: the
    /// values of months anchor+1, anchor+2, … up to [`LAST_OFFSET`], each
    /// the one before times its factor, stopping before the first undefined
    /// factor.
    pub fn project(&self, anchor: usize, value: f64) -> Vec<f64> {
        let mut out = Vec::new();
        let mut v = value;
        for k in anchor..LAST_OFFSET {
            let Some(f) = self.get(k) else { break };
            v *= f;
            out.push(v);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basis(users: i64, complete: &[i64]) -> Basis<'_> {
        Basis { users, complete }
    }

    #[test]
    fn a_factor_sums_the_cohorts_having_both_months() {
        // Cohort A (10 users): 10,000 → 15,000 → 20,000; B (20 users):
        // 10,000 → 14,000, month 2 not over. f(0) = (15,000 + 14,000) /
        // (10,000 + 10,000) = 1.45; f(1) = 20,000 / 15,000 (A alone).
        let a = [10_000, 15_000, 20_000];
        let b = [10_000, 14_000];
        let f = Factors::learn([basis(10, &a), basis(20, &b)]);
        assert_eq!(f.get(0), Some(1.45));
        assert_eq!(f.get(1), Some(20_000.0 / 15_000.0));
        assert_eq!(f.get(2), None, "no cohort has month 3");
        assert_eq!(f.get(LAST_OFFSET), None);
    }

    #[test]
    fn small_cohorts_and_months_without_revenue_define_no_factor() {
        let tiny = [1_000, 90_000];
        let unpaid = [0, 5_000, 6_000];
        let f = Factors::learn([basis(9, &tiny), basis(10, &unpaid)]);
        assert_eq!(
            f.get(0),
            None,
            "the small cohort does not count, 0 cannot scale"
        );
        assert_eq!(f.get(1), Some(1.2));
        assert_eq!(Factors::learn([]).get(0), None);
    }

    #[test]
    fn a_month_of_net_refunds_gives_a_factor_below_one() {
        let a = [20_000, 18_000];
        assert_eq!(Factors::learn([basis(10, &a)]).get(0), Some(0.9));
    }

    #[test]
    fn a_projection_multiplies_forward_and_stops_at_the_first_gap() {
        let a = [1_000, 2_000, 3_000, 6_000];
        let f = Factors::learn([basis(10, &a)]);
        // f = 2, 1.5, 2, then undefined.
        assert_eq!(f.project(0, 50.0), [100.0, 150.0, 300.0]);
        assert_eq!(f.project(2, 10.0), [20.0]);
        assert!(f.project(3, 10.0).is_empty());
    }

    #[test]
    fn a_full_history_projects_to_the_twelfth_month() {
        let a: Vec<i64> = (1..=12).map(|m| m * 1_000).collect();
        let f = Factors::learn([basis(10, &a)]);
        let p = f.project(1, 4.0);
        assert_eq!(p.len(), LAST_OFFSET - 1);
        // 4 per user at month 1 (2,000 for the basis) → 12,000 / 2,000 · 4.
        assert!((p[p.len() - 1] - 24.0).abs() < 1e-9, "{p:?}");
    }
}
