//! A retention matrix as a table (a heatmap on a terminal); its CSV and
//! JSON are `growth_proto::export::matrix`, shared with the dashboard.

use comfy_table::{Cell, CellAlignment, Color, Table};
use growth_proto::common::v1::Granularity;
use growth_proto::export::matrix::{max_offset, revenue_of, segmented};
use growth_proto::metrics::v1 as pb;

use crate::output;
use growth_proto::money;

/// ANSI 256-colour backgrounds from pale to dark blue, one per eighth of the
/// rate scale.
const RAMP: [u8; 8] = [195, 159, 117, 75, 39, 32, 25, 18];

/// Background and foreground of a rate (0..1): dark text on the pale half,
/// white text on the dark half.
pub fn heat(rate: f64) -> (u8, u8) {
    let step = (rate.clamp(0.0, 1.0) * RAMP.len() as f64) as usize;
    let step = step.min(RAMP.len() - 1);
    (RAMP[step], if step < RAMP.len() / 2 { 16 } else { 231 })
}

/// `D`, `W` or `M`: the prefix of the offset columns.
fn offset_prefix(granularity: i32) -> &'static str {
    match Granularity::try_from(granularity) {
        Ok(Granularity::Day) => "D",
        Ok(Granularity::Month) => "M",
        _ => "W",
    }
}

/// A rate in percent with one decimal, `*` when its period has not finished.
pub fn rate_text(cell: &pb::RetentionCell) -> String {
    let star = if cell.incomplete { "*" } else { "" };
    format!("{:.1}{star}", cell.retention_rate * 100.0)
}

/// A table whose header is cohort, [segment], size, `extra`, then one column
/// per offset 0..=max.
fn matrix_table(r: &pb::GetRetentionMatrixResponse, extra: &[&str]) -> Table {
    let prefix = offset_prefix(r.granularity);
    let mut header = vec!["cohort".to_owned()];
    if segmented(r) {
        header.push("segment".to_owned());
    }
    header.push("size".to_owned());
    header.extend(extra.iter().map(|e| (*e).to_owned()));
    header.extend((0..=max_offset(r)).map(|o| format!("{prefix}{o}")));
    let mut table = output::table([]);
    table.set_header(header);
    table
}

/// The leading cells of a row: cohort, [segment], size, then `extra`.
fn lead_cells(row: &pb::CohortRow, segmented: bool, extra: &[String]) -> Vec<Cell> {
    let mut cells = vec![Cell::new(&row.cohort)];
    if segmented {
        cells.push(Cell::new(&row.segment));
    }
    cells.push(Cell::new(row.cohort_size).set_alignment(CellAlignment::Right));
    cells.extend(extra.iter().map(Cell::new));
    cells
}

/// One cell per offset 0..=max of `row`: `text` of the cell, coloured by its
/// `level` (0..1) on a heatmap; periods that have not begun are empty.
fn offset_cells(
    r: &pb::GetRetentionMatrixResponse,
    row: &pb::CohortRow,
    heatmap: bool,
    text: impl Fn(&pb::RetentionCell) -> String,
    level: impl Fn(&pb::RetentionCell) -> f64,
) -> Vec<Cell> {
    (0..=max_offset(r))
        .map(
            |offset| match row.cells.iter().find(|c| c.offset == offset) {
                None => Cell::new(""),
                Some(c) => {
                    let cell = Cell::new(text(c)).set_alignment(CellAlignment::Right);
                    if heatmap {
                        let (bg, fg) = heat(level(c));
                        cell.bg(Color::AnsiValue(bg)).fg(Color::AnsiValue(fg))
                    } else {
                        cell
                    }
                }
            },
        )
        .collect()
}

/// One row per cohort (and segment): cohort, size, then the rate of every
/// offset 0..max; periods that have not begun are empty.
pub fn table(r: &pb::GetRetentionMatrixResponse, heatmap: bool) -> Table {
    let mut table = matrix_table(r, &[]);
    for row in &r.rows {
        let mut cells = lead_cells(row, segmented(r), &[]);
        cells.extend(offset_cells(r, row, heatmap, rate_text, |c| {
            c.retention_rate
        }));
        table.add_row(cells);
    }
    table
}

