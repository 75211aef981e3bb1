//! `growthctl lifecycle` against the real services: users ingested through
//! growthctl reach a stage via the feed, and every lifecycle command reads or
//! changes it as a user (or the hourly CronJob) would.

use std::process::Output;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use sqlx::PgPool;

use crate::helpers::*;

fn rfc3339(days_ago: i64, minutes_ago: i64) -> String {
    (Utc::now() - chrono::Duration::days(days_ago) - chrono::Duration::minutes(minutes_ago))
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// u1: an old account used every day (ACTIVE); u2: signed up two days ago
/// with one login (ONBOARDING).
fn users() -> String {
    format!(
        "{{\"user_id\":\"u1\",\"email\":\"u1@example.com\",\"signup_at\":\"{}\",\"plan\":\"free\"}}\n\
         {{\"user_id\":\"u2\",\"email\":\"u2@example.com\",\"signup_at\":\"{}\",\"plan\":\"free\"}}\n",
        rfc3339(100, 0),
        rfc3339(2, 0)
    )
}

fn events() -> String {
    let mut lines = Vec::new();
    for day in 0..20 {
        for i in 0..3 {
            lines.push(format!(
                "{{\"event_id\":\"a_{day}_{i}\",\"user_id\":\"u1\",\"name\":\"feature_{}\",\"occurred_at\":\"{}\"}}",
                (day * 3 + i) % 5,
                rfc3339(day, 10 + i)
            ));
        }
    }
    lines.push(format!(
        "{{\"event_id\":\"b1\",\"user_id\":\"u2\",\"name\":\"login\",\"occurred_at\":\"{}\"}}",
        rfc3339(0, 5)
    ));
    lines.join("\n")
}

/// The JSON stdout of a command that must succeed.
async fn ctl_json(services: &Services, line: &str) -> serde_json::Value {
    let output = ctl(services, &format!("--format json {line}")).await;
    assert!(output.status.success(), "{line}: {}", stderr(&output));
    json(&output)
}

async fn ingest(services: &Services) {
    let users = growthctl(services, &["users", "upsert"], &users()).await;
    assert!(users.status.success(), "{}", stderr(&users));
    let events = growthctl(services, &["events", "track"], &events()).await;
    assert!(events.status.success(), "{}", stderr(&events));
}

/// Runs `line` until `ready` holds for its output, up to 15 s.
async fn poll(services: &Services, line: &str, ready: impl Fn(&Output) -> bool) -> Output {
    for _ in 0..150 {
        let output = ctl(services, line).await;
        if ready(&output) {
            return output;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for `growthctl {line}`");
}

async fn stage_of(services: &Services, user: &str) -> serde_json::Value {
    let line = format!("--format json lifecycle get {user}");
    json(&poll(services, &line, |o| o.status.success()).await)
}

/// What an evaluation writes: transitions, and profiles' evaluation times.
async fn written(pool: &PgPool) -> (i64, Option<String>) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM lifecycle.transitions), \
                (SELECT max(evaluated_at)::text FROM lifecycle.profiles)",
    )
    .fetch_one(pool)
    .await
    .expect("lifecycle tables")
}

#[sqlx::test(migrations = false)]
async fn ingested_users_get_stages_that_every_report_shows(pool: PgPool) {
    let services = spawn_services(pool.clone()).await;
    ingest(&services).await;
    assert_eq!(stage_of(&services, "u1").await["stage"], "ACTIVE");
    let u2 = stage_of(&services, "u2").await;
    assert_eq!(u2["stage"], "ONBOARDING");
    assert_eq!(u2["recent_transitions"][0]["from"], serde_json::Value::Null);

    let get = ctl(&services, "lifecycle get u1").await;
    assert!(get.status.success(), "{}", stderr(&get));
    let text = stdout(&get);
    assert!(text.contains("stage      ACTIVE since "), "{text}");
    assert!(text.contains("  recency 30.0/30: "), "{text}");
    assert!(text.contains("(none) → ACTIVE"), "{text}");

    // A dry run reports to the end and writes nothing.
    let before = written(&pool).await;
    let dry = ctl(&services, "--format json lifecycle evaluate --dry-run").await;
    assert!(dry.status.success(), "{}", stderr(&dry));
    let lines: Vec<serde_json::Value> = stdout(&dry)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let last = lines.last().expect("progress");
    assert_eq!(
        (&last["done"], &last["evaluated"]),
        (&true.into(), &2.into())
    );
    assert_eq!(written(&pool).await, before);

    let real = ctl(&services, "lifecycle evaluate").await;
    assert_eq!(real.status.code(), Some(0), "{}", stderr(&real));
    assert!(
        stdout(&real).contains("deliveries queued"),
        "{}",
        stdout(&real)
    );

    let stages = ctl(&services, "lifecycle stages").await;
    assert!(stages.status.success(), "{}", stderr(&stages));
    for stage in [
        "TRIAL",
        "ACTIVE",
        "AT_RISK",
        "CHURNED",
        "REACTIVATED",
        "ONBOARDING",
    ] {
        assert!(
            stdout(&stages).contains(stage),
            "{stage}: {}",
            stdout(&stages)
        );
    }
    let stages = ctl_json(&services, "lifecycle stages").await;
    assert_eq!(stages["total_users"], 2);
    assert_eq!(stages["stages"].as_array().map(Vec::len), Some(6));

    let today = Utc::now().format("%Y-%m-%d");
    let since = ctl_json(&services, &format!("lifecycle transitions --since {today}")).await;
    assert_eq!(since.as_array().map(Vec::len), Some(2), "{since}");
    let limited = ctl_json(&services, "lifecycle transitions --to active --limit 1").await;
    assert_eq!(limited[0]["user_id"], "u1");
    assert_eq!(limited.as_array().map(Vec::len), Some(1));
    let tomorrow = (Utc::now() + chrono::Duration::days(1)).format("%Y-%m-%d");
    let later = ctl_json(
        &services,
        &format!("lifecycle transitions --since {tomorrow}"),
    )
    .await;
    assert_eq!(later, serde_json::json!([]));
}

