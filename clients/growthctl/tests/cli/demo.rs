use crate::helpers::*;

/// The README's first command, as a smoke test: a throwaway PostgreSQL
/// cluster (DATABASE_URL unset), both services, demo data, clean stop.
#[tokio::test]
async fn the_demo_runs_on_a_throwaway_cluster_and_cleans_up() {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_growthctl"));
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
    let output = run(command, "").await;
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
