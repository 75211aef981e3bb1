//! Series over time drawn on the server as SVG coordinates: lines (MRR per
//! currency, DAU/WAU/MAU) or grouped bars around a zero line (the five MRR
//! movements, losses below it). Colour is a CSS class; each point and bar
//! has a title with its reading, and the legend names each series, so the
//! chart reads without colour. The template draws them. Pure.

use super::plot::{Dot, Frame, Line, Plot, Tick, coord, line};

const PLOT: Plot = Plot {
    width: 640.0,
    height: 220.0,
    left: 72.0,
    right: 16.0,
    top: 12.0,
    bottom: 32.0,
    low: 0.0,
    high: 1.0,
};
/// The most labels along the bottom.
const X_LABELS: usize = 12;

/// One series: its name, CSS class and a value per x (none: no point).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Its name in the legend and titles.
    pub label: String,
    /// CSS class (`c0`..`c7`, or a movement's name).
    pub class: String,
    /// A value per x.
    pub values: Vec<Option<f64>>,
}

/// One bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Left edge.
    pub x: String,
    /// Top edge.
    pub y: String,
    /// Width.
    pub width: String,
    /// Height.
    pub height: String,
    /// CSS class of its series.
    pub class: String,
    /// Its reading.
    pub tip: String,
}

/// A chart over time.
#[derive(Debug, Clone, PartialEq)]
pub struct Trend {
    /// Its accessible name.
    pub title: String,
    /// Lines (a line chart).
    pub lines: Vec<Line>,
    /// Bars (a bar chart).
    pub bars: Vec<Bar>,
    /// The series, for the legend: (label, class).
    pub legend: Vec<(String, String)>,
    /// Labels along the bottom.
    pub x_ticks: Vec<Tick>,
    /// Values up the side.
    pub y_ticks: Vec<Tick>,
    /// The zero line's y.
    pub zero: String,
    /// The plot's box.
    pub frame: Frame,
}

/// The plot every trend chart shares: from the lowest value to the
/// highest, 0 included.
fn plot_of(series: &[Series]) -> Plot {
    let values = series.iter().flat_map(|s| s.values.iter().flatten());
    let (low, high) = values.fold((0.0f64, 0.0f64), |(l, h), v| (l.min(*v), h.max(*v)));
    PLOT.spanning(low, high)
}

/// The chart around the lines or bars: legend, labels, zero line, box.
fn around(
    plot: &Plot,
    title: &str,
    x: &[String],
    series: &[Series],
    centre: impl Fn(usize) -> f64,
    reading: &dyn Fn(f64) -> String,
) -> Trend {
    let step = x.len().div_ceil(X_LABELS).max(1);
    Trend {
        title: title.to_owned(),
        lines: Vec::new(),
        bars: Vec::new(),
        legend: series
            .iter()
            .map(|s| (s.label.clone(), s.class.clone()))
            .collect(),
        x_ticks: x
            .iter()
            .enumerate()
            .rev()
            .step_by(step)
            .map(|(i, label)| Tick {
                at: coord(centre(i)),
                label: label.clone(),
            })
            .collect(),
        y_ticks: plot.y_ticks(reading),
        zero: coord(plot.y(0.0)),
        frame: plot.frame(),
    }
}

/// `series` as lines over the points `x`.
pub fn lines(
    title: &str,
    x: &[String],
    series: &[Series],
    reading: &dyn Fn(f64) -> String,
) -> Trend {
    let plot = plot_of(series);
    let at = |i: usize| plot.x_point(i, x.len());
    let mut trend = around(&plot, title, x, series, at, reading);
    trend.lines = series
        .iter()
        .map(|s| {
            let dots: Vec<Dot> = s
                .values
                .iter()
                .zip(x)
                .enumerate()
                .filter_map(|(i, (v, label))| v.map(|v| (i, v, label)))
                .map(|(i, v, label)| Dot {
                    x: coord(at(i)),
                    y: coord(plot.y(v)),
                    tip: format!("{} {label}: {}", s.label, reading(v)),
                })
                .collect();
            line(s.label.clone(), s.class.clone(), dots, true)
        })
        .collect();
    trend
}

/// `series` as bars grouped by the points `x`, from the zero line.
pub fn bars(
    title: &str,
    x: &[String],
    series: &[Series],
    reading: &dyn Fn(f64) -> String,
) -> Trend {
    let plot = plot_of(series);
    let slot = plot.plot_width() / x.len().max(1) as f64;
    let width = slot * 0.8 / series.len().max(1) as f64;
    let centre = |i: usize| plot.left + (i as f64 + 0.5) * slot;
    let mut trend = around(&plot, title, x, series, centre, reading);
    trend.bars = x
        .iter()
        .enumerate()
        .flat_map(|(i, label)| {
            let plot = &plot;
            series.iter().enumerate().filter_map(move |(j, s)| {
                let v = (*s.values.get(i)?)?;
                let (a, b) = (plot.y(v), plot.y(0.0));
                Some(Bar {
                    x: coord(plot.left + i as f64 * slot + slot * 0.1 + j as f64 * width),
                    y: coord(a.min(b)),
                    width: coord(width),
                    height: coord((a - b).abs()),
                    class: s.class.clone(),
                    tip: format!("{} {label}: {}", s.label, reading(v)),
                })
            })
        })
        .collect();
    trend
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(v: f64) -> String {
        format!("{v}")
    }

    #[test]
    fn lines_leave_gaps_and_say_each_points_reading() {
        let x: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let s = Series {
            label: "DAU".into(),
            class: "c0".into(),
            values: vec![Some(2.0), None, Some(4.0)],
        };
        let t = lines("Active users", &x, &[s], &reading);
        assert_eq!(t.lines[0].dots.len(), 2);
        assert_eq!(t.lines[0].dots[1].tip, "DAU c: 4");
        assert_eq!(t.lines[0].points, "72.0,100.0 624.0,12.0");
        assert_eq!(t.zero, "188.0");
        assert_eq!(t.legend, [("DAU".to_owned(), "c0".to_owned())]);
    }

    #[test]
    fn losses_are_bars_below_the_zero_line() {
        let x = vec!["2025-01".to_owned()];
        let series = [
            Series {
                label: "new".into(),
                class: "new".into(),
                values: vec![Some(30.0)],
            },
            Series {
                label: "churned".into(),
                class: "churned".into(),
                values: vec![Some(-10.0)],
            },
        ];
        let t = bars("Movements", &x, &series, &reading);
        let zero: f64 = t.zero.parse().unwrap_or_default();
        let top = |b: &Bar| b.y.parse::<f64>().unwrap_or_default();
        assert!(top(&t.bars[0]) < zero, "gains above zero");
        assert!(
            (top(&t.bars[1]) - zero).abs() < 0.1,
            "losses hang from zero"
        );
        assert_eq!(t.bars[1].tip, "churned 2025-01: -10");
    }
}
