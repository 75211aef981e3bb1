//! A retention matrix as text: the table (a heatmap on a terminal) and CSV.

use comfy_table::{Cell, CellAlignment, Color, Table};
use growth_proto::common::v1::Granularity;
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

/// Highest offset to show a column for: the granularity's, or beyond it if a
/// row has more cells.
pub fn max_offset(r: &pb::GetRetentionMatrixResponse) -> i32 {
    r.rows
        .iter()
        .flat_map(|row| row.cells.iter().map(|c| c.offset))
        .fold(r.max_offset, i32::max)
        .max(0)
}

/// Whether the rows carry segments (a breakdown).
pub fn segmented(r: &pb::GetRetentionMatrixResponse) -> bool {
    r.rows.iter().any(|row| !row.segment.is_empty())
}

/// Whether any cell's period has not finished.
pub fn any_incomplete(r: &pb::GetRetentionMatrixResponse) -> bool {
    r.rows
        .iter()
        .flat_map(|row| &row.cells)
        .any(|c| c.incomplete)
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

/// The currencies of a revenue matrix, in order.
pub fn currencies(r: &pb::GetRetentionMatrixResponse) -> Vec<String> {
    let mut out: Vec<String> = r
        .rows
        .iter()
        .flat_map(|row| &row.cells)
        .flat_map(|c| c.revenue.iter().map(|m| m.currency.clone()))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

fn revenue_of(cell: &pb::RetentionCell, currency: &str) -> i64 {
    cell.revenue
        .iter()
        .find(|m| m.currency == currency)
        .map_or(0, |m| m.amount_minor)
}

/// A revenue matrix: one row per cohort (and segment) and currency, the net
/// revenue of every offset in major units; the heatmap is relative to the
/// largest amount of the currency.
pub fn revenue_table(r: &pb::GetRetentionMatrixResponse, heatmap: bool) -> Table {
    let mut table = matrix_table(r, &["currency"]);
    for currency in currencies(r) {
        let top = r
            .rows
            .iter()
            .flat_map(|row| &row.cells)
            .map(|c| revenue_of(c, &currency))
            .max()
            .unwrap_or(0)
            .max(1);
        for row in &r.rows {
            if !row
                .cells
                .iter()
                .any(|c| c.revenue.iter().any(|m| m.currency == currency))
            {
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

/// One line per cell and currency:
/// `cohort[,segment],size,offset,currency,revenue_minor,incomplete`.
pub fn revenue_csv(r: &pb::GetRetentionMatrixResponse) -> String {
    csv_lines(r, "currency,revenue_minor,incomplete", |c| {
        c.revenue
            .iter()
            .map(|m| format!("{},{},{}", m.currency, m.amount_minor, c.incomplete))
            .collect()
    })
}

/// CSV with the columns `cohort[,segment],size,offset,` then `columns`: one
/// line per value `values` gives for a cell.
fn csv_lines(
    r: &pb::GetRetentionMatrixResponse,
    columns: &str,
    values: impl Fn(&pb::RetentionCell) -> Vec<String>,
) -> String {
    let segmented = segmented(r);
    let mut out = format!(
        "cohort,{}size,offset,{columns}\n",
        if segmented { "segment," } else { "" }
    );
    for row in &r.rows {
        let lead = if segmented {
            format!("{},{}", field(&row.cohort), field(&row.segment))
        } else {
            field(&row.cohort)
        };
        for c in &row.cells {
            for value in values(c) {
                out.push_str(&format!(
                    "{lead},{},{},{value}\n",
                    row.cohort_size, c.offset
                ));
            }
        }
    }
    out
}

/// A CSV field, quoted when it needs to be.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// One line per cell: `cohort,size,offset,retained,rate,incomplete` (with a
/// `segment` column after `cohort` when the rows carry segments); the rate is
/// a fraction (0..1) with four decimals.
pub fn csv(r: &pb::GetRetentionMatrixResponse) -> String {
    csv_lines(r, "retained,rate,incomplete", |c| {
        vec![format!(
            "{},{:.4},{}",
            c.retained_users, c.retention_rate, c.incomplete
        )]
    })
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
    fn the_csv_has_one_line_per_cell() {
        assert_eq!(
            csv(&matrix()),
            "cohort,size,offset,retained,rate,incomplete\n\
             2026-11-09,3,0,3,1.0000,false\n\
             2026-11-09,3,1,2,0.6667,false\n\
             2026-11-09,3,2,1,0.3333,true\n\
             2026-11-23,4,0,1,0.2500,true\n"
        );
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
        assert_eq!(
            revenue_csv(&m),
            "cohort,size,offset,currency,revenue_minor,incomplete\n\
             2026-11-09,3,0,usd,4900,false\n\
             2026-11-09,3,2,usd,-500,true\n"
        );
    }

    #[test]
    fn segments_add_a_column_and_are_quoted_when_needed() {
        let mut m = matrix();
        m.rows[0].segment = "pro, annual".into();
        assert!(csv(&m).starts_with("cohort,segment,size,"));
        assert!(csv(&m).contains("2026-11-09,\"pro, annual\",3,0,"));
        assert!(table(&m, false).to_string().contains("segment"));
    }
}