#[sqlx::test(migrations = false)]
async fn rules_are_added_listed_and_removed_and_a_bad_one_is_refused(pool: PgPool) {
    let services = spawn_services(pool).await;
    let rule = ctl_json(
        &services,
        "lifecycle rules add --to at_risk --from active --action add-tag --target 4242 \
         --field engagement_score=score --description win-back",
    )
    .await;
    let id = rule["rule_id"].as_str().expect("an id").to_owned();
    assert_eq!(
        (&rule["from"], &rule["to"]),
        (&"ACTIVE".into(), &"AT_RISK".into())
    );

    let list = stdout(&ctl(&services, "lifecycle rules list").await);
    assert!(
        list.contains(&id) && list.contains("engagement_score=SCORE"),
        "{list}"
    );
    let rm = ctl(&services, &format!("lifecycle rules rm {id}")).await;
    assert!(rm.status.success(), "{}", stderr(&rm));
    let list = ctl_json(&services, "lifecycle rules list").await;
    assert_eq!(list, serde_json::json!([]));

    let bad = "lifecycle rules add --to active --action add-tag --target tag-1";
    let refused = ctl(&services, bad).await;
    assert_eq!(refused.status.code(), Some(1));
    let error = stderr(&refused);
    assert!(
        error.contains("rule.target_id") && error.contains("(INVALID_ARGUMENT)"),
        "{error}"
    );

    let nobody = ctl(&services, "lifecycle get nobody").await;
    assert_eq!(nobody.status.code(), Some(1));
    let error = stderr(&nobody);
    assert!(
        error.contains("has not been evaluated yet") && error.contains("(NOT_FOUND)"),
        "{error}"
    );
}

#[sqlx::test(migrations = false)]
async fn a_rule_without_a_kit_key_leaves_a_skipped_delivery_that_can_be_retried(pool: PgPool) {
    let services = spawn_services(pool).await;
    ctl_json(
        &services,
        "lifecycle rules add --to active --action subscribe-sequence --target 111 --field stage=stage",
    )
    .await;
    ingest(&services).await;

    let line = "--format json lifecycle deliveries --status skipped";
    let skipped = poll(&services, line, |o| {
        serde_json::from_slice::<serde_json::Value>(&o.stdout)
            .is_ok_and(|v| v.as_array().is_some_and(|a| !a.is_empty()))
    })
    .await;
    let row = &json(&skipped)[0];
    assert_eq!(
        (&row["user_id"], &row["status"], &row["action"]),
        (
            &"u1".into(),
            &"SKIPPED_NO_CREDENTIALS".into(),
            &"SUBSCRIBE_SEQUENCE".into()
        )
    );
    let id = row["delivery_id"].as_str().expect("an id");
    let table = stdout(&ctl(&services, "lifecycle deliveries --status skipped").await);
    assert!(table.contains(id), "{table}");

    let retry = ctl(&services, &format!("lifecycle retry {id}")).await;
    assert!(retry.status.success(), "{}", stderr(&retry));
    let text = stdout(&retry);
    assert!(
        text.contains(&format!("delivery {id} is PENDING again")),
        "{text}"
    );
}

#[tokio::test]
async fn malformed_lifecycle_flags_are_refused_naming_the_flag() {
    for (line, flag) in [
        ("lifecycle transitions --since yesterday", "--since"),
        (
            "lifecycle rules add --to active --action add-tag --target 1 --field score",
            "--field",
        ),
        ("lifecycle stages --as-of 2025-13-01", "--as-of"),
        ("lifecycle evaluate --stage lost", "--stage"),
    ] {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_growthctl"));
        command.args(line.split_whitespace());
        let output = run(command, "").await;
        assert_eq!(output.status.code(), Some(2), "{line}");
        assert!(stderr(&output).contains(flag), "{}", stderr(&output));
    }
}
