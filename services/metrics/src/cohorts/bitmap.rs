//! A user's activity bitmap assembled from absolute 64-day words of event
//! days (as the rebuild's statement groups them): the days moved to the
//! user's cohort-relative offsets, compared with the stored bitmap, and the
//! changed ones laid out as bind-ready columns. Pure; the rebuild
//! (`crate::repo::cohorts::rebuild`) reads and writes.

use super::matrix::BITMAP_BYTES;
use super::rollup::WINDOW_DAYS;

/// Words of a bitmap: `WINDOW_DAYS` bits in 64-bit words, most significant
/// bit first (bit 0 of the bitmap = the top bit of word 0).
pub const WORDS: usize = (WINDOW_DAYS as usize).div_ceil(64);

/// One user's bitmap being assembled: the cohort day and, from the events,
/// the active days after it and the latest offset; and what is stored, to
/// write only what differs.
#[derive(Debug, Clone, PartialEq)]
pub struct Bitmap {
    /// The cohort day, in days from the epoch.
    pub cohort_day: i32,
    /// The computed bits, most significant first.
    pub words: [u64; WORDS],
    /// The latest active offset computed, if any.
    pub last_offset: Option<i32>,
    /// The stored bits and latest offset.
    pub stored: ([u8; BITMAP_BYTES], Option<i32>),
}

impl Bitmap {
    /// An empty bitmap for `cohort_day`, with the stored bits and latest
    /// offset.
    pub fn new(cohort_day: i32, stored: ([u8; BITMAP_BYTES], Option<i32>)) -> Self {
        Self {
            cohort_day,
            words: [0; WORDS],
            last_offset: None,
            stored,
        }
    }

    /// The bitmap in its stored layout (bit 0 = top bit of byte 0).
    pub fn bytes(&self) -> [u8; BITMAP_BYTES] {
        let mut bytes = [0; BITMAP_BYTES];
        for (chunk, word) in bytes.chunks_mut(8).zip(self.words) {
            chunk.copy_from_slice(&word.to_be_bytes()[..chunk.len()]);
        }
        bytes
    }

    /// Whether the computed bitmap differs from the stored one.
    pub fn changed(&self) -> bool {
        (self.bytes(), self.last_offset) != self.stored
    }

    /// Adds the absolute word `word` (days `64 * word ..= 64 * word + 63`,
    /// the earliest in the top bit) whose latest day is `latest_day`. Days
    /// before the cohort day are not activity; days past the window only
    /// count for the latest offset.
    pub fn add_word(&mut self, word: i32, mut bits: u64, latest_day: i32) {
        let first_day = i64::from(word) * 64;
        while bits != 0 {
            let position = bits.trailing_zeros();
            bits &= bits - 1;
            let offset = first_day + 63 - i64::from(position) - i64::from(self.cohort_day);
            if (0..i64::from(WINDOW_DAYS)).contains(&offset) {
                self.words[(offset / 64) as usize] |= 1 << (63 - offset % 64);
            }
        }
        let latest = latest_day - self.cohort_day;
        if latest >= 0 && self.last_offset.is_none_or(|l| l < latest) {
            self.last_offset = Some(latest);
        }
    }
}

/// The users whose computed bitmap differs from the stored one, as
/// bind-ready columns: ids, one column per word, latest offsets (NULL: no
/// activity on or after the cohort day).
#[derive(Default)]
pub struct Columns {
    /// User ids.
    pub users: Vec<String>,
    /// One column per word.
    pub words: [Vec<i64>; WORDS],
    /// Latest offsets.
    pub last_offsets: Vec<Option<i32>>,
}

