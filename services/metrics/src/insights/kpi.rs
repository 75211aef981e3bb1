//! A KPI's weekly series made into the report's KPI: this week, last week,
//! the change, the 4-week trend and the 12 weeks before. Pure.

/// What a KPI's numbers are (the wire's `KpiUnit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Users, customers.
    Count,
    /// A fraction or a ratio.
    Ratio,
    /// Money in minor units of the KPI's currency.
    MoneyMinor,
}

/// Weeks of history a KPI carries before the report's week.
pub const HISTORY_WEEKS: usize = 12;

/// A KPI's weekly values: the [`HISTORY_WEEKS`] before the report's week,
/// oldest first, then the report's week.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Machine name ("mrr", "wau").
    pub name: String,
    /// Human name.
    pub label: String,
    /// What the numbers are.
    pub unit: Unit,
    /// Currency of money KPIs ("usd"); empty otherwise.
    pub currency: String,
    /// Whether a rise is good news.
    pub higher_is_better: bool,
    /// `HISTORY_WEEKS + 1` values, oldest first (fewer: missing weeks are 0).
    pub weeks: Vec<f64>,
}

/// The report's KPI.
#[derive(Debug, Clone, PartialEq)]
pub struct Kpi {
    /// The series it comes from.
    pub series: Series,
    /// This week's value.
    pub value: f64,
    /// Last week's.
    pub previous: f64,
    /// (value − previous) / previous; `None` when previous is 0.
    pub change: Option<f64>,
    /// Least-squares slope over the last four weeks (this one included)
    /// divided by their mean, per week; `None` when the mean is 0.
    pub trend_4w: Option<f64>,
    /// The 12 weeks before this one, oldest first.
    pub history: Vec<f64>,
}

impl Kpi {
    /// The KPI of `series` (padded with zeros in front when short).
    pub fn of(mut series: Series) -> Self {
        let want = HISTORY_WEEKS + 1;
        if series.weeks.len() < want {
            let mut padded = vec![0.0; want - series.weeks.len()];
            padded.extend(&series.weeks);
            series.weeks = padded;
        }
        let n = series.weeks.len();
        let value = series.weeks[n - 1];
        let previous = series.weeks[n - 2];
        let change = (previous != 0.0).then(|| (value - previous) / previous.abs());
        let trend_4w = trend(&series.weeks[n - 4..]);
        let history = series.weeks[n - 1 - HISTORY_WEEKS..n - 1].to_vec();
        Self {
            series,
            value,
            previous,
            change,
            trend_4w,
            history,
        }
    }
}

/// The least-squares slope of `points` (at x = 0, 1, …) over their mean.
pub fn trend(points: &[f64]) -> Option<f64> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mean = points.iter().sum::<f64>() / n;
    if mean == 0.0 {
        return None;
    }
    let x_mean = (n - 1.0) / 2.0;
    let (mut num, mut den) = (0.0, 0.0);
    for (i, y) in points.iter().enumerate() {
        let dx = i as f64 - x_mean;
        num += dx * (y - mean);
        den += dx * dx;
    }
    Some(num / den / mean.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(weeks: Vec<f64>) -> Series {
        Series {
            name: "wau".into(),
            label: "Weekly active users".into(),
            unit: Unit::Count,
            currency: String::new(),
            higher_is_better: true,
            weeks,
        }
    }

    #[test]
    fn this_week_last_week_trend_and_history() {
        let weeks: Vec<f64> = (1..=13).map(f64::from).collect();
        let k = Kpi::of(series(weeks));
        assert_eq!((k.value, k.previous), (13.0, 12.0));
        assert_eq!(k.change, Some(1.0 / 12.0));
        // 10, 11, 12, 13: a slope of 1 a week over a mean of 11.5.
        assert!((k.trend_4w.expect("a trend") - 1.0 / 11.5).abs() < 1e-12);
        assert_eq!(k.history, (1..=12).map(f64::from).collect::<Vec<_>>());
    }

    #[test]
    fn short_series_are_padded_and_zeros_give_no_ratio() {
        let k = Kpi::of(series(vec![0.0, 5.0]));
        assert_eq!(k.history.len(), HISTORY_WEEKS);
        assert_eq!((k.previous, k.value, k.change), (0.0, 5.0, None));
        assert_eq!(Kpi::of(series(vec![0.0; 13])).trend_4w, None);
    }
}
