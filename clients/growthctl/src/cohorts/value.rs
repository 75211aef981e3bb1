//! `cohorts value`: one `GetCohortValue` call printed as a table (one row
//! per cohort and currency, cumulative net revenue per user at each month
//! and the 12-month LTV), CSV (one line per point) or JSON.

use std::process::ExitCode;

use comfy_table::{Cell, CellAlignment, Table};
use growth_proto::metrics::v1 as pb;
use growth_proto::money::major;
use serde_json::{Value, json};

use super::ValueArgs;
use super::names::OutputArg;
use crate::clients::Metrics;
use crate::output;

/// Months of a curve: offsets 0 to 11.
const MONTHS: i32 = 12;

/// The response as JSON (per-user amounts in minor units, unrounded).
fn value_json(r: &pb::GetCohortValueResponse) -> Value {
    json!({
        "time_zone": r.time_zone,
        "method": r.method,
        "rows": r.rows.iter().map(|row| json!({
            "cohort": row.cohort,
            "users": row.users,
            "currency": row.currency,
            "points": row.points.iter().map(|p| json!({
                "offset": p.offset,
                "cumulative_per_user_minor": p.cumulative_per_user_minor,
                "partial": p.partial,
                "projected": p.projected,
            })).collect::<Vec<_>>(),
            "ltv_12m_minor": row.ltv_12m_minor,
            "ltv_12m_projected": row.ltv_12m_projected,
        })).collect::<Vec<_>>(),
    })
}

/// A per-user amount in major units, rounded to the minor unit.
fn amount(minor: f64, currency: &str) -> String {
    major(minor.round() as i64, currency, false)
}

/// A point's amount, `~` when projected, `*` when measured in a month not
/// over.
fn point_text(p: &pb::LtvPoint, currency: &str) -> String {
    let mark = match (p.projected, p.partial) {
        (true, _) => "~",
        (false, true) => "*",
        (false, false) => "",
    };
    format!("{}{mark}", amount(p.cumulative_per_user_minor, currency))
}

/// cohort, users, currency, M0..M11 (empty past the curve's end), LTV 12m.
fn table(r: &pb::GetCohortValueResponse) -> Table {
    let mut header = vec!["cohort".to_owned(), "users".into(), "currency".into()];
    header.extend((0..MONTHS).map(|m| format!("M{m}")));
    header.push("LTV 12m".into());
    let mut t = output::table([]);
    t.set_header(header);
    let right = |text: String| Cell::new(text).set_alignment(CellAlignment::Right);
    for row in &r.rows {
        let mut cells = vec![
            Cell::new(&row.cohort),
            right(row.users.to_string()),
            Cell::new(row.currency.to_ascii_uppercase()),
        ];
        cells.extend((0..MONTHS).map(|m| {
            row.points
                .iter()
                .find(|p| p.offset == m)
                .map_or(Cell::new(""), |p| right(point_text(p, &row.currency)))
        }));
        let mark = if row.ltv_12m_projected { "~" } else { "" };
        cells.push(right(format!(
            "{}{mark}",
            amount(row.ltv_12m_minor, &row.currency)
        )));
        t.add_row(cells);
    }
    t
}

/// One line per point: cohort, users, currency, offset,
/// cumulative_per_user_minor (two decimals), partial, projected.
fn csv(r: &pb::GetCohortValueResponse) -> String {
    let mut out =
        String::from("cohort,users,currency,offset,cumulative_per_user_minor,partial,projected\n");
    for row in &r.rows {
        for p in &row.points {
            out.push_str(&format!(
                "{},{},{},{},{:.2},{},{}\n",
                row.cohort,
                row.users,
                row.currency,
                p.offset,
                p.cumulative_per_user_minor,
                p.partial,
                p.projected
            ));
        }
    }
    out
}

fn print_table(r: &pb::GetCohortValueResponse) {
    if r.rows.is_empty() {
        println!("no cohort revenue in this range");
    } else {
        println!("{}", table(r));
        println!(
            "cumulative net revenue per user (payments minus refunds, major units) by month since signup"
        );
        println!("* month not over (so far)   ~ projected: {}", r.method);
    }
    println!("time zone: {}", r.time_zone);
}

/// Calls `GetCohortValue` and prints it.
pub async fn run(
    client: &mut Metrics,
    args: &ValueArgs,
    output: OutputArg,
) -> anyhow::Result<ExitCode> {
    let r = client
        .get_cohort_value(pb::GetCohortValueRequest {
            month_from: args.from.clone().unwrap_or_default(),
            month_to: args.to.clone().unwrap_or_default(),
        })
        .await?
        .into_inner();
    match output {
        OutputArg::Json => println!(
            "{}",
            serde_json::to_string_pretty(&value_json(&r)).unwrap_or_default()
        ),
        OutputArg::Csv => print!("{}", csv(&r)),
        OutputArg::Table => print_table(&r),
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(offset: i32, minor: f64, partial: bool, projected: bool) -> pb::LtvPoint {
        pb::LtvPoint {
            offset,
            cumulative_per_user_minor: minor,
            partial,
            projected,
        }
    }

    fn response() -> pb::GetCohortValueResponse {
        pb::GetCohortValueResponse {
            rows: vec![pb::CohortValueRow {
                cohort: "2026-04".into(),
                users: 10,
                currency: "usd".into(),
                points: vec![
                    point(0, 1_000.0, false, false),
                    point(1, 1_400.0, false, false),
                    point(2, 1_450.0, true, false),
                    point(3, 1_680.000_000_1, true, true),
                ],
                ltv_12m_minor: 5_413.333,
                ltv_12m_projected: true,
            }],
            method: "chain-ladder".into(),
            time_zone: "UTC".into(),
        }
    }

    #[test]
    fn the_table_marks_partial_and_projected_months() {
        let text = table(&response()).to_string();
        for part in [
            "M11", "LTV 12m", "USD", "10.00", "14.50*", "16.80~", "54.13~",
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
    }

    #[test]
    fn the_csv_has_one_line_per_point() {
        let text = csv(&response());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[3], "2026-04,10,usd,2,1450.00,true,false");
        assert_eq!(lines[4], "2026-04,10,usd,3,1680.00,true,true");
    }
}
