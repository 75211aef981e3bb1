//! A matrix as curves, drawn on the server as SVG coordinates: one line per
//! row (finished periods only: a partial period would dip every recent
//! cohort) and the weighted mean line; users as the share active, money as
//! revenue per member. The template draws them; colour is a CSS class, and
//! the legend and the points' titles say the same without colour. Points
//! are titled on the mean line and on the lines of compared cohorts, and on
//! every line when there are at most [`TITLED_LINES`]: a DAY matrix has 365
//! cohorts, whose 11,000 titled points would weigh more than the rest of the
//! page (each value is also in the heatmap's cell). Pure.

use growth_proto::money;

use super::matrix::{Kind, Matrix};
use super::plot::{Dot, Frame, Line, Plot, Tick, coord, line};

const PLOT: Plot = Plot {
    width: 640.0,
    height: 280.0,
    left: 64.0,
    right: 16.0,
    top: 12.0,
    bottom: 32.0,
    low: 0.0,
    high: 1.0,
};
/// Line colours (CSS classes `c0`..`c7`), reused in turn.
const COLOURS: usize = 8;
/// Up to this many cohorts, every line's points are titled.
pub const TITLED_LINES: usize = 24;

/// The chart of one matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Its heading and accessible name.
    pub title: String,
    /// The cohorts' lines.
    pub lines: Vec<Line>,
    /// The mean line.
    pub mean: Line,
    /// Offsets along the bottom.
    pub x_ticks: Vec<Tick>,
    /// Values up the side.
    pub y_ticks: Vec<Tick>,
    /// The plot's box.
    pub frame: Frame,
}

/// Draws `m`; `compare` are the cohorts in the comparison.
pub fn chart(m: &Matrix, compare: &[String]) -> Chart {
    let mean = m.mean();
    let per_row: Vec<Vec<Option<f64>>> = m
        .rows
        .iter()
        .map(|r| (0..m.offsets).map(|o| r.per_member(o)).collect())
        .collect();
    let top_value = match m.kind {
        Kind::Users => 1.0,
        Kind::Revenue(_) => per_row
            .iter()
            .flatten()
            .chain(mean.iter())
            .flatten()
            .fold(1.0f64, |a, b| a.max(*b)),
    };
    let reading = |v: f64| match &m.kind {
        Kind::Users => money::percent(v),
        Kind::Revenue(c) => money::with_currency(v.round() as i64, c),
    };
    let plot = PLOT.spanning(0.0, top_value);
    let x = |o: usize| plot.x_point(o, m.offsets);
    let draw = |label: String, class: String, values: &[Option<f64>], titled: bool| {
        let dots: Vec<Dot> = values
            .iter()
            .enumerate()
            .filter_map(|(o, v)| v.map(|v| (o, v)))
            .map(|(o, v)| Dot {
                x: coord(x(o)),
                y: coord(plot.y(v)),
                tip: format!("{label} {}{o}: {}", m.prefix, reading(v)),
            })
            .collect();
        line(label, class, dots, titled)
    };
    let step = if m.offsets > 13 { 5 } else { 1 };
    Chart {
        title: match &m.kind {
            Kind::Users => "Share of each cohort active, by period".to_owned(),
            Kind::Revenue(c) => format!(
                "Net revenue per member, {}, by period",
                c.to_ascii_uppercase()
            ),
        },
        lines: m
            .rows
            .iter()
            .zip(&per_row)
            .enumerate()
            .map(|(i, (r, values))| {
                let titled = m.rows.len() <= TITLED_LINES || compare.contains(&r.cohort);
                draw(r.label(), format!("c{}", i % COLOURS), values, titled)
            })
            .collect(),
        mean: draw("weighted mean".to_owned(), "mean".to_owned(), &mean, true),
        x_ticks: (0..m.offsets)
            .step_by(step)
            .map(|o| Tick {
                at: coord(x(o)),
                label: format!("{}{o}", m.prefix),
            })
            .collect(),
        y_ticks: plot.y_ticks(&reading),
        frame: plot.frame(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dashboard::view::matrix::{Row, Value};

    #[test]
    fn lines_skip_unfinished_periods_and_the_mean_is_drawn_apart() {
        let v = |amount, incomplete| Some(Value { amount, incomplete });
        let m = Matrix {
            kind: Kind::Users,
            prefix: "W",
            offsets: 3,
            rows: vec![Row {
                cohort: "2025-03-03".into(),
                segment: String::new(),
                size: 2,
                values: vec![v(2, false), v(1, false), v(0, true)],
            }],
        };
        let c = chart(&m, &[]);
        assert_eq!(c.lines[0].dots.len(), 2);
        assert_eq!(c.lines[0].points, "64.0,12.0 344.0,130.0");
        assert_eq!(c.lines[0].dots[1].tip, "2025-03-03 W1: 50.0%");
        assert_eq!(c.mean.class, "mean");
        assert_eq!(c.y_ticks[4].label, "100.0%");
        assert_eq!(c.x_ticks.len(), 3);
    }

    #[test]
    fn many_lines_title_only_the_mean_and_the_compared_cohorts() {
        let row = |cohort: String| Row {
            cohort,
            segment: String::new(),
            size: 1,
            values: vec![Some(Value {
                amount: 1,
                incomplete: false,
            })],
        };
        let m = Matrix {
            kind: Kind::Users,
            prefix: "D",
            offsets: 1,
            rows: (0..=TITLED_LINES)
                .map(|i| row(format!("2025-01-{:02}", i + 1)))
                .collect(),
        };
        let c = chart(&m, &["2025-01-03".to_owned()]);
        let titled: Vec<_> = c.lines.iter().filter(|l| !l.dots.is_empty()).collect();
        assert_eq!(titled.len(), 1);
        assert_eq!(titled[0].label, "2025-01-03");
        assert!(c.lines.iter().all(|l| !l.points.is_empty()));
        assert_eq!(c.mean.dots.len(), 1);
    }
}
