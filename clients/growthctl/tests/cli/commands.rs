use sqlx::PgPool;

use crate::helpers::*;

const USERS: &str = r#"{"user_id":"u1","email":"u1@example.com","signup_at":"2025-01-01T10:00:00Z","plan":"trial","attributes":{"country":"DE"}}
{"user_id":"u2","email":"u2@example.com","signup_at":"2025-01-02T10:00:00Z","plan":"pro"}
"#;

fn events_jsonl(n: usize) -> String {
    (0..n)
        .map(|i| format!(r#"{{"event_id":"e{i}","user_id":"u{}","name":"login","occurred_at":"2025-01-03T10:00:00Z"}}"#, i % 2 + 1))
        .collect::<Vec<_>>()
        .join("\n")
}

#[sqlx::test(migrations = false)]
async fn users_and_events_from_json_lines_are_ingested_once(pool: PgPool) {
    let services = spawn_services(pool).await;
    let users = growthctl(&services, &["--format", "json", "users", "upsert"], USERS).await;
    assert!(users.status.success(), "{}", stderr(&users));
    assert_eq!(json(&users)["inserted"], 2);

    let args = ["--format", "json", "events", "track", "--batch-size", "7"];
    let first = growthctl(&services, &args, &events_jsonl(20)).await;
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(
        (
            json(&first)["rows"].clone(),
            json(&first)["inserted"].clone()
        ),
        (20.into(), 20.into())
    );
    let again = growthctl(&services, &args, &events_jsonl(20)).await;
    assert_eq!(
        (
            json(&again)["inserted"].clone(),
            json(&again)["duplicates"].clone()
        ),
        (0.into(), 20.into())
    );

    let watch = growthctl(
        &services,
        &[
            "--format", "json", "events", "watch", "--after", "0", "--limit", "3",
        ],
        "",
    )
    .await;
    assert!(watch.status.success(), "{}", stderr(&watch));
    let lines: Vec<serde_json::Value> = stdout(&watch)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let ids: Vec<&str> = lines
        .iter()
        .map(|l| l["event_id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(ids, ["e0", "e1", "e2"]);
}

#[sqlx::test(migrations = false)]
async fn a_refused_batch_names_the_lines_the_row_and_the_field(pool: PgPool) {
    let services = spawn_services(pool).await;
    growthctl(&services, &["users", "upsert"], USERS).await;
    let mut input = events_jsonl(4);
    input.push_str("\n{\"event_id\":\"bad\",\"user_id\":\"u1\",\"name\":\"\",\"occurred_at\":\"2025-01-03T10:00:00Z\"}\n");
    let output = growthctl(&services, &["events", "track", "--batch-size", "3"], &input).await;
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output).trim(),
        "error: the batch of lines 4-5 was refused (3 rows before it were stored): \
         events[1].name: must not be empty (INVALID_ARGUMENT)"
    );

    let garbage = growthctl(&services, &["events", "track"], "{\"event_id\": 1}\n").await;
    assert_eq!(garbage.status.code(), Some(1));
    assert!(
        stderr(&garbage).starts_with("error: line 1: not a valid row"),
        "{}",
        stderr(&garbage)
    );
}

#[sqlx::test(migrations = false)]
async fn health_fails_when_a_service_is_down(pool: PgPool) {
    let services = spawn_services(pool).await;
    let up = growthctl(&services, &["health"], "").await;
    assert!(up.status.success(), "{}", stderr(&up));
    assert_eq!(stdout(&up).matches("SERVING").count(), 2);

    // Still pointed at the lifecycle service's address, now closed.
    let command_all = command(&services, &["--format", "json", "health"]);
    let metrics_only = command(
        &services,
        &["--format", "json", "health", "--service", "metrics"],
    );
    let lifecycle_only = command(&services, &["health", "--service", "lifecycle"]);
    services.lifecycle.stop().await.expect("lifecycle stops");
    let down = run(command_all, "").await;
    assert_eq!(down.status.code(), Some(1));
    let report = json(&down);
    assert_eq!(report[0]["status"], "SERVING");
    assert_eq!(report[1]["status"], "UNREACHABLE");

    // One service can be asked for alone.
    let metrics_only = run(metrics_only, "").await;
    assert!(metrics_only.status.success(), "{}", stderr(&metrics_only));
    let report = json(&metrics_only);
    assert_eq!(report.as_array().map(Vec::len), Some(1));
    assert_eq!(report[0]["service"], "metrics");
    let lifecycle_only = run(lifecycle_only, "").await;
    assert_eq!(lifecycle_only.status.code(), Some(1));
}

#[sqlx::test(migrations = false)]
async fn a_missing_token_is_explained(pool: PgPool) {
    let services = spawn_services(pool).await;
    let mut command = command(&services, &["events", "watch", "--stop-at-end"]);
    command.env_remove("GROWTH_TOKEN");
    let output = run(command, "").await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("(UNAUTHENTICATED)\n  hint: pass --token or set GROWTH_TOKEN"),
        "{}",
        stderr(&output)
    );
}

#[sqlx::test(migrations = false)]
async fn seeding_twice_with_the_same_seed_inserts_nothing_the_second_time(pool: PgPool) {
    let services = spawn_services(pool.clone()).await;
    let args = [
        "--format",
        "json",
        "seed",
        "--users",
        "40",
        "--months",
        "2",
        "--seed",
        "7",
        "--until",
        "2025-06-01",
    ];
    let first = growthctl(&services, &args, "").await;
    assert!(first.status.success(), "{}", stderr(&first));
    let report = json(&first);
    assert_eq!(report["users"]["inserted"], 40);
    let events = report["events"]["inserted"].as_u64().expect("count");
    assert!(events > 40 * 10, "a realistic amount of activity: {events}");
    assert!(report["payments"]["sent"].as_u64().expect("count") > 0);

    let second = json(&growthctl(&services, &args, "").await);
    assert_eq!(second["users"]["inserted"], 0);
    assert_eq!(second["events"]["inserted"], 0);
    assert_eq!(second["events"]["sent"].as_u64(), Some(events));
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM metrics.events")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(stored as u64, events);
}

#[tokio::test]
async fn bad_flags_are_refused_before_anything_runs() {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_growthctl"));
    command.args(["seed", "--conversion", "1.5"]);
    let output = run(command, "").await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("1.5 is not between 0 and 1"),
        "{}",
        stderr(&output)
    );
}

/// `growthctl … | head` closes the pipe before growthctl writes: it exits
/// with the shell's SIGPIPE status and no panic message.
#[sqlx::test(migrations = false)]
async fn a_closed_output_pipe_ends_quietly(pool: PgPool) {
    let services = spawn_services(pool).await;
    let mut command = command(&services, &["cohorts", "show", "--period", "week"]);
    command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let output = tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().expect("growthctl runs");
        // The reader goes away before anything is printed.
        drop(child.stdout.take());
        child.wait_with_output().expect("growthctl finishes")
    })
    .await
    .expect("joined");
    assert_eq!(output.status.code(), Some(141), "{}", stderr(&output));
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
}
