//! One user's active days of one calendar year: `bit(366)` in the database,
//! bit `d - 1` (from the left) for day-of-year `d`, as six 64-bit words here
//! (most significant bit first; the 18 bits past 366 stay 0).

use chrono::{Datelike as _, NaiveDate};

/// Words of a year.
pub const WORDS: usize = 6;
/// Bits of a year in the database.
pub const BITS: usize = 366;
/// Bytes of the database's `bit(366)`.
pub const BYTES: usize = BITS.div_ceil(8);

/// The active days of one year.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct YearDays(pub [u64; WORDS]);

impl YearDays {
    /// Marks day-of-year `ordinal0` (0 = January 1st) active.
    pub fn set(&mut self, ordinal0: u32) {
        let i = ordinal0 as usize;
        if i < BITS {
            self.0[i / 64] |= 1 << (63 - i % 64);
        }
    }

    /// Whether day-of-year `ordinal0` is active.
    pub fn get(&self, ordinal0: u32) -> bool {
        let i = ordinal0 as usize;
        i < BITS && self.0[i / 64] & (1 << (63 - i % 64)) != 0
    }

    /// Whether no day is active.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    /// From the database's bytes of a `bit(366)` (most significant first);
    /// shorter input leaves the rest inactive, longer input is cut.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let mut days = Self::default();
        for (i, byte) in bytes.iter().take(BYTES).enumerate() {
            days.0[i / 8] |= u64::from(*byte) << (56 - 8 * (i % 8));
        }
        days
    }

    /// The words as `int8` values to bind (`w::bit(64)` gives the bits back).
    pub fn signed_words(&self) -> [i64; WORDS] {
        self.0.map(|w| w as i64)
    }
}

/// The calendar year and day-of-year (0 = January 1st) of `day`.
pub fn place(day: NaiveDate) -> (i32, u32) {
    (day.year(), day.ordinal0())
}

/// One user's years in a rebuild: the ones assembled from their active days
/// and the ones stored, to compare.
#[derive(Debug, Default)]
pub struct UserYears {
    kept: Vec<(i16, YearDays)>,
    stored: Vec<(i16, YearDays)>,
}

impl UserYears {
    /// Adds the active days of the 64 days from `first`: bit 63 (the most
    /// significant) is `first`, bit 0 is 63 days later. The word is shifted
    /// into place (split where a year ends), not walked bit by bit: a
    /// rebuild adds one word per user and 64 days of activity.
    pub fn add_word(&mut self, first: NaiveDate, bits: u64) {
        if bits != 0 {
            add(&mut self.kept, first, bits);
        }
    }

    /// Records a stored year.
    pub fn store(&mut self, year: i16, days: YearDays) {
        self.stored.push((year, days));
    }

    /// What to write so that the stored rows hold the assembled years: the
    /// years that are new or differ, then the stored years no longer active.
    pub fn changes(self) -> (Vec<(i16, YearDays)>, Vec<i16>) {
        let mut before = self.stored;
        let mut changed = Vec::new();
        for (year, days) in self.kept {
            match before.iter().position(|(y, _)| *y == year) {
                Some(i) => {
                    if before.swap_remove(i).1 != days {
                        changed.push((year, days));
                    }
                }
                None => changed.push((year, days)),
            }
        }
        (changed, before.into_iter().map(|(y, _)| y).collect())
    }
}

/// ORs `bits` (most significant first: `first`, then the 63 days after it)
/// into `years`.
fn add(years: &mut Vec<(i16, YearDays)>, first: NaiveDate, bits: u64) {
    let (year, offset) = place(first);
    let left = days_in(year) - offset; // days of `year` from `first` on
    let (this, next) = if left >= 64 {
        (bits, 0)
    } else {
        (bits & (!0u64 << (64 - left)), bits << left)
    };
    // No entry for a year without a day: no row is stored for one.
    if this != 0 {
        or_at(entry(years, year), offset, this);
    }
    if next != 0 {
        or_at(entry(years, year + 1), 0, next);
    }
}

