//! `growthctl insights`: a week's report written to a file and printed,
//! stored revisions listed and shown, and bad weeks refused naming the
//! input (by clap for the shape, by the service for the rest).

// Test code: a panic with the value is the failure report.
#![allow(clippy::unwrap_used)]

use sqlx::PgPool;

use crate::helpers::*;

#[sqlx::test(migrations = false)]
async fn a_weeks_report_is_written_listed_and_shown(pool: PgPool) {
    let services = spawn_services(pool).await;
    let dir = std::env::temp_dir().join(format!("growthctl-insights-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("w47.md");
    let line = format!(
        "--format md insights weekly --week 2025-W47 --no-ai --output {}",
        file.display()
    );
    let output = ctl(&services, &line).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(
        written.starts_with("# Weekly growth report 2025-W47"),
        "{written}"
    );
    assert_eq!(stdout(&output).trim_end(), written.trim_end());
    assert!(stderr(&output).contains("report written to"));
    assert!(stderr(&output).contains("the AI part was skipped (not requested)"));

    // Twice more, then the revisions.
    for _ in 0..2 {
        let again = ctl(&services, "insights weekly --week 2025-W47 --no-ai").await;
        assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
        assert!(stdout(&again).contains("Signups"), "{}", stdout(&again));
    }
    let listed = json(&ctl(&services, "--format json insights list --week 2025-W47").await);
    let revisions: Vec<i64> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["revision"].as_i64().unwrap())
        .collect();
    assert_eq!(revisions, [3, 2, 1]);
    let shown = json(
        &ctl(
            &services,
            "--format json insights show --week 2025-W47 --revision 1",
        )
        .await,
    );
    assert_eq!(
        (shown["week"].as_str(), shown["revision"].as_i64()),
        (Some("2025-W47"), Some(1))
    );
    assert_eq!(shown["ai"]["status"], "skipped");
    assert_eq!(
        shown["report_markdown"].as_str().unwrap().trim_end(),
        written.trim_end()
    );
}

#[sqlx::test(migrations = false)]
async fn bad_weeks_are_refused_naming_the_input(pool: PgPool) {
    let services = spawn_services(pool).await;
    let shape = ctl(&services, "insights weekly --week 2025-47").await;
    assert_eq!(shape.status.code(), Some(2));
    assert!(
        stderr(&shape).contains("\"2025-47\" is not an ISO week (YYYY-Www, e.g. 2025-W47)"),
        "{}",
        stderr(&shape)
    );
    assert_refused(
        &services,
        "insights weekly --week 2025-W54",
        "week: 2025 has weeks 01 to 52, not 54",
    )
    .await;
    assert_refused(
        &services,
        "insights weekly --week 2999-W01",
        "is not over yet",
    )
    .await;
    assert_refused(
        &services,
        "insights show --week 2025-W47",
        "no report of 2025-W47",
    )
    .await;
}

#[sqlx::test(migrations = false)]
async fn active_users_are_printed_per_day(pool: PgPool) {
    let services = spawn_services(pool).await;
    let users = r#"{"user_id":"a","email":"a@example.com","signup_at":"2025-03-01T09:00:00Z","plan":"free"}
{"user_id":"b","email":"b@example.com","signup_at":"2025-03-01T10:00:00Z","plan":"free"}
"#;
    let events = r#"{"event_id":"e1","user_id":"a","name":"login","occurred_at":"2025-03-02T10:00:00Z"}
{"event_id":"e2","user_id":"a","name":"login","occurred_at":"2025-03-04T10:00:00Z"}
{"event_id":"e3","user_id":"b","name":"login","occurred_at":"2025-03-04T23:00:00Z"}
"#;
    for (args, input) in [(["users", "upsert"], users), (["events", "track"], events)] {
        let done = growthctl(&services, &args, input).await;
        assert!(done.status.success(), "{}", stderr(&done));
    }
    let output = ctl(
        &services,
        "insights active --from 2025-03-02 --to 2025-03-05 --output csv",
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // a on the 2nd (new) and the 4th (returning), b on the 4th (new).
    assert_eq!(
        stdout(&output),
        "day,dau,wau,mau,stickiness,new,returning,resurrected\n\
         2025-03-02,1,1,1,1.0000,1,0,0\n\
         2025-03-03,0,1,1,0.0000,0,0,0\n\
         2025-03-04,2,2,2,1.0000,1,1,0\n\
         2025-03-05,0,2,2,0.0000,0,0,0\n"
    );
    let table = ctl(
        &services,
        "insights active --from 2025-03-04 --to 2025-03-04",
    )
    .await;
    assert!(stdout(&table).contains("100.0%"), "{}", stdout(&table));
    assert!(stdout(&table).contains("rolling 7 and 28 days"));
    assert_refused(
        &services,
        "insights active --from 2025-03-02 --to 2999-01-01",
        "days.to: 2999-01-01 is in the future",
    )
    .await;
}
