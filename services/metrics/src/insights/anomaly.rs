//! Anomalies a person would trust: a robust baseline (the median and the
//! median absolute deviation, MAD, of the points before), the scaled robust
//! z-score |x − median| / (1.4826 · MAD), a minimum history before anything
//! is flagged, and absolute floors so that a small product does not drown in
//! alarms; daily series compare a day with the same weekday of the weeks
//! before; a day without any counted event is ingest having stopped (the
//! flat line), not a day nobody came. Pure; docs/METRICS.md has the numbers.

/// How an anomaly was found (the wire's `AnomalyMethod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Robust z against the points before.
    RobustZ,
    /// Robust z against the same weekday of the weeks before.
    RobustZSameWeekday,
    /// No event at all on a day.
    FlatLine,
}

/// How serious (the wire's `Severity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Worth a look.
    Warning,
    /// Act on it.
    Critical,
}

/// One anomaly.
#[derive(Debug, Clone, PartialEq)]
pub struct Anomaly {
    /// The value.
    pub value: f64,
    /// The baseline's median.
    pub baseline: f64,
    /// The scaled robust z-score (0 for the flat line).
    pub score: f64,
    /// Points in the baseline.
    pub points: usize,
    /// How it was found.
    pub method: Method,
    /// How serious.
    pub level: Level,
}

/// The consistency constant that makes the MAD estimate a normal
/// distribution's standard deviation.
pub const MAD_SCALE: f64 = 1.4826;
/// A robust z at or above this is a warning (Iglewicz and Hoaglin's 3.5).
pub const WARNING_Z: f64 = 3.5;
/// At or above this, critical.
pub const CRITICAL_Z: f64 = 6.0;
/// Fewer baseline points than this flag nothing.
pub const MIN_POINTS: usize = 6;

/// The least absolute and relative distance from the baseline worth
/// flagging: a product with 12 daily users going to 7 is noise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Floor {
    /// Absolute difference (in the series' unit).
    pub absolute: f64,
    /// Difference relative to the baseline.
    pub relative: f64,
}

/// The floor of counts of people.
pub const PEOPLE: Floor = Floor {
    absolute: 10.0,
    relative: 0.2,
};

/// The median of `values` (0 for none).
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// `value` against `baseline` (the points before it), or `None` when it is
/// not unusual, the history is too short, or the difference is under
/// `floor`.
pub fn robust(value: f64, baseline: &[f64], floor: Floor, method: Method) -> Option<Anomaly> {
    if baseline.len() < MIN_POINTS || !value.is_finite() {
        return None;
    }
    let m = median(baseline);
    let deviations: Vec<f64> = baseline.iter().map(|x| (x - m).abs()).collect();
    let mad = median(&deviations);
    let distance = (value - m).abs();
    if distance < floor.absolute || distance < floor.relative * m.abs() {
        return None;
    }
    // A perfectly flat history: any change beyond the floors is unusual,
    // with a score as if the spread were the floor's.
    let spread = if mad > 0.0 {
        MAD_SCALE * mad
    } else {
        floor
            .absolute
            .max(floor.relative * m.abs())
            .max(f64::MIN_POSITIVE)
            / WARNING_Z
    };
    let score = distance / spread;
    let level = if score >= CRITICAL_Z {
        Level::Critical
    } else if score >= WARNING_Z {
        Level::Warning
    } else {
        return None;
    };
    Some(Anomaly {
        value,
        baseline: m,
        score,
        points: baseline.len(),
        method,
        level,
    })
}

/// Day `i` of a daily series against the same weekday of the weeks before
/// it (every 7th point back, at most `weeks`).
pub fn same_weekday(daily: &[f64], i: usize, weeks: usize, floor: Floor) -> Option<Anomaly> {
    let baseline: Vec<f64> = (1..=weeks)
        .filter_map(|w| i.checked_sub(7 * w).map(|j| daily[j]))
        .collect();
    robust(daily[i], &baseline, floor, Method::RobustZSameWeekday)
}

/// Day `i` without a single counted event, after days that had some: ingest
/// stopped. Needs the same history as the robust checks.
pub fn flat_line(daily: &[f64], i: usize) -> Option<Anomaly> {
    let before = &daily[..i];
    let m = median(&before[before.len().saturating_sub(28)..]);
    (daily[i] == 0.0 && before.len() >= MIN_POINTS && m > 0.0).then_some(Anomaly {
        value: 0.0,
        baseline: m,
        score: 0.0,
        points: before.len().min(28),
        method: Method::FlatLine,
        level: Level::Critical,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Weekly seasonal DAU: busy weekdays, quiet weekends, some noise.
    fn seasonal(days: usize) -> Vec<f64> {
        (0..days)
            .map(|d| {
                let base = if d % 7 >= 5 { 400.0 } else { 1000.0 };
                base + ((d * 37) % 23) as f64 - 11.0
            })
            .collect()
    }

    #[test]
    fn weekly_seasonality_raises_no_alarm_but_a_spike_does() {
        let daily = seasonal(70);
        for i in 56..70 {
            assert_eq!(same_weekday(&daily, i, 8, PEOPLE), None, "day {i}");
        }
        // Against all recent days instead, every Saturday would be an alarm.
        assert_eq!(daily[68], 400.0 + ((68 * 37) % 23) as f64 - 11.0);
        assert!(robust(daily[68], &daily[54..68], PEOPLE, Method::RobustZ).is_some());
        let mut spiked = daily.clone();
        spiked[66] = 2500.0;
        let a = same_weekday(&spiked, 66, 8, PEOPLE).expect("the spike");
        assert_eq!(
            (a.method, a.level, a.points),
            (Method::RobustZSameWeekday, Level::Critical, 8)
        );
        assert!(
            (a.baseline
                - median(&[
                    daily[59], daily[52], daily[45], daily[38], daily[31], daily[24], daily[17],
                    daily[10]
                ]))
            .abs()
                < 1e-9
        );
    }

    #[test]
    fn flat_data_short_history_and_small_products_stay_quiet() {
        assert_eq!(robust(100.0, &[100.0; 12], PEOPLE, Method::RobustZ), None);
        assert_eq!(
            robust(500.0, &[100.0; 5], PEOPLE, Method::RobustZ),
            None,
            "too little history"
        );
        // 12 users a day going to 5: under the absolute floor.
        assert_eq!(
            robust(
                5.0,
                &[12.0, 11.0, 13.0, 12.0, 12.0, 11.0, 13.0],
                PEOPLE,
                Method::RobustZ
            ),
            None
        );
        // A flat history and a real jump: flagged.
        let a = robust(200.0, &[100.0; 12], PEOPLE, Method::RobustZ).expect("a jump");
        assert_eq!(a.level, Level::Critical);
    }

    #[test]
    fn a_day_without_events_is_the_flat_line() {
        let mut daily = seasonal(30);
        daily[29] = 0.0;
        let a = flat_line(&daily, 29).expect("ingest stopped");
        assert_eq!(
            (a.method, a.level, a.value),
            (Method::FlatLine, Level::Critical, 0.0)
        );
        assert_eq!(
            flat_line(&vec![0.0; 30], 29),
            None,
            "a product not live yet"
        );
    }
}
