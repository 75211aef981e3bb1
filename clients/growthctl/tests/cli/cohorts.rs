//! `growthctl cohorts` against the real services: users and events ingested
//! through growthctl, the matrices refreshed (as the nightly CronJob does) and
//! shown in every output, with rates computed by hand; bad input refused by
//! clap (exit 2) or by the server (exit 1, its message).

use chrono::{Datelike, SecondsFormat, Utc};
use sqlx::PgPool;

use crate::helpers::*;

/// Three users in the ISO week of Monday 2025-03-03 (UTC, the default
/// reporting time zone); their March and April 2025 cohort is 2025-03-01.
pub(crate) const USERS: &str = r#"{"user_id":"u1","email":"u1@example.com","signup_at":"2025-03-03T09:00:00Z","plan":"free"}
{"user_id":"u2","email":"u2@example.com","signup_at":"2025-03-05T12:00:00Z","plan":"pro"}
{"user_id":"u3","email":"u3@example.com","signup_at":"2025-03-08T18:00:00Z","plan":"free"}
"#;

/// Weeks start on Mondays: 03-03 (W0), 03-10 (W1), 03-17 (W2), 03-24 (W3),
/// 03-31 (W4). u1 is active in W0, W1 (twice) and W3; u2 in W0 and W1; u3's
/// event of 03-07 is before its signup day (ignored), then W4 (April 1).
///
/// By hand, mode on: W0 2/3, W1 2/3, W2 0, W3 1/3, W4 1/3, W5.. 0.
/// Mode on-or-after (latest activity u1 W3, u2 W1, u3 W4): W0 3/3, W1 3/3,
/// W2 2/3, W3 2/3, W4 1/3, then 0. Months: M0 2/3 (u1, u2), M1 1/3 (u3).
pub(crate) const EVENTS: &str = r#"{"event_id":"e1","user_id":"u1","name":"login","occurred_at":"2025-03-03T10:00:00Z"}
{"event_id":"e2","user_id":"u1","name":"login","occurred_at":"2025-03-11T10:00:00Z"}
{"event_id":"e3","user_id":"u1","name":"report_created","occurred_at":"2025-03-16T23:59:00Z"}
{"event_id":"e4","user_id":"u1","name":"login","occurred_at":"2025-03-25T08:00:00Z"}
{"event_id":"e5","user_id":"u2","name":"login","occurred_at":"2025-03-06T10:00:00Z"}
{"event_id":"e6","user_id":"u2","name":"login","occurred_at":"2025-03-12T10:00:00Z"}
{"event_id":"e7","user_id":"u3","name":"login","occurred_at":"2025-03-07T10:00:00Z"}
{"event_id":"e8","user_id":"u3","name":"login","occurred_at":"2025-04-01T10:00:00Z"}
"#;

pub(crate) async fn ingest(services: &Services, users: &str, events: &str) {
    let upserted = growthctl(services, &["users", "upsert"], users).await;
    assert!(upserted.status.success(), "{}", stderr(&upserted));
    if !events.is_empty() {
        let tracked = growthctl(services, &["events", "track"], events).await;
        assert!(tracked.status.success(), "{}", stderr(&tracked));
    }
}

pub(crate) async fn stored_rows(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM metrics.retention_rows")
        .fetch_one(pool)
        .await
        .expect("retention rows")
}

pub(crate) fn rates(row: &serde_json::Value) -> Vec<f64> {
    row["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .map(|c| (c["retention_rate"].as_f64().expect("a rate") * 1000.0).round() / 1000.0)
        .collect()
}

#[sqlx::test(migrations = false)]
async fn refreshed_cohorts_show_the_retention_computed_by_hand(pool: PgPool) {
    let services = spawn_services(pool.clone()).await;
    ingest(&services, USERS, EVENTS).await;

    // A dry run reports what it would write and writes nothing.
    let dry = ok(&services, "cohorts refresh --dry-run").await;
    assert!(
        dry.contains("cells to write") && dry.contains("dry run: nothing was written"),
        "{dry}"
    );
    let dry = json(&ctl(&services, "--format json cohorts refresh --dry-run").await);
    assert_eq!(
        (&dry["dry_run"], &dry["cohorts_refreshed"]),
        (&true.into(), &5.into())
    );
    assert!(dry["cells_written"].as_i64() > Some(0), "{dry}");
    assert_eq!(stored_rows(&pool).await, 0);

    // The CronJob's command: exit 0, the counts and the time zone.
    let refresh = ok(&services, "cohorts refresh").await;
    let lines: Vec<&str> = refresh.lines().collect();
    assert_eq!(
        cells(lines[1]),
        [
            "periods",
            "cohorts refreshed",
            "cells written",
            "cells unchanged",
            "duration",
            "time zone"
        ]
    );
    let row = cells(lines[3]);
    assert_eq!((row[0], row[1], row[5]), ("day, week, month", "5", "UTC"));
    assert!(!refresh.contains("dry run"), "{refresh}");
    assert!(stored_rows(&pool).await > 0);
    let again = json(
        &ctl(
            &services,
            "--format json cohorts refresh --period weekly --full",
        )
        .await,
    );
    assert_eq!(
        (&again["cells_written"], &again["periods"][0]),
        (&0.into(), &"week".into())
    );

    let table = ok(&services, "cohorts show --period week").await;
    let lines: Vec<&str> = table.lines().collect();
    let header = cells(lines[1]);
    assert_eq!(header[..4], ["cohort", "size", "W0", "W1"]);
    assert_eq!(header.last(), Some(&"W12"));
    let mut expected = vec!["2025-03-03", "3", "66.7", "66.7", "0.0", "33.3", "33.3"];
    expected.extend(["0.0"; 8]);
    assert_eq!(cells(lines[3]), expected, "{table}");
    assert!(!table.contains('*') && !table.contains('\u{1b}'), "{table}");
    assert!(table.contains("time zone: UTC"), "{table}");
    let refreshed = format!("refreshed at: {}", Utc::now().format("%Y-%m-%d"));
    assert!(table.contains(&refreshed), "{table}");

    let after = json(
        &ctl(
            &services,
            "--format json cohorts show --period weekly --mode on-or-after",
        )
        .await,
    );
    assert_eq!(
        (&after["granularity"], &after["mode"]),
        (&"WEEK".into(), &"ON_OR_AFTER".into())
    );
    let row = &after["rows"][0];
    assert_eq!(
        (&row["cohort"], &row["cohort_size"]),
        (&"2025-03-03".into(), &3.into())
    );
    let mut expected = vec![1.0, 1.0, 0.667, 0.667, 0.333];
    expected.extend([0.0; 8]);
    assert_eq!(rates(row), expected);
    assert_eq!(row["cells"][4]["retained_users"], 1);
    assert_eq!(after["time_zone"], "UTC");
    assert!(after["refreshed_at"].is_string(), "{after}");

    let csv = ok(&services, "cohorts show --period month --output csv").await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "cohort,size,offset,retained,rate,incomplete");
    assert_eq!(lines[1], "2025-03-01,3,0,2,0.6667,false");
    assert_eq!(lines[2], "2025-03-01,3,1,1,0.3333,false");
    assert_eq!(lines.len(), 1 + 13, "{csv}");
    assert!(
        lines[1..].iter().all(|l| l.split(',').count() == 6),
        "{csv}"
    );

    // Day cohorts: one each, and a one-day range picks one of them.
    let days = json(
        &ctl(
            &services,
            "--format json cohorts show --period daily --from 2025-03-05 --to 2025-03-05",
        )
        .await,
    );
    assert_eq!(days["rows"].as_array().map(Vec::len), Some(1), "{days}");
    assert_eq!(days["rows"][0]["cells"][1]["retained_users"], 1); // u2 on 03-06
}

