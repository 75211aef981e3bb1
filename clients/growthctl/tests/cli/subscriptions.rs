//! `growthctl subscriptions import`: subscription histories from JSON lines,
//! read back through the revenue summary; re-sending changes nothing; a bad
//! line is refused naming it, before anything of its batch is sent.

// Test code: a panic with the value is the failure report.
#![allow(clippy::unwrap_used)]

use sqlx::PgPool;

use crate::helpers::*;

const USERS: &str = r#"{"user_id":"a","email":"a@example.com","signup_at":"2025-01-01T09:00:00Z","plan":"starter"}
"#;

const STATES: &str = r#"{"stripe_subscription_id":"sub_a","user_id":"a","plan":"starter","amount_minor":1000,"currency":"usd","interval":"month","status":"active","started_at":"2025-01-05T00:00:00Z","effective_at":"2025-01-05T00:00:00Z"}
{"stripe_subscription_id":"sub_a","user_id":"a","plan":"pro","amount_minor":3000,"currency":"usd","interval":"month","status":"active","started_at":"2025-01-05T00:00:00Z","effective_at":"2025-02-10T00:00:00Z"}
{"stripe_subscription_id":"sub_a","user_id":"a","plan":"pro","amount_minor":3000,"currency":"usd","interval":"month","status":"canceled","started_at":"2025-01-05T00:00:00Z","ended_at":"2025-03-20T00:00:00Z","effective_at":"2025-03-20T00:00:00Z"}
"#;

#[sqlx::test(migrations = false)]
async fn subscription_histories_are_imported_once_and_read_back(pool: PgPool) {
    let services = spawn_services(pool).await;
    assert!(
        growthctl(&services, &["users", "upsert"], USERS)
            .await
            .status
            .success()
    );
    let imported = json(
        &growthctl(
            &services,
            &["--format", "json", "subscriptions", "import"],
            STATES,
        )
        .await,
    );
    assert_eq!(
        (imported["rows"].as_u64(), imported["inserted"].as_u64()),
        (Some(3), Some(3))
    );
    let again = json(
        &growthctl(
            &services,
            &["--format", "json", "subscriptions", "import"],
            STATES,
        )
        .await,
    );
    assert_eq!(
        (
            again["inserted"].as_u64(),
            again["unchanged or stale"].as_u64()
        ),
        (Some(0), Some(3))
    );
    let summary = json(
        &ctl(
            &services,
            "--format json revenue summary --from 2025-01 --to 2025-03",
        )
        .await,
    );
    let usd = |m: usize| summary["months"][m]["currencies"][0]["mrr_minor"].as_i64();
    assert_eq!((usd(0), usd(1), usd(2)), (Some(1000), Some(3000), Some(0)));
}

#[sqlx::test(migrations = false)]
async fn a_bad_line_is_refused_naming_it(pool: PgPool) {
    let services = spawn_services(pool).await;
    assert!(
        growthctl(&services, &["users", "upsert"], USERS)
            .await
            .status
            .success()
    );
    let bad = STATES.replacen("\"status\":\"canceled\"", "\"status\":\"cancelled\"", 1);
    let output = growthctl(&services, &["subscriptions", "import"], &bad).await;
    assert_eq!(output.status.code(), Some(1));
    let error = stderr(&output);
    assert!(error.contains("line 3"), "{error}");
    assert!(
        error.contains("status \"cancelled\" is not one of trialing, active, past_due, canceled"),
        "{error}"
    );
}
