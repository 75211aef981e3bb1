//! A matrix as the heatmap table: a cell per cohort and offset, its colour
//! bucket a CSS class (`h0`..`h9`, by rate, or by share of the largest
//! amount for money), unfinished periods marked and never shown as a
//! number, the text people read on hover and focus, and the weighted mean
//! row. Pure.

use growth_proto::money;

use super::matrix::{Kind, Matrix, Row};
use crate::dashboard::params::Show;

/// One cell as drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// What the cell reads; empty for a period not begun.
    pub text: String,
    /// CSS classes: `h0`..`h9`, `inc` (unfinished) or `none` (not begun).
    pub class: String,
    /// The cell in words (hover, focus, screen readers); empty when not begun.
    pub tip: String,
}

/// One row as drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeatRow {
    /// The cohort's first day.
    pub cohort: String,
    /// The segment; empty without a breakdown.
    pub segment: String,
    /// Users in the cohort.
    pub size: i64,
    /// Whether the cohort is in the comparison.
    pub compared: bool,
    /// A cell per offset.
    pub cells: Vec<Cell>,
}

/// The heatmap of one matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heatmap {
    /// Its heading.
    pub title: String,
    /// `W0`, `W1`, … .
    pub columns: Vec<String>,
    /// Whether the rows have segments.
    pub segmented: bool,
    /// The rows.
    pub rows: Vec<HeatRow>,
    /// What the mean row's heading says.
    pub mean_label: &'static str,
    /// The weighted mean per offset.
    pub mean: Vec<Cell>,
}

/// The bucket class of a level 0..1.
fn bucket(level: f64) -> String {
    let step = (level.clamp(0.0, 1.0) * 10.0) as usize;
    format!("h{}", step.min(9))
}

fn percent(rate: f64) -> String {
    money::percent(rate)
}

/// Draws `m`; `compare` are the cohorts in the comparison.
pub fn heatmap(m: &Matrix, show: Show, compare: &[String]) -> Heatmap {
    let top = m
        .rows
        .iter()
        .flat_map(|r| r.values.iter().flatten())
        .map(|v| v.amount)
        .max()
        .unwrap_or(0)
        .max(1);
    let rows = m
        .rows
        .iter()
        .map(|row| HeatRow {
            cohort: row.cohort.clone(),
            segment: row.segment.clone(),
            size: row.size,
            compared: compare.contains(&row.cohort),
            cells: (0..m.offsets).map(|o| cell(m, row, o, show, top)).collect(),
        })
        .collect();
    let mean = m
        .mean()
        .into_iter()
        .enumerate()
        .map(|(o, mean)| mean_cell(m, o, mean))
        .collect();
    Heatmap {
        title: match &m.kind {
            Kind::Users if show == Show::Absolute => "Users active, of the cohort".to_owned(),
            Kind::Users => "Users active, % of the cohort".to_owned(),
            Kind::Revenue(c) => format!("Net revenue, {}", c.to_ascii_uppercase()),
        },
        columns: (0..m.offsets).map(|o| format!("{}{o}", m.prefix)).collect(),
        segmented: m.rows.iter().any(|r| !r.segment.is_empty()),
        rows,
        mean_label: match m.kind {
            Kind::Users => "Weighted mean",
            Kind::Revenue(_) => "Mean per member",
        },
        mean,
    }
}

fn cell(m: &Matrix, row: &Row, offset: usize, show: Show, top: i64) -> Cell {
    let Some(v) = row.values.get(offset).copied().flatten() else {
        return Cell {
            text: String::new(),
            class: "none".to_owned(),
            tip: String::new(),
        };
    };
    let at = format!("{} {}{offset}", row.label(), m.prefix);
    let rate = if row.size > 0 {
        v.amount as f64 / row.size as f64
    } else {
        0.0
    };
    let (reading, level) = match &m.kind {
        Kind::Users => (
            format!("{} of {} active ({})", v.amount, row.size, percent(rate)),
            rate,
        ),
        Kind::Revenue(c) => (
            format!(
                "{} from a cohort of {}",
                money::with_currency(v.amount, c),
                row.size
            ),
            v.amount as f64 / top as f64,
        ),
    };
    if v.incomplete {
        return Cell {
            text: "…".to_owned(),
            class: "inc".to_owned(),
            tip: format!("{at}: period not finished; so far {reading}"),
        };
    }
    Cell {
        text: match (&m.kind, show) {
            (Kind::Users, Show::Percent) => percent(rate),
            (Kind::Users, Show::Absolute) => v.amount.to_string(),
            (Kind::Revenue(c), _) => money::major(v.amount, c, false),
        },
        class: bucket(level),
        tip: format!("{at}: {reading}"),
    }
}

