//! `insights active`: one `GetActiveUsers` call printed as a table, CSV or
//! JSON, one line per day (DAU, rolling 7-day WAU and 28-day MAU,
//! stickiness, new, returning and resurrected actives).

use chrono::{Duration, NaiveDate, Utc};
use clap::Args;
use growth_proto::common::v1::DateRange;
use growth_proto::metrics::v1 as pb;
use growth_proto::money::percent;
use serde_json::{Value, json};

use crate::clients::Metrics;
use crate::cohorts::names::{self, OutputArg};
use crate::output;

/// `insights active` options.
#[derive(Debug, Args)]
pub struct ActiveArgs {
    /// First day, in the service's reporting time zone (default: 27 days
    /// before --to, so that 28 days are shown).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = names::date)]
    pub from: Option<NaiveDate>,
    /// Last day, not after today in the reporting time zone (default:
    /// yesterday in UTC, which is never after today anywhere).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = names::date)]
    pub to: Option<NaiveDate>,
    /// Output of this command: table or csv (one line per day: day, dau,
    /// wau, mau, stickiness, new, returning, resurrected) or json (default:
    /// the global --format: json or csv there mean the same here).
    #[arg(long, value_enum)]
    pub output: Option<OutputArg>,
}

/// The days asked for, with the defaults filled in.
fn days(args: &ActiveArgs) -> DateRange {
    let to = args
        .to
        .unwrap_or_else(|| Utc::now().date_naive() - Duration::days(1));
    let from = args.from.unwrap_or(to - Duration::days(27));
    DateRange {
        from: from.to_string(),
        to: to.to_string(),
    }
}

const COLUMNS: [&str; 8] = [
    "day",
    "dau",
    "wau",
    "mau",
    "stickiness",
    "new",
    "returning",
    "resurrected",
];

fn csv(r: &pb::GetActiveUsersResponse) -> String {
    let mut out = COLUMNS.join(",") + "\n";
    for d in &r.days {
        out.push_str(&format!(
            "{},{},{},{},{:.4},{},{},{}\n",
            d.day,
            d.dau,
            d.wau,
            d.mau,
            d.stickiness,
            d.new_actives,
            d.returning_actives,
            d.resurrected
        ));
    }
    out
}

fn active_json(r: &pb::GetActiveUsersResponse) -> Value {
    json!({
        "time_zone": r.time_zone,
        "days": r.days.iter().map(|d| json!({
            "day": d.day, "dau": d.dau, "wau": d.wau, "mau": d.mau,
            "stickiness": d.stickiness, "new": d.new_actives,
            "returning": d.returning_actives, "resurrected": d.resurrected,
        })).collect::<Vec<_>>(),
    })
}

fn print_table(r: &pb::GetActiveUsersResponse) {
    let mut table = output::table(COLUMNS);
    for d in &r.days {
        table.add_row(vec![
            d.day.clone(),
            d.dau.to_string(),
            d.wau.to_string(),
            d.mau.to_string(),
            percent(d.stickiness),
            d.new_actives.to_string(),
            d.returning_actives.to_string(),
            d.resurrected.to_string(),
        ]);
    }
    println!("{table}");
    println!(
        "WAU and MAU are rolling 7 and 28 days ending with the day; stickiness = DAU / MAU; \
         days in {}",
        r.time_zone
    );
}

/// Calls `GetActiveUsers` and prints it.
pub async fn run(client: &mut Metrics, args: &ActiveArgs, output: OutputArg) -> anyhow::Result<()> {
    let r = client
        .get_active_users(pb::GetActiveUsersRequest {
            days: Some(days(args)),
        })
        .await?
        .into_inner();
    match output {
        OutputArg::Json => println!(
            "{}",
            serde_json::to_string_pretty(&active_json(&r)).unwrap_or_default()
        ),
        OutputArg::Csv => print!("{}", csv(&r)),
        OutputArg::Table => print_table(&r),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_range_is_the_28_days_to_the_last_day_given() {
        let to = NaiveDate::from_ymd_opt(2026, 3, 31);
        let args = ActiveArgs {
            from: None,
            to,
            output: None,
        };
        let range = days(&args);
        assert_eq!(
            (range.from.as_str(), range.to.as_str()),
            ("2026-03-04", "2026-03-31")
        );
    }

    #[test]
    fn the_csv_has_one_line_per_day() {
        let r = pb::GetActiveUsersResponse {
            days: vec![pb::DailyActiveUsers {
                day: "2026-03-31".into(),
                dau: 2,
                wau: 3,
                mau: 8,
                stickiness: 0.25,
                new_actives: 1,
                returning_actives: 1,
                resurrected: 0,
            }],
            time_zone: "UTC".into(),
        };
        assert_eq!(
            csv(&r),
            "day,dau,wau,mau,stickiness,new,returning,resurrected\n2026-03-31,2,3,8,0.2500,1,1,0\n"
        );
    }
}
