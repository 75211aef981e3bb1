//! Cohort value (pure): the LTV curves of monthly cohorts, cumulative net
//! revenue per user at the end of each month since signup, per currency,
//! measured from the stored revenue cells (mode "on": each month's payments
//! minus the refunds made in it) and projected to month 11 with the
//! chain-ladder (`super::ladder`). docs/METRICS.md ("Cohort value (LTV)")
//! has the definitions and the assumptions.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::ladder::{Basis, Factors, LAST_OFFSET, MIN_USERS};
use super::period::{Cohorts, Period};
use super::read;
use super::revenue::CohortRevenue;

/// How projections are made, in a sentence (the response's `method`).
pub fn method() -> String {
    format!(
        "chain-ladder per currency: after a cohort's last complete month, its cumulative net \
         revenue per user is multiplied by development factors, month k to k+1 = the sum of \
         older cohorts' cumulative net revenue at k+1 over their sum at k (cohorts of at least \
         {MIN_USERS} users with both months complete); not projected for cohorts under \
         {MIN_USERS} users, without a complete month, with a negative value, or past the last \
         month older cohorts cover (docs/METRICS.md, \"Cohort value (LTV)\")"
    )
}

/// A monthly cohort as stored: its users and its revenue cells.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cohort {
    /// Users who signed up in the month.
    pub users: i64,
    /// Lower-case currency → revenue cells (mode "on").
    pub revenue: BTreeMap<String, CohortRevenue>,
}

/// One point of a curve.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Months since the cohort's month.
    pub offset: i32,
    /// Cumulative net revenue per user at the month's end (minor units).
    pub per_user_minor: f64,
    /// The month is not over (measured so far) or in the future (projected).
    pub partial: bool,
    /// Projected, not measured.
    pub projected: bool,
}

/// The LTV curve of one cohort in one currency.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// The cohort's first day.
    pub cohort: NaiveDate,
    /// Its users.
    pub users: i64,
    /// Lower-case currency.
    pub currency: String,
    /// Measured months, then projected ones.
    pub points: Vec<Point>,
    /// The value at month 11, measured or projected; when the curve stops
    /// before it, the last measured value.
    pub ltv_12m_minor: f64,
    /// Whether `ltv_12m_minor` is projected.
    pub ltv_12m_projected: bool,
}

/// One cohort's measured cumulative net revenue in one currency (all its
/// users together, minor units), for the months begun by today up to month
/// 11, and how many of them are over.
struct Measured {
    cumulative: Vec<i64>,
    complete: usize,
}

fn measure(cohort: NaiveDate, revenue: Option<&CohortRevenue>, today: NaiveDate) -> Measured {
    let months: Vec<bool> = read::visible(Period::Month, cohort, today)
        .take(LAST_OFFSET + 1)
        .map(|(_, running)| running)
        .collect();
    let mut total = 0i64;
    let cumulative = (0..months.len())
        .map(|k| {
            let cell = revenue.and_then(|r| r.by_offset.get(k)).copied();
            total = total.saturating_add(cell.unwrap_or(0));
            total
        })
        .collect();
    Measured {
        cumulative,
        complete: months.iter().take_while(|running| !**running).count(),
    }
}

/// The curve of `cohort` in one currency, projected with `factors` when it
/// can be.
fn curve(cohort: NaiveDate, users: i64, currency: &str, m: &Measured, factors: &Factors) -> Curve {
    let per_user = |amount: i64| amount as f64 / users as f64;
    let mut points: Vec<Point> = m
        .cumulative
        .iter()
        .enumerate()
        .map(|(k, amount)| Point {
            offset: k as i32,
            per_user_minor: per_user(*amount),
            partial: k >= m.complete,
            projected: false,
        })
        .collect();
    let last_measured = points.last().map_or(0.0, |p| p.per_user_minor);
    let anchor = m.complete.checked_sub(1);
    if let Some(anchor) = anchor.filter(|a| users >= MIN_USERS && m.cumulative[*a] >= 0) {
        let projected = factors.project(anchor, per_user(m.cumulative[anchor]));
        let first_future = m.cumulative.len();
        for (k, v) in (anchor + 1..)
            .zip(projected)
            .skip_while(|(k, _)| *k < first_future)
        {
            points.push(Point {
                offset: k as i32,
                per_user_minor: v,
                partial: true,
                projected: true,
            });
        }
    }
    let (ltv_12m_minor, ltv_12m_projected) = match points.last() {
        Some(p) if p.offset == LAST_OFFSET as i32 => (p.per_user_minor, p.projected),
        _ => (last_measured, false),
    };
    Curve {
        cohort,
        users,
        currency: currency.to_owned(),
        points,
        ltv_12m_minor,
        ltv_12m_projected,
    }
}

/// The curves of the cohorts in `wanted` (by cohort, then currency), as of
/// `today` (reporting time zone). Every cohort has a curve in every currency
/// any cohort has revenue in (a cohort that paid nothing in it is worth 0
/// there); cohorts without users have none. The factors are learned from
/// all `cohorts`, whatever `wanted` is, so that a cohort's projection does
/// not depend on the range asked for.
pub fn curves(
    cohorts: &BTreeMap<NaiveDate, Cohort>,
    wanted: Cohorts,
    today: NaiveDate,
) -> Vec<Curve> {
    let cohorts: Vec<(NaiveDate, &Cohort)> = cohorts
        .iter()
        .filter(|(start, c)| c.users > 0 && **start <= today)
        .map(|(start, c)| (*start, c))
        .collect();
    let currencies: BTreeSet<&String> =
        cohorts.iter().flat_map(|(_, c)| c.revenue.keys()).collect();
    let mut out = Vec::new();
    for currency in currencies {
        let measured: Vec<Measured> = cohorts
            .iter()
            .map(|(start, c)| measure(*start, c.revenue.get(currency), today))
            .collect();
        let factors = Factors::learn(cohorts.iter().zip(&measured).map(|((_, c), m)| Basis {
            users: c.users,
            complete: &m.cumulative[..m.complete],
        }));
        out.extend(
            cohorts
                .iter()
                .zip(&measured)
                .filter(|((start, _), _)| wanted.contains(*start))
                .map(|((start, c), m)| curve(*start, c.users, currency, m, &factors)),
        );
    }
    out.sort_by(|a, b| (a.cohort, &a.currency).cmp(&(b.cohort, &b.currency)));
    out
}

#[cfg(test)]
#[path = "value_tests.rs"]
mod tests;
