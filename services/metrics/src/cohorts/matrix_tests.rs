//! Matrices on hand-computed users.

use super::*;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// A user who signed up on `cohort` and was active on `days` (dates).
fn user(cohort: &str, days: &[&str]) -> UserActivity {
    let c = d(cohort);
    let mut bits = [0u8; BITMAP_BYTES];
    let mut last = None;
    for day in days {
        let i = (d(day) - c).num_days();
        if (0..WINDOW as i64).contains(&i) {
            bits[i as usize / 8] |= 0x80 >> (i % 8);
        }
        last = last.max(Some(d(day)));
    }
    UserActivity {
        cohort_day: c,
        bits,
        last_active_day: last,
    }
}

#[test]
fn day_week_and_month_matrices_count_each_user_once_per_period() {
    // 2025-03-05 is a Wednesday.
    let users = [
        user(
            "2025-03-05",
            &["2025-03-05", "2025-03-06", "2025-03-06", "2025-03-10"],
        ),
        user("2025-03-05", &["2025-04-02"]),
        user("2025-03-07", &[]),
    ];
    let m = Matrices::compute(&users);
    let day = &m.by_period[&Period::Day];
    assert_eq!(day[&d("2025-03-05")].size, 2);
    assert_eq!(&day[&d("2025-03-05")].on[..6], &[1, 1, 0, 0, 0, 1]);
    assert_eq!(day[&d("2025-03-05")].on[28], 1, "2025-04-02 is day 28");
    assert_eq!(day[&d("2025-03-07")].size, 1);
    assert!(day[&d("2025-03-07")].on.iter().all(|n| *n == 0));

    let week = &m.by_period[&Period::Week][&d("2025-03-03")];
    assert_eq!(
        week.size, 3,
        "all three signed up in the week of Monday 3 March"
    );
    assert_eq!(&week.on[..5], &[1, 1, 0, 0, 1]);

    let month = &m.by_period[&Period::Month][&d("2025-03-01")];
    assert_eq!((month.size, month.on[0], month.on[1]), (3, 1, 1));
}

#[test]
fn on_or_after_counts_users_whose_latest_activity_is_at_or_past_the_offset() {
    let users = [
        user("2025-01-10", &["2025-01-10", "2025-01-13"]),
        // Active only long after the window: counts for every offset.
        user("2025-01-10", &["2026-06-01"]),
        user("2025-01-10", &[]),
    ];
    let m = Matrices::compute(&users);
    let day = &m.by_period[&Period::Day][&d("2025-01-10")];
    assert_eq!(&day.on_or_after[..5], &[2, 2, 2, 2, 1]);
    assert_eq!(day.on_or_after[30], 1);
    assert_eq!(day.on[0], 1);
    let month = &m.by_period[&Period::Month][&d("2025-01-01")];
    assert_eq!(
        month.on_or_after,
        vec![2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    );
}

#[test]
fn month_twelve_is_reached_from_a_late_signup() {
    let users = [user("2025-01-31", &["2026-01-31"])];
    let m = Matrices::compute(&users);
    assert_eq!(m.by_period[&Period::Month][&d("2025-01-01")].on[12], 1);
}