#[sqlx::test(migrations = false)]
async fn the_current_period_is_marked_as_not_finished(pool: PgPool) {
    let services = spawn_services(pool).await;
    let signup = Utc::now() - chrono::Duration::minutes(1);
    let users = format!(
        "{{\"user_id\":\"n1\",\"email\":\"n1@example.com\",\"signup_at\":\"{}\",\"plan\":\"free\"}}\n",
        signup.to_rfc3339_opts(SecondsFormat::Secs, true)
    );
    ingest(&services, &users, "").await;
    ok(&services, "cohorts refresh --period month").await;

    let table = ok(&services, "cohorts show --period monthly").await;
    let first = signup
        .with_day(1)
        .expect("a first day")
        .format("%Y-%m-%d")
        .to_string();
    let row = table
        .lines()
        .find(|l| l.contains(&first))
        .expect("this month's cohort");
    let row = cells(row);
    assert_eq!(row[..3], [first.as_str(), "1", "0.0*"], "{table}");
    assert!(row[3..].iter().all(|c| c.is_empty()), "{table}");
    assert!(table.contains("* period not finished"), "{table}");

    let csv = ok(&services, "cohorts show --period month --output csv").await;
    assert_eq!(
        csv.lines().nth(1),
        Some(format!("{first},1,0,0,0.0000,true").as_str())
    );
}

#[sqlx::test(migrations = false)]
async fn the_servers_refusals_exit_1_with_its_message(pool: PgPool) {
    let services = spawn_services(pool).await;
    for (line, expected) in [
        (
            "cohorts refresh --from 2025-03-10 --to 2025-03-01",
            "cohorts.from: 2025-03-10 is after cohorts.to 2025-03-01 (INVALID_ARGUMENT)",
        ),
        (
            "cohorts show --period week --to 2999-01-01",
            "cohorts.to: 2999-01-01 is in the future",
        ),
        (
            "cohorts refresh --dry-run --rebuild",
            "rebuild: cannot be combined with dry_run",
        ),
        (
            "cohorts show --period week --breakdown attributes.shoe_size",
            "breakdown: no user has the attribute \"shoe_size\" (INVALID_ARGUMENT)",
        ),
        (
            "cohorts show --period week --breakdown country",
            "breakdown: must be \"plan\" or \"attributes.<key>\"",
        ),
    ] {
        assert_refused(&services, line, expected).await;
    }
}

#[tokio::test]
async fn malformed_cohort_flags_are_refused_naming_the_flag() {
    for (line, flag) in [
        ("cohorts show --period yearly", "--period"),
        ("cohorts show", "--period"),
        ("cohorts refresh --period yearly", "--period"),
        ("cohorts show --period week --from 2025-13-01", "--from"),
        ("cohorts refresh --cohort 03/01/2025", "--cohort"),
        (
            "cohorts refresh --cohort 2025-03-03 --to 2025-03-09",
            "--cohort",
        ),
        ("cohorts show --period week --mode before", "--mode"),
        ("cohorts show --period week --output xml", "--output"),
    ] {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_growthctl"));
        command.args(line.split_whitespace());
        let output = run(command, "").await;
        assert_eq!(output.status.code(), Some(2), "{line}");
        assert!(
            stderr(&output).contains(flag),
            "{line}: {}",
            stderr(&output)
        );
    }
}
