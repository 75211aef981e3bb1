//! `cohorts overview`: one `GetCohortOverview` call, a line per cohort.

use std::process::ExitCode;

use growth_proto::metrics::v1 as pb;
use serde_json::json;

use super::{OverviewArgs, date_range, matrix};
use crate::cli::Format;
use crate::clients::Metrics;
use crate::output;
use growth_proto::money;

fn overview_json(r: &pb::GetCohortOverviewResponse) -> serde_json::Value {
    json!({
        "time_zone": r.time_zone,
        "rows": r.rows.iter().map(|row| json!({
            "cohort": row.cohort,
            "users": row.users,
            "paying_users": row.paying_users,
            "conversion_rate": row.conversion_rate,
            "revenue": row.revenue.iter().map(|m| json!({
                "amount_minor": m.amount_minor,
                "currency": m.currency,
            })).collect::<Vec<_>>(),
            "checkpoints": row.checkpoints.iter().map(|c| json!({
                "offset": c.offset,
                "retained_users": c.retained_users,
                "retention_rate": c.retention_rate,
                "incomplete": c.incomplete,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// The checkpoint offsets present in any row, in order.
fn checkpoint_offsets(r: &pb::GetCohortOverviewResponse) -> Vec<i32> {
    let mut out: Vec<i32> = r
        .rows
        .iter()
        .flat_map(|row| row.checkpoints.iter().map(|c| c.offset))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

fn table(r: &pb::GetCohortOverviewResponse, prefix: &str) -> comfy_table::Table {
    let offsets = checkpoint_offsets(r);
    let mut header = vec![
        "cohort".to_owned(),
        "users".to_owned(),
        "paying".to_owned(),
        "conversion".to_owned(),
        "net revenue".to_owned(),
    ];
    header.extend(offsets.iter().map(|o| format!("{prefix}{o}")));
    let mut t = output::table([]);
    t.set_header(header);
    for row in &r.rows {
        let revenue: Vec<String> = row
            .revenue
            .iter()
            .map(|m| money::with_currency(m.amount_minor, &m.currency))
            .collect();
        let mut cells = vec![
            row.cohort.clone(),
            row.users.to_string(),
            row.paying_users.to_string(),
            money::percent(row.conversion_rate),
            revenue.join(", "),
        ];
        cells.extend(offsets.iter().map(|o| {
            row.checkpoints
                .iter()
                .find(|c| c.offset == *o)
                .map(matrix::rate_text)
                .unwrap_or_default()
        }));
        t.add_row(cells);
    }
    t
}

/// Calls `GetCohortOverview` and prints it.
pub async fn run(
    client: &mut Metrics,
    args: &OverviewArgs,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let r = client
        .get_cohort_overview(pb::GetCohortOverviewRequest {
            granularity: args.period.proto(),
            cohorts: date_range(args.from, args.to),
        })
        .await?
        .into_inner();
    let prefix = match args.period.name() {
        "day" => "D",
        "week" => "W",
        _ => "M",
    };
    if r.rows.is_empty() && format != Format::Json {
        println!("no {} cohorts in this range", args.period.name());
        println!("time zone: {}", r.time_zone);
        return Ok(ExitCode::SUCCESS);
    }
    output::emit(format, overview_json(&r), || table(&r, prefix));
    if format != Format::Json {
        println!(
            "users and paying users now; revenue and retention (% active in period N) as of the last refresh"
        );
        println!("time zone: {}", r.time_zone);
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use growth_proto::common::v1::Money;

    #[test]
    fn a_row_shows_conversion_revenue_and_each_checkpoint() {
        let r = pb::GetCohortOverviewResponse {
            time_zone: "UTC".into(),
            rows: vec![pb::CohortOverviewRow {
                cohort: "2025-03-01".into(),
                users: 4,
                paying_users: 1,
                conversion_rate: 0.25,
                revenue: vec![Money {
                    amount_minor: 4900,
                    currency: "usd".into(),
                }],
                checkpoints: vec![pb::RetentionCell {
                    offset: 1,
                    retained_users: 2,
                    retention_rate: 0.5,
                    ..Default::default()
                }],
            }],
        };
        let text = table(&r, "M").to_string();
        for part in ["M1", "25.0%", "49.00 USD", "50.0"] {
            assert!(text.contains(part), "{part} in {text}");
        }
    }
}
