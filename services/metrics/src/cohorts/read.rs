//! Matrix rows as `GetRetentionMatrix` and `GetCohortOverview` show them:
//! periods that have not begun are left out, periods that have not ended are
//! marked incomplete (whatever their value, never a final 0%). The stored
//! cells are read by `crate::repo::cohorts::read`.

use chrono::NaiveDate;

use super::period::Period;

/// One stored row of a matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Period offset.
    pub offset: i32,
    /// Users retained.
    pub retained: i64,
    /// The period has not ended.
    pub incomplete: bool,
}

/// A cohort's row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Cohort start.
    pub cohort: NaiveDate,
    /// Users in it.
    pub size: i64,
    /// Cells of the periods that have begun.
    pub cells: Vec<Cell>,
}

impl Row {
    /// The row of a cohort computed from `retained` (offsets 0..=max), with
    /// the periods not begun by `today` left out.
    pub fn from_counts(
        period: Period,
        cohort: NaiveDate,
        size: i64,
        retained: &[i64],
        today: NaiveDate,
    ) -> Self {
        Row {
            cohort,
            size,
            cells: visible(period, cohort, today)
                .zip(retained)
                .map(|((offset, incomplete), retained)| Cell {
                    offset,
                    retained: *retained,
                    incomplete,
                })
                .collect(),
        }
    }
}

/// The offsets of the cohort starting `cohort` whose periods have begun by
/// `today`, each with whether its period is still running.
pub fn visible(
    period: Period,
    cohort: NaiveDate,
    today: NaiveDate,
) -> impl Iterator<Item = (i32, bool)> {
    (0..=period.max_offset())
        .take_while(move |offset| period.nth_start(cohort, *offset) <= today)
        .map(move |offset| (offset, period.nth_start(cohort, offset + 1) > today))
}
