//! The geometry every chart shares, as SVG coordinates: a plot box inside
//! its view box, values scaled up the side from `low` to `high`, points
//! spaced evenly along the bottom, the labels up the side, and lines as SVG
//! `points` with their titled dots. `curves` (the retention page) and
//! `trend` (the overview) draw with it. Pure.

/// A point with its words.
#[derive(Debug, Clone, PartialEq)]
pub struct Dot {
    /// x, as SVG wants it.
    pub x: String,
    /// y, as SVG wants it.
    pub y: String,
    /// What the point is.
    pub tip: String,
}

/// One line.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Its name (a row, a series, or "weighted mean").
    pub label: String,
    /// Its CSS class (`c0`..`c7`, `mean`, ...).
    pub class: String,
    /// SVG `points`.
    pub points: String,
    /// Its points, for their titles; none for a line drawn untitled.
    pub dots: Vec<Dot>,
}

/// A label on an axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    /// Where along its axis.
    pub at: String,
    /// What it reads.
    pub label: String,
}

/// The box as the templates draw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// `viewBox`.
    pub view_box: String,
    /// Left edge of the plot.
    pub left: String,
    /// Right edge of the plot.
    pub right: String,
    /// Top of the plot.
    pub top: String,
    /// Bottom of the plot (the x axis).
    pub bottom: String,
}

/// A plot: its view box, the margins around the plot, and the values its
/// height spans.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plot {
    /// View box width.
    pub width: f64,
    /// View box height.
    pub height: f64,
    /// Margin left of the plot (the value labels).
    pub left: f64,
    /// Margin right of the plot.
    pub right: f64,
    /// Margin above the plot.
    pub top: f64,
    /// Margin below the plot (the labels along the bottom).
    pub bottom: f64,
    /// The value at the bottom.
    pub low: f64,
    /// The value at the top (above `low`).
    pub high: f64,
}

/// An SVG coordinate, to a tenth of a unit.
pub fn coord(v: f64) -> String {
    format!("{v:.1}")
}

impl Plot {
    /// This box, spanning `low` to `high` (one unit above `low` when `high`
    /// is not above it).
    pub fn spanning(self, low: f64, high: f64) -> Self {
        Self {
            low,
            high: if high <= low { low + 1.0 } else { high },
            ..self
        }
    }

    /// The plot's width.
    pub fn plot_width(&self) -> f64 {
        self.width - self.left - self.right
    }

    /// x of point `i` of `n` spaced evenly, the first at the left edge and
    /// the last at the right.
    pub fn x_point(&self, i: usize, n: usize) -> f64 {
        self.left + i as f64 * self.plot_width() / (n.max(2) - 1) as f64
    }

    /// y of `v`, kept inside the plot.
    pub fn y(&self, v: f64) -> f64 {
        let plot_h = self.height - self.top - self.bottom;
        let share = ((v - self.low) / (self.high - self.low)).clamp(0.0, 1.0);
        self.top + plot_h - share * plot_h
    }

    /// Five labels up the side, from `low` to `high`, read by `reading`.
    pub fn y_ticks(&self, reading: &dyn Fn(f64) -> String) -> Vec<Tick> {
        [0.0, 0.25, 0.5, 0.75, 1.0]
            .iter()
            .map(|f| self.low + f * (self.high - self.low))
            .map(|v| Tick {
                at: coord(self.y(v)),
                label: reading(v),
            })
            .collect()
    }

    /// The box, for the template.
    pub fn frame(&self) -> Frame {
        Frame {
            view_box: format!("0 0 {} {}", self.width, self.height),
            left: coord(self.left),
            right: coord(self.width - self.right),
            top: coord(self.top),
            bottom: coord(self.height - self.bottom),
        }
    }
}

/// A line through `dots`, titled (its dots kept) or not.
pub fn line(label: String, class: String, dots: Vec<Dot>, titled: bool) -> Line {
    Line {
        points: dots
            .iter()
            .map(|d| format!("{},{}", d.x, d.y))
            .collect::<Vec<_>>()
            .join(" "),
        label,
        class,
        dots: if titled { dots } else { Vec::new() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLOT: Plot = Plot {
        width: 100.0,
        height: 60.0,
        left: 10.0,
        right: 10.0,
        top: 10.0,
        bottom: 10.0,
        low: 0.0,
        high: 1.0,
    };

    #[test]
    fn values_are_scaled_up_the_side_and_kept_inside() {
        let p = PLOT.spanning(-10.0, 30.0);
        assert_eq!((p.y(-10.0), p.y(30.0), p.y(0.0)), (50.0, 10.0, 40.0));
        assert_eq!(p.y(99.0), 10.0);
        assert_eq!(PLOT.spanning(5.0, 5.0).high, 6.0);
        let ticks = p.y_ticks(&|v| format!("{v}"));
        assert_eq!(ticks[0].label, "-10");
        assert_eq!(ticks[4].at, "10.0");
    }

    #[test]
    fn points_span_the_plot_and_the_frame_says_where_it_is() {
        assert_eq!((PLOT.x_point(0, 3), PLOT.x_point(2, 3)), (10.0, 90.0));
        assert_eq!(PLOT.x_point(0, 1), 10.0);
        let f = PLOT.frame();
        assert_eq!(
            (f.view_box.as_str(), f.right.as_str(), f.bottom.as_str()),
            ("0 0 100 60", "90.0", "50.0")
        );
    }

    #[test]
    fn an_untitled_line_keeps_its_points_but_not_its_dots() {
        let dot = |x: &str| Dot {
            x: x.into(),
            y: "1.0".into(),
            tip: String::new(),
        };
        let l = line("a".into(), "c0".into(), vec![dot("0.0"), dot("2.0")], false);
        assert_eq!(l.points, "0.0,1.0 2.0,1.0");
        assert!(l.dots.is_empty());
    }
}
