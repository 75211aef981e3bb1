//! Active users over calendar days (DAU, WAU, MAU, stickiness; new,
//! returning and resurrected actives), from the per-user, per-year bitmaps
//! of `metrics.user_active_years` that the fold keeps and the rollup rebuild
//! rebuilds. Pure: [`year`] is one stored row's bits, [`series`] the daily
//! counts over a range; `crate::repo::active_years` reads and writes.
//!
//! Windows: WAU counts users active in the 7 days ending with the day, MAU
//! in the 28 days ending with it (rolling, so that every MAU covers four
//! whole weeks: the same weekdays, whatever the month). A user active on a
//! day is *returning* when also active in the 28 days before, *resurrected*
//! when active before that but not in those 28 days, and *new* otherwise.

pub mod series;
pub mod year;
