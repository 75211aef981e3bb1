//! A `GetRetentionMatrixResponse` read and written out: which offsets,
//! segments and currencies it holds, and its CSV and JSON. `growthctl
//! cohorts show --output csv|json` and the dashboard's exports both print
//! [`csv_text`] and [`json_text`], byte for byte.

use serde_json::{Value, json};

use super::names;
use crate::metrics::v1::{self as pb, RetentionMetric};

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

/// Whether the cells count revenue rather than users.
pub fn is_revenue(r: &pb::GetRetentionMatrixResponse) -> bool {
    r.metric == RetentionMetric::Revenue as i32
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

/// The cell's revenue in `currency` (minor units; 0 when it has none).
pub fn revenue_of(cell: &pb::RetentionCell, currency: &str) -> i64 {
    cell.revenue
        .iter()
        .find(|m| m.currency == currency)
        .map_or(0, |m| m.amount_minor)
}

/// Whether any cell of `row` carries revenue in `currency`.
pub fn has_currency(row: &pb::CohortRow, currency: &str) -> bool {
    row.cells
        .iter()
        .any(|c| c.revenue.iter().any(|m| m.currency == currency))
}

/// The matrix's CSV: [`revenue_csv`] for a revenue matrix, else [`csv`].
pub fn csv_text(r: &pb::GetRetentionMatrixResponse) -> String {
    if is_revenue(r) {
        revenue_csv(r)
    } else {
        csv(r)
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

/// The response as JSON, enums by their short names, times in RFC 3339.
pub fn json(r: &pb::GetRetentionMatrixResponse) -> Value {
    json!({
        "granularity": names::granularity(r.granularity),
        "metric": names::metric(r.metric),
        "mode": names::mode(r.mode),
        "time_zone": r.time_zone,
        "max_offset": r.max_offset,
        "refreshed_at": crate::timestamp::rfc3339(r.refreshed_at.as_ref()),
        "rows": r.rows.iter().map(|row| json!({
            "cohort": row.cohort,
            "segment": row.segment,
            "cohort_size": row.cohort_size,
            "cells": row.cells.iter().map(|c| json!({
                "offset": c.offset,
                "retained_users": c.retained_users,
                "retention_rate": c.retention_rate,
                "incomplete": c.incomplete,
                "revenue": c.revenue.iter().map(|m| json!({
                    "amount_minor": m.amount_minor,
                    "currency": m.currency,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// [`json`] pretty-printed, with a final line break.
pub fn json_text(r: &pb::GetRetentionMatrixResponse) -> String {
    let mut text = serde_json::to_string_pretty(&json(r)).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::v1::{Granularity, Money};

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
    fn the_csv_has_one_line_per_cell() {
        assert_eq!(
            csv_text(&matrix()),
            "cohort,size,offset,retained,rate,incomplete\n\
             2026-11-09,3,0,3,1.0000,false\n\
             2026-11-09,3,1,2,0.6667,false\n\
             2026-11-09,3,2,1,0.3333,true\n\
             2026-11-23,4,0,1,0.2500,true\n"
        );
    }

    #[test]
    fn revenue_has_a_line_per_cell_and_currency() {
        let mut m = matrix();
        m.metric = RetentionMetric::Revenue as i32;
        m.rows[0].cells[0].revenue = vec![Money {
            amount_minor: 4900,
            currency: "usd".into(),
        }];
        m.rows[0].cells[2].revenue = vec![Money {
            amount_minor: -500,
            currency: "usd".into(),
        }];
        assert_eq!(currencies(&m), ["usd"]);
        assert!(has_currency(&m.rows[0], "usd") && !has_currency(&m.rows[1], "usd"));
        assert_eq!(
            csv_text(&m),
            "cohort,size,offset,currency,revenue_minor,incomplete\n\
             2026-11-09,3,0,usd,4900,false\n\
             2026-11-09,3,2,usd,-500,true\n"
        );
    }

    #[test]
    fn segments_add_a_column_and_are_quoted_when_needed() {
        let mut m = matrix();
        m.rows[0].segment = "pro, \"annual\"".into();
        assert!(csv(&m).starts_with("cohort,segment,size,"));
        assert!(csv(&m).contains("2026-11-09,\"pro, \"\"annual\"\"\",3,0,"));
    }

    #[test]
    fn the_json_names_enums_briefly_and_ends_with_a_line_break() {
        let text = json_text(&matrix());
        assert!(text.ends_with("}\n"), "{text}");
        let value: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(value["granularity"], "WEEK");
        assert_eq!(value["refreshed_at"], Value::Null);
        assert_eq!(value["rows"][0]["cells"][2]["incomplete"], true);
        assert_eq!(max_offset(&matrix()), 2);
        assert!(any_incomplete(&matrix()) && !segmented(&matrix()));
    }
}