fn mean_cell(m: &Matrix, offset: usize, mean: Option<f64>) -> Cell {
    let at = format!("{} {}{offset}", "mean", m.prefix);
    match (mean, &m.kind) {
        (None, _) => Cell {
            text: "–".to_owned(),
            class: "none".to_owned(),
            tip: format!("{at}: no cohort has finished this period"),
        },
        (Some(rate), Kind::Users) => Cell {
            text: percent(rate),
            class: bucket(rate),
            tip: format!(
                "{at}: {} of members active, weighted by cohort size, finished periods only",
                percent(rate)
            ),
        },
        (Some(per_member), Kind::Revenue(c)) => {
            let text = money::major(per_member.round() as i64, c, false);
            Cell {
                tip: format!(
                    "{at}: {text} {} per member, finished periods only",
                    c.to_ascii_uppercase()
                ),
                text,
                class: "mean".to_owned(),
            }
        }
    }
}

/// The rows of the comparison: those of `compare`'s cohorts, in its order.
pub fn comparison(h: &Heatmap, compare: &[String]) -> Vec<HeatRow> {
    compare
        .iter()
        .flat_map(|c| h.rows.iter().filter(move |r| &r.cohort == c))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dashboard::view::matrix::Value;

    fn matrix() -> Matrix {
        let v = |amount, incomplete| Some(Value { amount, incomplete });
        Matrix {
            kind: Kind::Users,
            prefix: "W",
            offsets: 3,
            rows: vec![
                Row {
                    cohort: "2025-03-03".into(),
                    segment: String::new(),
                    size: 4,
                    values: vec![v(4, false), v(1, false), v(0, true)],
                },
                Row {
                    cohort: "2025-03-10".into(),
                    segment: String::new(),
                    size: 2,
                    values: vec![v(2, false), v(0, true), None],
                },
            ],
        }
    }

    #[test]
    fn cells_read_their_rate_and_unfinished_periods_are_never_zero_percent() {
        let h = heatmap(&matrix(), Show::Percent, &[]);
        assert_eq!(h.columns, ["W0", "W1", "W2"]);
        let row = &h.rows[0];
        assert_eq!(
            (row.cells[1].text.as_str(), row.cells[1].class.as_str()),
            ("25.0%", "h2")
        );
        assert_eq!(row.cells[1].tip, "2025-03-03 W1: 1 of 4 active (25.0%)");
        let unfinished = &row.cells[2];
        assert_eq!(
            (unfinished.text.as_str(), unfinished.class.as_str()),
            ("…", "inc")
        );
        assert!(
            unfinished.tip.contains("not finished; so far 0 of 4"),
            "{}",
            unfinished.tip
        );
        assert_eq!(h.rows[1].cells[2].class, "none");
        assert_eq!(h.mean[0].text, "100.0%");
        assert_eq!(h.mean[1].text, "25.0%", "the unfinished 0 of 2 is left out");
        assert_eq!(h.mean[2].text, "–");
    }

    #[test]
    fn absolute_shows_counts_and_the_comparison_keeps_its_order() {
        let compare = vec!["2025-03-10".to_owned(), "2025-03-03".to_owned()];
        let h = heatmap(&matrix(), Show::Absolute, &compare);
        assert_eq!(h.rows[0].cells[0].text, "4");
        assert!(h.rows[0].compared);
        let rows = comparison(&h, &compare);
        assert_eq!(rows[0].cohort, "2025-03-10");
        assert_eq!(rows.len(), 2);
    }

    #[test]
    fn buckets_run_from_h0_to_h9() {
        assert_eq!(bucket(0.0), "h0");
        assert_eq!(bucket(0.999), "h9");
        assert_eq!(bucket(1.0), "h9");
        assert_eq!(bucket(-1.0), "h0");
    }
}
