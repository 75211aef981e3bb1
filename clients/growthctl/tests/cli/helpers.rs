use std::io::Write;
use std::process::{Command, Output, Stdio};

use growth_runtime::config::AuthPolicy;
use growth_runtime::{RunningServer, Serve, Shutdown};
use sqlx::PgPool;

pub const TOKEN: &str = "cli-token";

pub struct Services {
    pub metrics: RunningServer,
    pub lifecycle: RunningServer,
}

pub async fn spawn_services(pool: PgPool) -> Services {
    spawn_services_with(pool, metrics_svc::config::MetricsArgs::default()).await
}

/// Both services, the metrics one with its own settings (e.g. a Stripe fake).
pub async fn spawn_services_with(pool: PgPool, args: metrics_svc::config::MetricsArgs) -> Services {
    metrics_svc::migrator()
        .run(&pool)
        .await
        .expect("metrics migrations");
    lifecycle_svc::migrator()
        .run(&pool)
        .await
        .expect("lifecycle migrations");
    let auth = AuthPolicy::Tokens(vec![secrecy::SecretString::from(TOKEN.to_owned())]);
    // Separate signals, so a test can stop one service and keep the other.
    let metrics = metrics_svc::start_with(
        pool.clone(),
        Serve::loopback(auth.clone(), Shutdown::new()),
        args,
    )
    .await
    .expect("metrics starts");
    let lifecycle_args = lifecycle_svc::LifecycleArgs::for_metrics(
        &metrics.grpc_addr.to_string(),
        Some(secrecy::SecretString::from(TOKEN.to_owned())),
    );
    let lifecycle =
        lifecycle_svc::start(pool, Serve::loopback(auth, Shutdown::new()), lifecycle_args)
            .await
            .expect("lifecycle starts");
    Services { metrics, lifecycle }
}

/// The growthctl command with `args`, pointed at `services`.
pub fn command(services: &Services, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_growthctl"));
    command
        .args(args)
        .env(
            "GROWTH_METRICS_ADDR",
            services.metrics.grpc_addr.to_string(),
        )
        .env(
            "GROWTH_LIFECYCLE_ADDR",
            services.lifecycle.grpc_addr.to_string(),
        )
        .env("GROWTH_TOKEN", TOKEN);
    command
}

/// Runs growthctl pointed at `services`, feeding `stdin`, without blocking
/// the runtime the services run on.
pub async fn growthctl(services: &Services, args: &[&str], stdin: &str) -> Output {
    run(command(services, args), stdin).await
}

/// Runs growthctl with a command line (split at whitespace) and no input.
pub async fn ctl(services: &Services, line: &str) -> Output {
    let args: Vec<&str> = line.split_whitespace().collect();
    growthctl(services, &args, "").await
}

/// Runs `line` and checks the server refused it: exit 1, nothing on stdout,
/// an `error: ` line on stderr containing `expected`.
/// Runs `line`, which must exit 0, and returns what it printed.
pub async fn ok(services: &Services, line: &str) -> String {
    let output = ctl(services, line).await;
    assert_eq!(output.status.code(), Some(0), "{line}: {}", stderr(&output));
    stdout(&output)
}

/// A table line's cells, trimmed (`│ a ┆ b │` → `["a", "b"]`).
pub fn cells(line: &str) -> Vec<&str> {
    let inner = line.trim().trim_matches('│');
    inner.split(['│', '┆']).map(str::trim).collect()
}

pub async fn assert_refused(services: &Services, line: &str, expected: &str) {
    let output = ctl(services, line).await;
    assert_eq!(output.status.code(), Some(1), "{line}");
    let error = stderr(&output);
    assert!(
        error.starts_with("error: ") && error.contains(expected),
        "{line}: {error}"
    );
    assert!(stdout(&output).is_empty(), "{line}: {}", stdout(&output));
}

pub async fn run(mut command: Command, stdin: &str) -> Output {
    let stdin = stdin.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("growthctl runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("write stdin");
        child.wait_with_output().expect("growthctl finishes")
    })
    .await
    .expect("join")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is JSON ({e}): {}", stdout(output)))
}
