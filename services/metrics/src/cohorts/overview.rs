//! `GetCohortOverview`: per cohort, its users and paying users now, net
//! revenue to date per currency (stored revenue cells), and retention at a
//! few checkpoint offsets (stored user cells, mode "on").

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::period::Period;
use super::read;
use super::revenue::CohortRevenue;

/// The offsets an overview shows for `period`.
pub fn checkpoints(period: Period) -> &'static [i32] {
    match period {
        Period::Day => &[1, 7, 30],
        Period::Week => &[1, 4, 12],
        Period::Month => &[1, 3, 12],
    }
}

/// One cohort's headline numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct OverviewRow {
    /// Cohort start.
    pub cohort: NaiveDate,
    /// Users in the cohort now.
    pub users: i64,
    /// Of those, users with at least one captured payment.
    pub paying: i64,
    /// Net revenue to date per currency (as of the last refresh).
    pub revenue: BTreeMap<String, i64>,
    /// The stored row the checkpoints come from (as of the last refresh).
    pub stored: Option<read::Row>,
}

/// The overview rows from each cohort's `members` (cohort, users, paying
/// users), its `stored` matrix row and its stored revenue (`money`).
pub fn overview(
    members: Vec<(NaiveDate, i64, i64)>,
    stored: Vec<read::Row>,
    mut money: BTreeMap<NaiveDate, BTreeMap<String, CohortRevenue>>,
) -> Vec<OverviewRow> {
    let mut stored: BTreeMap<NaiveDate, read::Row> =
        stored.into_iter().map(|r| (r.cohort, r)).collect();
    members
        .into_iter()
        .map(|(cohort, users, paying)| OverviewRow {
            cohort,
            users,
            paying,
            revenue: money
                .remove(&cohort)
                .unwrap_or_default()
                .into_iter()
                .map(|(currency, r)| (currency, r.total()))
                .collect(),
            stored: stored.remove(&cohort),
        })
        .collect()
}
