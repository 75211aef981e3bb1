//! `cohorts churn`: one `GetChurnReport` call printed as the headline numbers
//! and the churned customers (table), the churned customers (CSV), or JSON.

use std::process::ExitCode;

use growth_proto::common::v1::Money;
use growth_proto::metrics::v1 as pb;
use serde_json::{Value, json};

use super::ChurnArgs;
use super::names::{self, OutputArg};
use crate::clients::Metrics;
use crate::output;
use growth_proto::money::{major, percent, with_currency};

fn money_json(m: &Money) -> Value {
    json!({"amount_minor": m.amount_minor, "currency": m.currency})
}

fn report_json(r: &pb::GetChurnReportResponse) -> Value {
    json!({
        "month": r.month,
        "time_zone": r.time_zone,
        "customers_at_start": r.customers_at_start,
        "customers_churned": r.customers_churned,
        "customer_churn_rate": r.customer_churn_rate,
        "mrr_at_start": r.mrr_at_start.iter().map(money_json).collect::<Vec<_>>(),
        "mrr_churned": r.mrr_churned.iter().map(money_json).collect::<Vec<_>>(),
        "churned_customers": r.churned_customers.iter().map(|c| json!({
            "user_id": c.user_id,
            "email": c.email,
            "plan": c.plan,
            "mrr": c.mrr.as_ref().map(money_json),
            "churned_at": output::time_json(c.churned_at.as_ref()),
        })).collect::<Vec<_>>(),
    })
}

fn lost(c: &pb::ChurnedCustomer) -> (i64, &str) {
    c.mrr
        .as_ref()
        .map_or((0, ""), |m| (m.amount_minor, m.currency.as_str()))
}

fn print_table(r: &pb::GetChurnReportResponse) {
    println!("churn in {} (time zone {})", r.month, r.time_zone);
    println!(
        "customers at start: {}   churned: {}   customer churn rate: {}",
        r.customers_at_start,
        r.customers_churned,
        percent(r.customer_churn_rate)
    );
    if !r.mrr_at_start.is_empty() {
        let mut table = output::table(["currency", "MRR at start", "MRR churned", "MRR churn"]);
        for start in &r.mrr_at_start {
            let churned = r
                .mrr_churned
                .iter()
                .find(|c| c.currency == start.currency)
                .map_or(0, |c| c.amount_minor);
            let rate = if start.amount_minor > 0 {
                churned as f64 / start.amount_minor as f64
            } else {
                0.0
            };
            table.add_row(vec![
                start.currency.to_ascii_uppercase(),
                with_currency(start.amount_minor, &start.currency),
                with_currency(churned, &start.currency),
                percent(rate),
            ]);
        }
        println!("{table}");
    }
    if r.churned_customers.is_empty() {
        println!("no customer churned");
        return;
    }
    let mut table = output::table(["user", "email", "plan", "MRR lost", "churned at"]);
    for c in &r.churned_customers {
        let (amount, currency) = lost(c);
        table.add_row(vec![
            c.user_id.clone(),
            c.email.clone(),
            c.plan.clone(),
            with_currency(amount, currency),
            names::time(c.churned_at.as_ref()),
        ]);
    }
    println!("{table}");
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// One line per churned customer and currency.
fn csv(r: &pb::GetChurnReportResponse) -> String {
    let mut out = String::from("user_id,email,plan,currency,mrr_lost,churned_at\n");
    for c in &r.churned_customers {
        let (amount, currency) = lost(c);
        let at = output::time_json(c.churned_at.as_ref());
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            field(&c.user_id),
            field(&c.email),
            field(&c.plan),
            currency,
            major(amount, currency, true),
            at.as_str().unwrap_or("")
        ));
    }
    out
}

/// Calls `GetChurnReport` and prints it.
pub async fn run(
    client: &mut Metrics,
    args: &ChurnArgs,
    output: OutputArg,
) -> anyhow::Result<ExitCode> {
    let r = client
        .get_churn_report(pb::GetChurnReportRequest {
            month: args.month.clone(),
        })
        .await?
        .into_inner();
    match output {
        OutputArg::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report_json(&r)).unwrap_or_default()
        ),
        OutputArg::Csv => print!("{}", csv(&r)),
        OutputArg::Table => print_table(&r),
    }
    Ok(ExitCode::SUCCESS)
}
