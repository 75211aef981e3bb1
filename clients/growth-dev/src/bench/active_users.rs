//! `bench retention`'s weekly-insights part, on the same data in the same
//! run: `GetActiveUsers` for every day of the events' range (at least 365
//! days), timed (best of `--runs`) and written to `active_ours.json` for
//! `bench/retention/active.py` to compare with DuckDB day by day; and the
//! whole weekly report, `GenerateGrowthInsights` without the AI part and
//! without notifying, for the last complete ISO week, timed (best and
//! median). Both are timed as a round trip on the loopback and as the
//! server's own time, which every RPC records in the process's Prometheus
//! histogram `grpc_server_request_duration_seconds` (its `_sum` is exact).

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use chrono::NaiveDate;
use growth_proto::common::v1::DateRange;
use growth_proto::metrics::v1 as pb;
use serde_json::{Value, json};
use sqlx::PgPool;

use super::timing::{ms, time};
use growthctl::clients::Metrics;

/// Days asked for at least: a year.
const MIN_DAYS: i64 = 365;
/// Calls of the weekly report at least, for a median.
const MIN_REPORT_RUNS: u32 = 5;

/// The server's time spent in `method` so far, in seconds, summed over its
/// calls (every code), from the in-process Prometheus histogram.
fn server_seconds(method: &str) -> f64 {
    let wanted = format!("method=\"/growth.metrics.v1.MetricsService/{method}\"");
    growth_runtime::http::prometheus()
        .render()
        .lines()
        .filter(|l| {
            l.starts_with("grpc_server_request_duration_seconds_sum{") && l.contains(&wanted)
        })
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

/// One call's round trip and the server's time in it.
#[derive(Debug, Clone, Copy)]
struct Timing {
    round_trip: Duration,
    server: Duration,
}

/// Calls `f` (an RPC of `method`) once, timed both ways.
async fn call<F, Fut, T>(method: &str, f: F) -> anyhow::Result<(Timing, T)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let before = server_seconds(method);
    let (round_trip, out) = time(1, f).await?;
    let server = Duration::from_secs_f64((server_seconds(method) - before).max(0.0));
    Ok((Timing { round_trip, server }, out))
}

/// Best and median of `times`.
fn best_median(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort_unstable();
    (
        times.first().copied().unwrap_or_default(),
        times.get(times.len() / 2).copied().unwrap_or_default(),
    )
}

/// The local days of the first and last event (the last not after today),
/// widened to [`MIN_DAYS`] back from the last.
async fn event_days(pool: &PgPool, time_zone: &str) -> anyhow::Result<(NaiveDate, NaiveDate)> {
    let (first, last, today): (Option<NaiveDate>, Option<NaiveDate>, NaiveDate) = sqlx::query_as(
        "SELECT min((occurred_at AT TIME ZONE $1)::date), max((occurred_at AT TIME ZONE $1)::date),
                (now() AT TIME ZONE $1)::date
         FROM metrics.events",
    )
    .bind(time_zone)
    .fetch_one(pool)
    .await?;
    let to = last.context("no events")?.min(today);
    let from = first
        .unwrap_or(to)
        .min(to - chrono::Duration::days(MIN_DAYS - 1));
    Ok((from, to))
}

/// Measures both, writes `active_ours.json` into `out`, and returns the
/// timings for `meta.json`'s `active`.
pub async fn measure(
    client: &Metrics,
    pool: &PgPool,
    runs: u32,
    out: &Path,
    time_zone: &str,
) -> anyhow::Result<Value> {
    let (from, to) = event_days(pool, time_zone).await?;
    let request = pb::GetActiveUsersRequest {
        days: Some(DateRange {
            from: from.to_string(),
            to: to.to_string(),
        }),
    };
    let mut series = Vec::new();
    let mut answer = pb::GetActiveUsersResponse::default();
    for _ in 0..runs.max(1) {
        let (t, a) = call("GetActiveUsers", || async {
            anyhow::Ok(
                client
                    .clone()
                    .get_active_users(request.clone())
                    .await?
                    .into_inner(),
            )
        })
        .await?;
        series.push(t);
        answer = a;
    }
    let (series_best, _) = best_median(series.iter().map(|t| t.round_trip).collect());
    let (series_server, _) = best_median(series.iter().map(|t| t.server).collect());
    eprintln!(
        "bench: GetActiveUsers {from}..{to} ({} days): best {:.1} ms round trip, {:.1} ms server",
        answer.days.len(),
        ms(series_best),
        ms(series_server)
    );
    let days: serde_json::Map<String, Value> = answer
        .days
        .iter()
        .map(|d| {
            let counts = json!({
                "dau": d.dau, "wau": d.wau, "mau": d.mau,
                "new": d.new_actives, "returning": d.returning_actives, "resurrected": d.resurrected,
            });
            (d.day.clone(), counts)
        })
        .collect();
    let ours = json!({
        "time_zone": answer.time_zone,
        "from": from.to_string(),
        "to": to.to_string(),
        "days": days,
    });
    std::fs::write(out.join("active_ours.json"), serde_json::to_vec(&ours)?)?;

    // The last complete week (an empty week), no AI, no Slack post.
    let request = pb::GenerateGrowthInsightsRequest::default();
    let mut reports = Vec::new();
    let mut week = String::new();
    for _ in 0..runs.max(MIN_REPORT_RUNS) {
        let (t, r) = call("GenerateGrowthInsights", || async {
            anyhow::Ok(
                client
                    .clone()
                    .generate_growth_insights(request.clone())
                    .await?
                    .into_inner(),
            )
        })
        .await?;
        reports.push(t);
        week = r.report.map(|r| r.week).unwrap_or_default();
    }
    let (report_best, report_median) = best_median(reports.iter().map(|t| t.round_trip).collect());
    let (server_best, server_median) = best_median(reports.iter().map(|t| t.server).collect());
    eprintln!(
        "bench: GenerateGrowthInsights {week} without AI, {} calls: server best {:.1} ms, median {:.1} ms; round trip best {:.1} ms, median {:.1} ms",
        reports.len(),
        ms(server_best),
        ms(server_median),
        ms(report_best),
        ms(report_median)
    );
    Ok(json!({
        "from": from.to_string(),
        "to": to.to_string(),
        "days": answer.days.len(),
        "series_seconds": series_best.as_secs_f64(),
        "series_server_seconds": series_server.as_secs_f64(),
        "report_week": week,
        "report_calls": reports.len(),
        "report_seconds_best": report_best.as_secs_f64(),
        "report_seconds_median": report_median.as_secs_f64(),
        "report_server_seconds_best": server_best.as_secs_f64(),
        "report_server_seconds_median": server_median.as_secs_f64(),
    }))
}
