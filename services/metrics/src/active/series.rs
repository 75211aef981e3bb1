//! The daily series of a range of days, counted one user at a time: each
//! user's active days from 28 days before the range to its end, and whether
//! they were active earlier still, are added to difference arrays, so that a
//! user costs one step per active day whatever the windows.

use chrono::{Duration, NaiveDate};

use super::year::YearDays;

/// Days in the WAU window.
pub const WEEK: i64 = 7;
/// Days in the MAU window, and the look-back of returning actives.
pub const MONTH: i64 = 28;

/// One day's counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Day {
    /// Active on the day.
    pub dau: i64,
    /// Active in the 7 days ending with it.
    pub wau: i64,
    /// Active in the 28 days ending with it.
    pub mau: i64,
    /// Active on it for the first time.
    pub new: i64,
    /// Active on it and in the 28 days before.
    pub returning: i64,
    /// Active on it, earlier, but not in the 28 days before.
    pub resurrected: i64,
}

impl Day {
    /// DAU / MAU, 0 without any MAU.
    pub fn stickiness(&self) -> f64 {
        if self.mau == 0 {
            0.0
        } else {
            self.dau as f64 / self.mau as f64
        }
    }
}

/// The counts of `from..=to` being assembled.
#[derive(Debug, Clone)]
pub struct Series {
    from: NaiveDate,
    to: NaiveDate,
    days: Vec<Day>,
    wau_edges: Vec<i64>,
    mau_edges: Vec<i64>,
}

/// One user's activity as the series needs it: days active from
/// [`Series::look_from`] to the range's end, in order, and whether active
/// before that.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserDays {
    /// Active days on or after the look-back start, ascending.
    pub days: Vec<NaiveDate>,
    /// Active on some day before the look-back start.
    pub earlier: bool,
}

impl UserDays {
    /// Collects a user's active days in `from..=to` from their stored years
    /// (any order), noting activity before `from`.
    pub fn from_years(years: &[(i32, YearDays)], from: NaiveDate, to: NaiveDate) -> Self {
        let mut user = Self::default();
        let mut sorted: Vec<&(i32, YearDays)> = years.iter().collect();
        sorted.sort_by_key(|(year, _)| *year);
        for (year, bits) in sorted {
            if bits.is_empty() {
                continue;
            }
            let Some(jan1) = NaiveDate::from_ymd_opt(*year, 1, 1) else {
                continue;
            };
            for ordinal0 in 0..366u32 {
                if !bits.get(ordinal0) {
                    continue;
                }
                let day = jan1 + Duration::days(i64::from(ordinal0));
                if day < from {
                    user.earlier = true;
                } else if day <= to {
                    user.days.push(day);
                }
            }
        }
        user
    }
}

impl Series {
    /// An empty series of `from..=to` (`from` ≤ `to`).
    pub fn new(from: NaiveDate, to: NaiveDate) -> Self {
        let n = usize::try_from((to - from).num_days() + 1).unwrap_or(0);
        Self {
            from,
            to,
            days: vec![Day::default(); n],
            wau_edges: vec![0; n + 1],
            mau_edges: vec![0; n + 1],
        }
    }

    /// The first day whose activity matters: 28 days before the range.
    pub fn look_from(&self) -> NaiveDate {
        self.from - Duration::days(MONTH)
    }

    /// The range's last day.
    pub fn to(&self) -> NaiveDate {
        self.to
    }

    /// Adds one user (`days` from [`Self::look_from`] on, ascending).
    pub fn add(&mut self, user: &UserDays) {
        let n = self.days.len() as i64;
        let index = |day: NaiveDate| (day - self.from).num_days();
        let mut previous: Option<i64> = None;
        let (mut wau_end, mut mau_end) = (i64::MIN, i64::MIN);
        for &day in &user.days {
            let i = index(day);
            if (0..n).contains(&i) {
                let d = &mut self.days[i as usize];
                d.dau += 1;
                match previous {
                    Some(p) if i - p <= MONTH => d.returning += 1,
                    Some(_) => d.resurrected += 1,
                    None if user.earlier => d.resurrected += 1,
                    None => d.new += 1,
                }
            }
            cover(&mut self.wau_edges, &mut wau_end, i, WEEK, n);
            cover(&mut self.mau_edges, &mut mau_end, i, MONTH, n);
            previous = Some(i);
        }
    }