/// Days in `year`.
fn days_in(year: i32) -> u32 {
    if NaiveDate::from_ymd_opt(year, 2, 29).is_some() {
        366
    } else {
        365
    }
}

/// The year's days in `years`, added empty when missing (years outside
/// `i16` are dropped into a scratch entry that is never stored).
fn entry(years: &mut Vec<(i16, YearDays)>, year: i32) -> &mut YearDays {
    let year = i16::try_from(year).unwrap_or(i16::MIN);
    let i = match years.iter().position(|(y, _)| *y == year) {
        Some(i) => i,
        None => {
            years.push((year, YearDays::default()));
            years.len() - 1
        }
    };
    &mut years[i].1
}

/// ORs `bits` (most significant first) in from day-of-year `offset`.
fn or_at(days: &mut YearDays, offset: u32, bits: u64) {
    let (w, s) = ((offset / 64) as usize, offset % 64);
    if w < WORDS {
        days.0[w] |= bits >> s;
    }
    if s > 0 && w + 1 < WORDS {
        days.0[w + 1] |= bits << (64 - s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn days_are_placed_from_the_left_and_read_back_from_bytes() {
        let mut days = YearDays::default();
        for d in [0, 1, 63, 64, 365] {
            days.set(d);
        }
        days.set(400); // past the year: ignored
        assert!(days.get(0) && days.get(63) && days.get(64) && days.get(365));
        assert!(!days.get(2) && !days.get(400));
        // The bytes PostgreSQL sends for that bit(366): 1100…, …1 at 63, 1 at 64, 1 at 365.
        let mut bytes = [0u8; BYTES];
        bytes[0] = 0b1100_0000;
        bytes[7] = 0b0000_0001;
        bytes[8] = 0b1000_0000;
        bytes[45] = 0b0000_0100;
        assert_eq!(YearDays::from_bytes(&bytes), days);
        assert_eq!(days.signed_words()[0], (0xC000_0000_0000_0001_u64) as i64);
    }

    #[test]
    fn a_leap_years_last_day_is_the_last_bit() {
        let dec31 = NaiveDate::from_ymd_opt(2024, 12, 31).expect("valid");
        assert_eq!(place(dec31), (2024, 365));
        let dec31 = NaiveDate::from_ymd_opt(2025, 12, 31).expect("valid");
        assert_eq!(place(dec31), (2025, 364));
    }

    #[test]
    fn words_across_new_year_land_in_both_years_and_only_changes_are_written() {
        let mut years = UserYears::default();
        // 64 days from 2024-12-30: bits for Dec 30, Dec 31 and Jan 1.
        let first = NaiveDate::from_ymd_opt(2024, 12, 30).expect("valid");
        years.add_word(first, (0b111u64) << 61);
        let mut y2024 = YearDays::default();
        y2024.set(364);
        y2024.set(365);
        let mut y2025 = YearDays::default();
        y2025.set(0);
        years.store(2024, y2024);
        years.store(2023, y2025);
        let (changed, gone) = years.changes();
        assert_eq!(changed, [(2025, y2025)]);
        assert_eq!(gone, [2023]);
    }

    #[test]
    fn a_shifted_word_sets_the_same_days_as_setting_them_one_by_one() {
        let mut seed = 11u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed
        };
        let start = NaiveDate::from_ymd_opt(2023, 9, 1).expect("valid");
        for _ in 0..2000 {
            let first = start + Duration::days((next() % 900) as i64);
            let bits = next();
            let mut shifted = UserYears::default();
            shifted.add_word(first, bits);
            let mut reference: Vec<(i16, YearDays)> = Vec::new();
            for k in 0..64 {
                if bits & (1 << (63 - k)) != 0 {
                    let (year, ordinal0) = place(first + Duration::days(k));
                    entry(&mut reference, year).set(ordinal0);
                }
            }
            let mut got = shifted.kept;
            got.sort_by_key(|(y, _)| *y);
            reference.sort_by_key(|(y, _)| *y);
            assert_eq!(got, reference, "{first} {bits:#x}");
        }
    }
}
