//! Retention matrices from the per-user rollup, in one pass: each user adds
//! itself to its day, week and month cohort; its active days become the set
//! of active period offsets per granularity ("on"), and its latest active
//! day the highest period it reached ("on or after"). No I/O.

use std::collections::{BTreeMap, HashMap};

use chrono::{Days, NaiveDate};

use super::measure::Mode;
use super::period::Period;
use super::rollup::WINDOW_DAYS;

const WINDOW: usize = WINDOW_DAYS as usize;
/// Bytes of a stored bitmap.
pub const BITMAP_BYTES: usize = WINDOW / 8;

/// One user as the rollup stores it.
#[derive(Debug, Clone)]
pub struct UserActivity {
    /// Signup day in the reporting time zone.
    pub cohort_day: NaiveDate,
    /// Bit i (most significant bit of byte 0 = bit 0) = active on
    /// `cohort_day + i`.
    pub bits: [u8; BITMAP_BYTES],
    /// Latest active day on or after the cohort day, if any.
    pub last_active_day: Option<NaiveDate>,
}

/// One cohort's counts, offsets 0..=max.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CohortCounts {
    /// Users in the cohort.
    pub size: i64,
    /// Users active in period k.
    pub on: Vec<i64>,
    /// Users whose latest activity is in period k or later.
    pub on_or_after: Vec<i64>,
}

impl CohortCounts {
    /// The retained users of `mode`.
    pub fn retained(&self, mode: Mode) -> &[i64] {
        match mode {
            Mode::On => &self.on,
            Mode::OnOrAfter => &self.on_or_after,
        }
    }
}

/// The three matrices: cohort start → counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matrices {
    /// By granularity.
    pub by_period: BTreeMap<Period, BTreeMap<NaiveDate, CohortCounts>>,
}

/// For one cohort day: the week and month offset of each day of the window
/// (`u8::MAX` past the matrix).
struct Offsets {
    week: [u8; WINDOW],
    month: [u8; WINDOW],
}

impl Offsets {
    fn new(cohort_day: NaiveDate) -> Self {
        let mut week = [u8::MAX; WINDOW];
        let mut month = [u8::MAX; WINDOW];
        for i in 0..WINDOW {
            let day = cohort_day + Days::new(i as u64);
            for (out, period) in [(&mut week, Period::Week), (&mut month, Period::Month)] {
                let k = period.offset(cohort_day, day);
                if k <= period.max_offset() {
                    out[i] = k as u8;
                }
            }
        }
        Self { week, month }
    }
}

/// Calls `f` with the index of every set bit, in order.
fn for_each_set_bit(bits: &[u8], mut f: impl FnMut(usize)) {
    for (w, chunk) in bits.chunks(8).enumerate() {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        let mut x = u64::from_be_bytes(word);
        while x != 0 {
            let lz = x.leading_zeros() as usize;
            f(w * 64 + lz);
            x &= !(1u64 << (63 - lz));
        }
    }
}

impl Matrices {
    fn cohort(&mut self, period: Period, start: NaiveDate) -> &mut CohortCounts {
        let n = period.max_offset() as usize + 1;
        self.by_period
            .entry(period)
            .or_default()
            .entry(start)
            .or_insert_with(|| CohortCounts {
                size: 0,
                on: vec![0; n],
                on_or_after: vec![0; n],
            })
    }

    /// All three matrices of `users`.
    pub fn compute<'a>(users: impl IntoIterator<Item = &'a UserActivity>) -> Self {
        let mut builder = Builder::default();
        for user in users {
            builder.add(user);
        }
        builder.finish()
    }
}

/// Adds users to the matrices one at a time, so that they can be counted as
/// they are read. Users are first counted per cohort day (one hash lookup
/// per user), with the latest active offset kept as a histogram; `finish`
/// adds the days into their week and month cohorts and turns the histograms
/// into "on or after" counts.
#[derive(Default)]
pub struct Builder {
    days: HashMap<NaiveDate, Day>,
}

/// The users of one cohort day: its offset tables and, per granularity, the
/// counts with `on_or_after` holding the histogram of latest offsets.
struct Day {
    offsets: Offsets,
    counts: [CohortCounts; 3],
}

const PERIODS: [Period; 3] = [Period::Day, Period::Week, Period::Month];

impl Day {
    fn new(cohort_day: NaiveDate) -> Self {
        let counts = PERIODS.map(|p| {
            let n = p.max_offset() as usize + 1;
            CohortCounts {
                size: 0,
                on: vec![0; n],
                on_or_after: vec![0; n],
            }
        });
        Day {
            offsets: Offsets::new(cohort_day),
            counts,
        }
    }
}

impl Builder {
    /// Counts `user` in its three cohorts.
    pub fn add(&mut self, user: &UserActivity) {
        let c = user.cohort_day;
        let day = self.days.entry(c).or_insert_with(|| Day::new(c));
        // Active offsets per granularity as bit masks (at most 31 periods).
        let mut masks = [0u32; 3];
        let offsets = &day.offsets;
        for_each_set_bit(&user.bits, |i| {
            if i >= WINDOW {
                return;
            }
            if i <= 30 {
                masks[0] |= 1 << i;
            }
            if offsets.week[i] != u8::MAX {
                masks[1] |= 1 << offsets.week[i];
            }
            if offsets.month[i] != u8::MAX {
                masks[2] |= 1 << offsets.month[i];
            }
        });
        for ((period, counts), mask) in PERIODS.iter().zip(&mut day.counts).zip(masks) {
            counts.size += 1;
            let mut m = mask;
            while m != 0 {
                let k = m.trailing_zeros() as usize;
                counts.on[k] += 1;
                m &= m - 1;
            }
            let last = user
                .last_active_day
                .map(|d| period.offset(c, d).min(period.max_offset()));
            if let Some(last) = last.filter(|l| *l >= 0) {
                counts.on_or_after[last as usize] += 1;
            }
        }
    }

    /// The matrices of every user added.
    pub fn finish(self) -> Matrices {
        let mut out = Matrices::default();
        for (c, day) in self.days {
            for (period, counts) in PERIODS.iter().zip(day.counts) {
                let total = out.cohort(*period, period.start_of(c));
                total.size += counts.size;
                for (a, b) in total.on.iter_mut().zip(&counts.on) {
                    *a += b;
                }
                for (a, b) in total.on_or_after.iter_mut().zip(&counts.on_or_after) {
                    *a += b;
                }
            }
        }
        // Histograms of latest offsets into "latest offset k or later".
        for cohorts in out.by_period.values_mut() {
            for counts in cohorts.values_mut() {
                let mut tail = 0;
                for v in counts.on_or_after.iter_mut().rev() {
                    tail += *v;
                    *v = tail;
                }
            }
        }
        out
    }
}

#[cfg(test)]
#[path = "matrix_tests.rs"]
mod tests;