impl Columns {
    /// Adds `user`'s bitmap when it differs from the stored one.
    pub fn push(&mut self, user: String, bitmap: &Bitmap) {
        if !bitmap.changed() {
            return;
        }
        self.users.push(user);
        for (column, word) in self.words.iter_mut().zip(bitmap.words) {
            column.push(word as i64);
        }
        self.last_offsets.push(bitmap.last_offset);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nothing stored: an empty bitmap, no latest day.
    const NONE: ([u8; BITMAP_BYTES], Option<i32>) = ([0; BITMAP_BYTES], None);

    /// The absolute word and bit of `day`, as the statement computes them.
    fn word_of(day: i32) -> (i32, u64) {
        (day >> 6, 1u64 << (63 - (day & 63)))
    }

    fn offsets(bitmap: &Bitmap) -> Vec<i64> {
        (0..i64::from(WINDOW_DAYS))
            .filter(|&o| bitmap.words[(o / 64) as usize] & (1 << (63 - o % 64)) != 0)
            .collect()
    }

    #[test]
    fn days_move_to_their_offset_from_the_cohort_day() {
        let cohort = 100;
        let mut bitmap = Bitmap::new(cohort, NONE);
        for day in [100, 101, 163, 164, 400, 515] {
            let (word, bits) = word_of(day);
            bitmap.add_word(word, bits, day);
        }
        assert_eq!(offsets(&bitmap), vec![0, 1, 63, 64, 300, 415]);
        assert_eq!(bitmap.last_offset, Some(415));
    }

    #[test]
    fn days_before_the_cohort_and_past_the_window() {
        let mut bitmap = Bitmap::new(70, NONE);
        // One word holding days 64..=127: 65 is before the cohort day.
        let (word, low) = word_of(65);
        let (_, high) = word_of(90);
        bitmap.add_word(word, low | high, 90);
        // Past the window: not a bit, but the latest offset.
        let (word, bits) = word_of(70 + 500);
        bitmap.add_word(word, bits, 570);
        assert_eq!(offsets(&bitmap), vec![20]);
        assert_eq!(bitmap.last_offset, Some(500));
    }

    #[test]
    fn only_days_before_the_cohort_leave_no_activity() {
        let mut bitmap = Bitmap::new(10, NONE);
        let (word, bits) = word_of(9);
        bitmap.add_word(word, bits, 9);
        assert_eq!(offsets(&bitmap), Vec::<i64>::new());
        assert_eq!(bitmap.last_offset, None);
        let mut columns = Columns::default();
        columns.push("u".to_owned(), &bitmap);
        assert!(columns.users.is_empty());
    }

    #[test]
    fn days_before_the_epoch_round_down() {
        let mut bitmap = Bitmap::new(-70, NONE);
        for day in [-70, -65, -64, -1, 0] {
            let (word, bits) = word_of(day);
            bitmap.add_word(word, bits, day);
        }
        assert_eq!(offsets(&bitmap), vec![0, 5, 6, 69, 70]);
        assert_eq!(bitmap.last_offset, Some(70));
    }

    #[test]
    fn bytes_are_the_stored_layout_and_only_changes_are_written() {
        let mut bitmap = Bitmap::new(0, NONE);
        for day in [0, 9, 415] {
            let (word, bits) = word_of(day);
            bitmap.add_word(word, bits, day);
        }
        let mut expected = [0u8; BITMAP_BYTES];
        expected[0] = 0b1000_0000;
        expected[1] = 0b0100_0000;
        expected[51] = 0b0000_0001;
        assert_eq!(bitmap.bytes(), expected);
        assert!(bitmap.changed());

        // Events that confirm the stored bitmap write nothing.
        let mut confirmed = Bitmap::new(0, (expected, Some(415)));
        for day in [0, 9, 415] {
            let (word, bits) = word_of(day);
            confirmed.add_word(word, bits, day);
        }
        // A stored bitmap that no event supports any more is cleared.
        let stale = Bitmap::new(0, (expected, Some(415)));
        let mut columns = Columns::default();
        columns.push("confirmed".to_owned(), &confirmed);
        columns.push("stale".to_owned(), &stale);
        assert_eq!(columns.users, vec!["stale".to_owned()]);
        assert_eq!(columns.last_offsets, vec![None]);
        assert!(columns.words.iter().all(|w| w == &vec![0]));
    }
}
