//! `revenue summary`: one `GetRevenueSummary` call printed as a table (one
//! row per month and currency), CSV or JSON.

use std::process::ExitCode;

use growth_proto::metrics::v1 as pb;
use serde_json::{Value, json};

use super::SummaryArgs;
use crate::clients::Metrics;
use crate::cohorts::names::OutputArg;
use crate::output;
use growth_proto::money::{major, percent};

/// The response as JSON (amounts in minor units with their currency).
fn summary_json(r: &pb::GetRevenueSummaryResponse) -> Value {
    json!({
        "time_zone": r.time_zone,
        "months": r.months.iter().map(|m| json!({
            "month": m.month,
            "partial": m.partial,
            "currencies": m.currencies.iter().map(|c| json!({
                "currency": c.currency,
                "mrr_at_start_minor": c.mrr_at_start_minor,
                "mrr_minor": c.mrr_minor,
                "arr_minor": c.arr_minor,
                "new_minor": c.new_minor,
                "expansion_minor": c.expansion_minor,
                "contraction_minor": c.contraction_minor,
                "churned_minor": c.churned_minor,
                "reactivation_minor": c.reactivation_minor,
                "net_new_minor": c.net_new_minor,
                "net_revenue_retention": c.net_revenue_retention,
                "gross_revenue_retention": c.gross_revenue_retention,
                "customers": c.customers,
                "active_subscriptions": c.active_subscriptions,
                "gross_revenue_minor": c.gross_revenue_minor,
                "refunds_minor": c.refunds_minor,
                "disputes_minor": c.disputes_minor,
                "net_revenue_minor": c.net_revenue_minor,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// A retention rate, or `none` when the month started without MRR (the
/// rate is not a number then, whatever the wire's 0 says).
fn retention(rate: f64, c: &pb::MrrMovements, shown: fn(f64) -> String, none: &str) -> String {
    if c.mrr_at_start_minor == 0 {
        none.to_owned()
    } else {
        shown(rate)
    }
}

/// The month's label; one not over yet says so.
fn month(m: &pb::MonthlyRevenue) -> String {
    if m.partial {
        format!("{} (to date)", m.month)
    } else {
        m.month.clone()
    }
}

fn table(r: &pb::GetRevenueSummaryResponse) -> comfy_table::Table {
    let mut table = output::table([
        "month",
        "currency",
        "MRR",
        "ARR",
        "new",
        "expansion",
        "contraction",
        "churned",
        "reactivation",
        "net new",
        "NRR",
        "GRR",
        "customers",
        "gross",
        "refunds",
        "disputes",
        "net revenue",
    ]);
    for m in &r.months {
        if m.currencies.is_empty() {
            let mut row = vec![month(m), "-".to_owned()];
            row.extend(std::iter::repeat_n(String::new(), 15));
            table.add_row(row);
        }
        for c in &m.currencies {
            let money = |minor: i64| major(minor, &c.currency, false);
            table.add_row(vec![
                month(m),
                c.currency.to_ascii_uppercase(),
                money(c.mrr_minor),
                money(c.arr_minor),
                money(c.new_minor),
                money(c.expansion_minor),
                money(c.contraction_minor),
                money(c.churned_minor),
                money(c.reactivation_minor),
                money(c.net_new_minor),
                retention(c.net_revenue_retention, c, percent, "n/a"),
                retention(c.gross_revenue_retention, c, percent, "n/a"),
                c.customers.to_string(),
                money(c.gross_revenue_minor),
                money(c.refunds_minor),
                money(c.disputes_minor),
                money(c.net_revenue_minor),
            ]);
        }
    }
    table
}

/// The header of [`csv`] (`revenue summary --help` lists the columns).
const CSV_COLUMNS: &str = "month,currency,mrr_at_start,mrr,arr,new,expansion,contraction,churned,reactivation,net_new,nrr,grr,customers,active_subscriptions,gross_revenue,refunds,disputes,net_revenue,partial";

/// One line per month and currency, amounts in major units; NRR and GRR
/// empty when the month started without MRR.
fn csv(r: &pb::GetRevenueSummaryResponse) -> String {
    let mut out = format!("{CSV_COLUMNS}\n");
    let ratio = |rate: f64| format!("{rate:.4}");
    for m in &r.months {
        for c in &m.currencies {
            let money = |minor: i64| major(minor, &c.currency, true);
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                m.month,
                c.currency,
                money(c.mrr_at_start_minor),
                money(c.mrr_minor),
                money(c.arr_minor),
                money(c.new_minor),
                money(c.expansion_minor),
                money(c.contraction_minor),
                money(c.churned_minor),
                money(c.reactivation_minor),
                money(c.net_new_minor),
                retention(c.net_revenue_retention, c, ratio, ""),
                retention(c.gross_revenue_retention, c, ratio, ""),
                c.customers,
                c.active_subscriptions,
                money(c.gross_revenue_minor),
                money(c.refunds_minor),
                money(c.disputes_minor),
                money(c.net_revenue_minor),
                m.partial,
            ));
        }
    }
    out
}

/// Calls `GetRevenueSummary` and prints it.
pub async fn run(
    client: &mut Metrics,
    args: &SummaryArgs,
    output: OutputArg,
) -> anyhow::Result<ExitCode> {
    let r = client
        .get_revenue_summary(pb::GetRevenueSummaryRequest {
            month_from: args.from.clone(),
            month_to: args.to.clone().unwrap_or_default(),
        })
        .await?
        .into_inner();
    match output {
        OutputArg::Json => println!(
            "{}",
            serde_json::to_string_pretty(&summary_json(&r)).unwrap_or_default()
        ),
        OutputArg::Csv => print!("{}", csv(&r)),
        OutputArg::Table => {
            println!("{}", table(&r));
            println!(
                "amounts in major units of each currency; NRR/GRR n/a when the month started without MRR; \
                 (to date): the month is not over, its figures run to now; \
                 gross = payments captured in the month, refunds and disputes (money withdrawn minus \
                 reinstated) made in it, net revenue = gross - refunds - disputes"
            );
            println!("time zone: {}", r.time_zone);
        }
    }
    Ok(ExitCode::SUCCESS)
}
