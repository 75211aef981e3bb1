//! `cohorts show`: one `GetRetentionMatrix` call printed as a table (a
//! heatmap on a terminal), CSV or JSON.

use std::io::IsTerminal as _;
use std::process::ExitCode;

use growth_proto::export::matrix as export;
use growth_proto::metrics::v1 as pb;

use super::names::{self, OutputArg};
use super::{ShowArgs, date_range, matrix};
use crate::clients::Metrics;

/// A heatmap only on a terminal, and not when NO_COLOR is set.
fn heatmap() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn print_table(r: &pb::GetRetentionMatrixResponse, revenue: bool) {
    let period = names::granularity(r.granularity).to_lowercase();
    if r.rows.is_empty() {
        println!("no {period} cohorts stored in this range");
    } else {
        if !revenue {
            println!("{}", matrix::table(r, heatmap()));
        } else if export::currencies(r).is_empty() {
            println!("no revenue from these cohorts");
        } else {
            println!("{}", matrix::revenue_table(r, heatmap()));
        }
        println!(
            "{} {} {period} N (mode {})",
            if revenue {
                "net revenue (payments minus refunds, major units)"
            } else {
                "% of the cohort active"
            },
            if names::mode(r.mode) == "ON_OR_AFTER" {
                "in or after"
            } else {
                "in"
            },
            names::mode(r.mode)
        );
        if export::any_incomplete(r) {
            println!("* period not finished");
        }
    }
    println!("time zone: {}", r.time_zone);
    let refreshed = names::time(r.refreshed_at.as_ref());
    if r.refreshed_at.is_some() {
        println!("refreshed at: {refreshed}");
    } else {
        println!("refreshed at: {refreshed} (run `growthctl cohorts refresh`)");
    }
}

/// Calls `GetRetentionMatrix` and prints the matrix.
pub async fn run(
    client: &mut Metrics,
    args: &ShowArgs,
    output: OutputArg,
) -> anyhow::Result<ExitCode> {
    let r = client
        .get_retention_matrix(pb::GetRetentionMatrixRequest {
            granularity: args.period.proto(),
            cohorts: date_range(args.from, args.to),
            metric: args.metric.proto(),
            mode: args.mode.proto(),
            breakdown: args.breakdown.clone().unwrap_or_default(),
        })
        .await?
        .into_inner();
    match output {
        OutputArg::Json => print!("{}", export::json_text(&r)),
        OutputArg::Csv => print!("{}", export::csv_text(&r)),
        OutputArg::Table => print_table(&r, export::is_revenue(&r)),
    }
    Ok(ExitCode::SUCCESS)
}
