//! Empty or blank secrets in the environment count as unset: the real
//! binary, started with every optional secret blank, says at start which
//! integrations are off and refuses a webhook event signed with the empty
//! key (a Kubernetes Secret with a missing key renders an empty variable).

use std::process::Stdio;
use std::time::Duration;

use metrics_svc::webhook::signature::sign;
use serde_json::Value;
use sqlx::PgPool;

fn database_url(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL is set for the tests");
    let database = pool
        .connect_options()
        .get_database()
        .unwrap_or("postgres")
        .to_owned();
    let (server, _) = base.rsplit_once('/').expect("a URL with a database");
    format!("{server}/{database}")
}

#[sqlx::test(migrations = false)]
async fn blank_secrets_in_the_environment_are_unset_and_a_forgery_gets_503(pool: PgPool) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_metrics-svc"))
        .env_clear()
        .env("DATABASE_URL", database_url(&pool))
        .env("GRPC_LISTEN_ADDR", "127.0.0.1:0")
        .env("HTTP_LISTEN_ADDR", "127.0.0.1:0")
        .env("GROWTH_INSECURE_DISABLE_AUTH", "true")
        .env("LOG_FORMAT", "json")
        .env("STRIPE_SECRET_KEY", "")
        .env("STRIPE_WEBHOOK_SECRET", "")
        .env("SLACK_WEBHOOK_URL", "  ")
        .env("GITHUB_TOKEN", "\n")
        .env("DASHBOARD_TOKENS", " , ")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("metrics-svc starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stderr));
    let (mut off, mut http_addr) = (None, None);
    tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.expect("stderr reads") {
            let line: Value = serde_json::from_str(&line).unwrap_or(Value::String(line));
            match line["message"].as_str() {
                Some("integrations off") => off = line["off"].as_str().map(str::to_owned),
                Some("serving") => {
                    http_addr = line["http_addr"].as_str().map(str::to_owned);
                    return;
                }
                _ => {}
            }
        }
    })
    .await
    .expect("the service logs that it serves");
    let off = off.expect("one line names the integrations that are off");
    for variable in [
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "SLACK_WEBHOOK_URL",
        "GITHUB_TOKEN",
        "DASHBOARD_TOKENS",
    ] {
        assert!(off.contains(variable), "{variable} not in {off:?}");
    }

    metrics_svc::stripe::client::install_crypto_provider();
    let body = r#"{"id":"evt_forged","type":"payment_intent.succeeded","created":1762000000,"data":{"object":{"id":"pi_forged","amount":100,"currency":"usd","status":"succeeded","created":1762000000}}}"#;
    let t = chrono::Utc::now().timestamp();
    let response = reqwest::Client::new()
        .post(format!(
            "http://{}/stripe/webhook",
            http_addr.unwrap_or_default()
        ))
        .header(
            "Stripe-Signature",
            format!("t={t},v1={}", sign("", t, body.as_bytes())),
        )
        .body(body)
        .send()
        .await
        .expect("the webhook answers");
    assert_eq!(response.status().as_u16(), 503);
    let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM metrics.stripe_events")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(recorded, 0, "nothing of a forged event is written");
    child.kill().await.expect("the service stops");
}