    /// The counts, day by day.
    pub fn finish(mut self) -> Vec<(NaiveDate, Day)> {
        let (mut wau, mut mau) = (0, 0);
        for (i, d) in self.days.iter_mut().enumerate() {
            wau += self.wau_edges[i];
            mau += self.mau_edges[i];
            d.wau = wau;
            d.mau = mau;
        }
        let from = self.from;
        self.days
            .into_iter()
            .enumerate()
            .map(|(i, d)| (from + Duration::days(i as i64), d))
            .collect()
    }
}

/// Counts a user in the window of `length` days starting at index `i` (the
/// days it is in the rolling window of), without counting again the days an
/// earlier active day of theirs already covers (`covered_to`).
fn cover(edges: &mut [i64], covered_to: &mut i64, i: i64, length: i64, n: i64) {
    let start = i.max(covered_to.saturating_add(1)).max(0);
    let end = (i + length - 1).min(n - 1);
    if start <= end {
        edges[start as usize] += 1;
        edges[end as usize + 1] -= 1;
    }
    *covered_to = (*covered_to).max(i + length - 1);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("a date")
    }

    /// The same counts straight from the definitions.
    fn by_definition(users: &[UserDays], from: NaiveDate, to: NaiveDate) -> Vec<Day> {
        let mut out = Vec::new();
        let mut d = from;
        while d <= to {
            let mut c = Day::default();
            for u in users {
                let active = |lo: i64, hi: i64| {
                    u.days.iter().any(|a| {
                        let back = (d - *a).num_days();
                        (lo..=hi).contains(&back)
                    })
                };
                if active(0, 0) {
                    c.dau += 1;
                    if active(1, MONTH) {
                        c.returning += 1;
                    } else if u.earlier || u.days.iter().any(|a| *a < d) {
                        c.resurrected += 1;
                    } else {
                        c.new += 1;
                    }
                }
                c.wau += i64::from(active(0, WEEK - 1));
                c.mau += i64::from(active(0, MONTH - 1));
            }
            out.push(c);
            d += Duration::days(1);
        }
        out
    }

    #[test]
    fn counts_match_the_definitions_on_random_users() {
        let (from, to) = (day("2025-03-01"), day("2025-04-15"));
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed >> 33
        };
        let users: Vec<UserDays> = (0..300)
            .map(|_| {
                let mut days: Vec<NaiveDate> = (0..(next() % 12))
                    .map(|_| from - Duration::days(MONTH) + Duration::days((next() % 75) as i64))
                    .collect();
                days.sort();
                days.dedup();
                UserDays {
                    days,
                    earlier: next() % 3 == 0,
                }
            })
            .collect();
        let mut series = Series::new(from, to);
        for u in &users {
            series.add(u);
        }
        let got: Vec<Day> = series.finish().into_iter().map(|(_, d)| d).collect();
        assert_eq!(got, by_definition(&users, from, to));
    }

    #[test]
    fn a_user_back_after_a_long_absence_is_resurrected_and_counted_once_per_window() {
        let (from, to) = (day("2025-03-01"), day("2025-03-10"));
        let user = UserDays {
            days: vec![day("2025-03-02"), day("2025-03-03")],
            earlier: true,
        };
        let mut series = Series::new(from, to);
        series.add(&user);
        let days = series.finish();
        let (first, second) = (days[1].1, days[2].1);
        assert_eq!((first.dau, first.resurrected, first.new), (1, 1, 0));
        assert_eq!((second.dau, second.returning), (1, 1));
        assert_eq!(days[9].1.wau, 0, "March 10: the 3rd left the week");
        assert_eq!(days[8].1.wau, 1, "March 9: the 3rd is 6 days back");
        assert!(days.iter().skip(1).all(|(_, d)| d.mau == 1));
        assert!((days[1].1.stickiness() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn years_become_days_in_order_with_earlier_activity_noted() {
        let mut y2024 = YearDays::default();
        y2024.set(365); // 2024-12-31
        y2024.set(10);
        let mut y2025 = YearDays::default();
        y2025.set(0); // 2025-01-01
        y2025.set(100);
        let user = UserDays::from_years(
            &[(2025, y2025), (2024, y2024)],
            day("2024-12-01"),
            day("2025-03-31"),
        );
        assert!(user.earlier);
        assert_eq!(user.days, [day("2024-12-31"), day("2025-01-01")]);
    }
}
