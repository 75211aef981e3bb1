//! The demo as a user runs it: the README's first command.

use std::process::{Command, Output, Stdio};

/// Runs `command` with no stdin and waits for it.
async fn run(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || {
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("growth-dev runs");
        child.wait_with_output().expect("growth-dev finishes")
    })
    .await
    .expect("join")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The README's first command, as a smoke test: a throwaway PostgreSQL
/// cluster (DATABASE_URL unset), both services, demo data, clean stop.
#[tokio::test]
async fn the_demo_runs_on_a_throwaway_cluster_and_cleans_up() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_growth-dev"));
    command
        .args([
            "demo",
            "--users",
            "30",
            "--months",
            "1",
            "--metrics-port",
            "0",
            "--lifecycle-port",
            "0",
            "--exit-after-seed",
        ])
        .env_remove("DATABASE_URL");
    let output = run(command).await;
    let err = stderr(&output);
    assert!(output.status.success(), "{err}");
    assert!(
        err.contains("creating a throwaway PostgreSQL cluster"),
        "{err}"
    );
    assert!(
        err.contains("throwaway PostgreSQL stopped and removed"),
        "{err}"
    );
    let out = stdout(&output);
    assert!(out.contains("Both services are running"), "{out}");
    assert!(out.contains("grpcurl -plaintext"), "{out}");
}

/// With DATABASE_URL set, the demo uses that database and creates no cluster.
#[sqlx::test(migrations = false)]
async fn the_demo_uses_the_database_in_database_url(pool: sqlx::PgPool) {
    let options = pool.connect_options();
    let database = options
        .get_database()
        .expect("the test database has a name");
    let url = format!(
        "postgres://{}@{}:{}/{database}",
        options.get_username(),
        options.get_host(),
        options.get_port()
    );
    let mut command = Command::new(env!("CARGO_BIN_EXE_growth-dev"));
    command
        .args([
            "demo",
            "--users",
            "20",
            "--months",
            "1",
            "--metrics-port",
            "0",
            "--lifecycle-port",
            "0",
            "--exit-after-seed",
        ])
        .env("DATABASE_URL", url);
    let output = run(command).await;
    let err = stderr(&output);
    assert!(output.status.success(), "{err}");
    assert!(err.contains("using the database in DATABASE_URL"), "{err}");
    assert!(!err.contains("throwaway"), "{err}");
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM metrics.users")
        .fetch_one(&pool)
        .await
        .expect("the demo seeded this database");
    assert_eq!(users, 20);
    assert!(err.contains("cohorts refreshed"), "{err}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM metrics.retention_rows")
        .fetch_one(&pool)
        .await
        .expect("retention rows");
    assert!(stored > 0, "the demo refreshed the matrices");
}
