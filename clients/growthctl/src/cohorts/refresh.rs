//! `cohorts refresh`: one `RefreshCohorts` call and what it did. The nightly
//! CronJob relies on the exit code: 0 when the refresh completed, 1 otherwise.

use std::process::ExitCode;

use growth_proto::common::v1::Granularity;
use growth_proto::metrics::v1 as pb;
use serde_json::json;

use super::RefreshArgs;
use crate::cli::Format;
use crate::clients::Metrics;
use crate::output;

/// The granularities refreshed: the one asked for, or all three.
fn periods(args: &RefreshArgs) -> Vec<&'static str> {
    args.period
        .map_or_else(|| vec!["day", "week", "month"], |p| vec![p.name()])
}

/// `1234 ms` below ten seconds, `12.3 s` from there.
fn duration(ms: i64) -> String {
    if ms < 10_000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

fn summary_json(periods: &[&str], r: &pb::RefreshCohortsResponse) -> serde_json::Value {
    json!({
        "periods": periods,
        "cohorts_refreshed": r.cohorts_refreshed,
        "cells_written": r.cells_written,
        "cells_unchanged": r.cells_unchanged,
        "duration_ms": r.duration_ms,
        "dry_run": r.dry_run,
        "time_zone": r.time_zone,
    })
}

/// Calls `RefreshCohorts` and prints its counts.
pub async fn run(
    client: &mut Metrics,
    args: &RefreshArgs,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let r = client
        .refresh_cohorts(pb::RefreshCohortsRequest {
            granularity: args
                .period
                .map_or(Granularity::Unspecified as i32, |p| p.proto()),
            cohorts: args.range(),
            full: args.full,
            dry_run: args.dry_run,
            rebuild: args.rebuild,
            metric: args.metric.map_or(0, |m| m.proto()),
        })
        .await?
        .into_inner();
    let periods = periods(args);
    output::emit(format, summary_json(&periods, &r), || {
        let written = if r.dry_run {
            "cells to write"
        } else {
            "cells written"
        };
        let mut table = output::table([
            "periods",
            "cohorts refreshed",
            written,
            "cells unchanged",
            "duration",
            "time zone",
        ]);
        table.add_row(vec![
            periods.join(", "),
            r.cohorts_refreshed.to_string(),
            r.cells_written.to_string(),
            r.cells_unchanged.to_string(),
            duration(r.duration_ms),
            r.time_zone.clone(),
        ]);
        table
    });
    if r.dry_run && format != Format::Json {
        println!("dry run: nothing was written");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_milliseconds_then_seconds() {
        assert_eq!(duration(42), "42 ms");
        assert_eq!(duration(12_345), "12.3 s");
    }
}