/// A revenue matrix: one row per cohort (and segment) and currency, the net
/// revenue of every offset in major units; the heatmap is relative to the
/// largest amount of the currency.
pub fn revenue_table(r: &pb::GetRetentionMatrixResponse, heatmap: bool) -> Table {
    let mut table = matrix_table(r, &["currency"]);
    for currency in growth_proto::export::matrix::currencies(r) {
        let top = r
            .rows
            .iter()
            .flat_map(|row| &row.cells)
            .map(|c| revenue_of(c, &currency))
            .max()
            .unwrap_or(0)
            .max(1);
        for row in &r.rows {
            if !growth_proto::export::matrix::has_currency(row, &currency) {
                continue;
            }
            let mut cells = lead_cells(row, segmented(r), &[currency.to_uppercase()]);
            let text = |c: &pb::RetentionCell| {
                let star = if c.incomplete { "*" } else { "" };
                format!(
                    "{}{star}",
                    money::major(revenue_of(c, &currency), &currency, false)
                )
            };
            let level = |c: &pb::RetentionCell| revenue_of(c, &currency) as f64 / top as f64;
            cells.extend(offset_cells(r, row, heatmap, text, level));
            table.add_row(cells);
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(offset: i32, retained: i64, size: i64, incomplete: bool) -> pb::RetentionCell {
        pb::RetentionCell {
            offset,
            retained_users: retained,
            retention_rate: retained as f64 / size as f64,
            incomplete,
            revenue: vec![],
        }
    }

    fn matrix() -> pb::GetRetentionMatrixResponse {
        pb::GetRetentionMatrixResponse {
            granularity: Granularity::Week as i32,
            max_offset: 2,
            rows: vec![
                pb::CohortRow {
                    cohort: "2026-11-09".into(),
                    segment: String::new(),
                    cohort_size: 3,
                    cells: vec![
                        cell(0, 3, 3, false),
                        cell(1, 2, 3, false),
                        cell(2, 1, 3, true),
                    ],
                },
                pb::CohortRow {
                    cohort: "2026-11-23".into(),
                    segment: String::new(),
                    cohort_size: 4,
                    cells: vec![cell(0, 1, 4, true)],
                },
            ],
            ..Default::default()
        }
    }

    #[test]
    fn the_table_has_a_column_per_offset_and_leaves_unbegun_periods_empty() {
        let text = table(&matrix(), false).to_string();
        let lines: Vec<&str> = text.lines().collect();
        let squash = |line: &str| {
            line.split(['│', '┆'])
                .map(str::trim)
                .collect::<Vec<_>>()
                .join("|")
        };
        assert_eq!(squash(lines[1]), "|cohort|size|W0|W1|W2|");
        assert_eq!(squash(lines[3]), "|2026-11-09|3|100.0|66.7|33.3*|");
        assert_eq!(squash(lines[4]), "|2026-11-23|4|25.0*|||");
        assert!(!text.contains('\u{1b}'), "no colour codes when not asked");
    }

    #[test]
    fn the_heatmap_goes_from_pale_to_dark() {
        assert_eq!(heat(0.0), (195, 16));
        assert_eq!(heat(0.45), (75, 16));
        assert_eq!(heat(0.5), (39, 231));
        assert_eq!(heat(1.0), (18, 231));
        assert_eq!(heat(-1.0), heat(0.0));
    }

    #[test]
    fn revenue_prints_per_currency_in_major_units() {
        let mut m = matrix();
        m.metric = pb::RetentionMetric::Revenue as i32;
        m.rows[0].cells[0].revenue = vec![growth_proto::common::v1::Money {
            amount_minor: 4900,
            currency: "usd".into(),
        }];
        m.rows[0].cells[2].revenue = vec![growth_proto::common::v1::Money {
            amount_minor: -500,
            currency: "usd".into(),
        }];
        let text = revenue_table(&m, false).to_string();
        assert!(text.contains("currency"), "{text}");
        assert!(text.contains("49.00") && text.contains("-5.00*"), "{text}");
        assert!(!text.contains("2026-11-23"), "no money, no row: {text}");
    }

    #[test]
    fn segments_add_a_column() {
        let mut m = matrix();
        m.rows[0].segment = "pro, annual".into();
        assert!(table(&m, false).to_string().contains("segment"));
    }
}
