//! RunRevenueAudit, GetAuditRun, ListAuditRuns against a fake Stripe and a
//! real database.

use std::collections::HashMap;
use std::time::Duration;

use growth_proto::common::v1::Money;
use growth_proto::metrics::v1::{self as pb, AuditRunStatus, AuditVerdict, FindingKind};
use metrics_svc::config::MetricsArgs;
use serde_json::json;
use sqlx::PgPool;
use tonic::Code;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::fake_stripe::{KEY, mount_lists};
use crate::helpers::*;

const NOV: i64 = 1_761_955_200;

pub fn args(server: &MockServer) -> MetricsArgs {
    MetricsArgs {
        stripe_secret_key: growth_runtime::config::OptionalSecret::from(KEY),
        stripe_api_base: server.uri(),
        stripe_rate_limit: Some(1000),
        stripe_time_slices: 2,
        ..MetricsArgs::default()
    }
}

/// `n` succeeded intents of 4900 usd in November 2025.
fn intents(n: usize) -> Vec<serde_json::Value> {
    (0..n)
        .map(|i| {
            json!({"id": format!("pi_{i:04}"), "amount": 4900, "currency": "usd", "status": "succeeded",
                   "created": NOV + 3600 * (i as i64 + 1), "latest_charge": format!("ch_{i:04}"), "customer": "cus_1"})
        })
        .collect()
}

fn charges(n: usize) -> Vec<serde_json::Value> {
    (0..n)
        .map(|i| {
            json!({"id": format!("ch_{i:04}"), "amount": 4900, "amount_refunded": 0, "currency": "usd", "status": "succeeded",
                   "created": NOV + 3600 * (i as i64 + 1), "payment_intent": format!("pi_{i:04}")})
        })
        .collect()
}

async fn fake_stripe(n: usize) -> MockServer {
    let server = MockServer::start().await;
    mount_lists(
        &server,
        HashMap::from([("payment_intents", intents(n)), ("charges", charges(n))]),
    )
    .await;
    server
}

/// The database rows for intents `0..n`.
async fn import(app: &mut TestApp, ids: impl Iterator<Item = usize>) {
    let payments: Vec<pb::Payment> = ids
        .map(|i| pb::Payment {
            stripe_id: format!("pi_{i:04}"),
            stripe_charge_id: format!("ch_{i:04}"),
            amount: Some(Money {
                amount_minor: 4900,
                currency: "usd".into(),
            }),
            status: pb::PaymentStatus::Succeeded as i32,
            created_at: Some(prost_types::Timestamp {
                seconds: NOV + 3600 * (i as i64 + 1),
                nanos: 0,
            }),
            ..Default::default()
        })
        .collect();
    if !payments.is_empty() {
        app.client
            .import_payments(pb::ImportPaymentsRequest { payments })
            .await
            .expect("import");
    }
}

/// `RunRevenueAudit` of `month`; the run it answers with (completed or not).
pub async fn run_audit(
    app: &mut TestApp,
    month: &str,
    repair: bool,
    dry_run: bool,
) -> pb::AuditRun {
    app.client
        .run_revenue_audit(pb::RunRevenueAuditRequest {
            month: month.into(),
            repair,
            dry_run,
        })
        .await
        .expect("audit runs")
        .into_inner()
        .run
        .expect("a run")
}

/// The run `run_id` as `GetAuditRun` reads it back.
pub async fn stored_run(app: &mut TestApp, run_id: &str) -> pb::AuditRun {
    app.client
        .get_audit_run(pb::GetAuditRunRequest {
            run_id: run_id.to_owned(),
        })
        .await
        .expect("stored")
        .into_inner()
        .run
        .expect("run")
}

async fn audit(app: &mut TestApp, repair: bool, dry_run: bool) -> pb::AuditRun {
    run_audit(app, "2025-11", repair, dry_run).await
}

#[sqlx::test(migrations = false)]
async fn an_exact_match_passes_and_is_stored(pool: PgPool) {
    let stripe = fake_stripe(250).await;
    let mut app = spawn_app_with(pool, args(&stripe)).await;
    import(&mut app, 0..250).await;
    let run = audit(&mut app, false, false).await;
    assert_eq!(
        run.status,
        AuditRunStatus::Completed as i32,
        "{}",
        run.error
    );
    assert_eq!(run.verdict, AuditVerdict::Pass as i32, "{:?}", run.findings);
    assert_eq!(run.totals[0].stripe_net_minor, 250 * 4900);
    assert_eq!(run.totals[0].db_net_minor, 250 * 4900);
    for section in [
        "## Executive summary",
        "## Stripe data",
        "## Database data",
        "## Validation issues",
        "## Recommendations",
    ] {
        assert!(run.report_markdown.contains(section), "{section} missing");
    }

    let stored = stored_run(&mut app, &run.run_id).await;
    assert_eq!(stored.verdict, AuditVerdict::Pass as i32);
    assert_eq!(stored.report_markdown, run.report_markdown);
    let listed = app
        .client
        .list_audit_runs(pb::ListAuditRunsRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.runs.len(), 1);
    assert_eq!(listed.runs[0].run_id, run.run_id);
    assert!(
        listed.runs[0].report_markdown.is_empty(),
        "lists leave the report out"
    );
}

#[sqlx::test(migrations = false)]
async fn missing_payments_fail_the_audit_and_a_repair_backfills_them_once(pool: PgPool) {
    let stripe = fake_stripe(20).await;
    let mut app = spawn_app_with(pool, args(&stripe)).await;
    import(&mut app, (0..20).filter(|i| *i != 3 && *i != 11)).await;

    let dry = audit(&mut app, true, true).await;
    assert_eq!(dry.verdict, AuditVerdict::Fail as i32);
    assert_eq!(
        dry.repair_summary.as_ref().map(|r| r.payments_backfilled),
        Some(2)
    );
    assert!(dry.run_id.is_empty(), "a dry run is not stored");
    assert_eq!(app.count("payments").await, 18, "dry run wrote nothing");
    assert_eq!(app.count("audit_runs").await, 0, "dry run wrote nothing");

    let first = audit(&mut app, false, false).await;
    assert_eq!(first.verdict, AuditVerdict::Fail as i32);
    let missing: Vec<_> = first
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::MissingInDb as i32)
        .map(|f| f.stripe_id.as_str())
        .collect();
    assert_eq!(missing, ["pi_0003", "pi_0011"]);
    assert!(
        first.recommendations[0].starts_with("Backfill 2 payment(s)"),
        "{:?}",
        first.recommendations
    );

    let repaired = audit(&mut app, true, false).await;
    let summary = repaired.repair_summary.expect("repair summary");
    assert_eq!(summary.backfilled_stripe_ids, ["pi_0003", "pi_0011"]);
    assert_eq!(app.count("payments").await, 20);

    let again = audit(&mut app, true, false).await;
    assert_eq!(
        again.verdict,
        AuditVerdict::Pass as i32,
        "{:?}",
        again.findings
    );
    assert_eq!(
        again.repair_summary.expect("summary").payments_backfilled,
        0,
        "a second repair adds nothing"
    );
    assert_eq!(app.count("payments").await, 20);
}

#[sqlx::test(migrations = false)]
async fn a_second_audit_of_the_same_month_is_refused_while_one_runs(pool: PgPool) {
    let stripe = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"object": "list", "data": [], "has_more": false}))
                .set_delay(Duration::from_millis(800)),
        )
        .mount(&stripe)
        .await;
    let app = spawn_app_with(pool, args(&stripe)).await;
    let request = || pb::RunRevenueAuditRequest {
        month: "2025-11".into(),
        ..Default::default()
    };
    let (mut a, mut b) = (app.client.clone(), app.client.clone());
    let first = tokio::spawn(async move { a.run_revenue_audit(request()).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let second = b.run_revenue_audit(request()).await.expect_err("refused");
    assert_eq!(second.code(), Code::Aborted);
    assert_eq!(
        second.message(),
        "an audit of 2025-11 is already running; run it again when that one has finished"
    );
    let first = first
        .await
        .expect("join")
        .expect("first audit completes")
        .into_inner()
        .run
        .expect("run");
    assert_eq!(first.status, AuditRunStatus::Completed as i32);
    assert_eq!(app.count("audit_runs").await, 1);
}

#[sqlx::test(migrations = false)]
async fn a_stripe_outage_ends_in_a_failed_run_with_nothing_half_written(pool: PgPool) {
    let stripe = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({"error": {"message": "An unknown error occurred"}})),
        )
        .mount(&stripe)
        .await;
    let mut app = spawn_app_with(
        pool,
        MetricsArgs {
            stripe_time_slices: 1,
            ..args(&stripe)
        },
    )
    .await;
    let run = audit(&mut app, true, false).await;
    assert_eq!(run.status, AuditRunStatus::Failed as i32);
    assert!(
        run.error
            .starts_with("Stripe still failing after 6 attempts"),
        "{}",
        run.error
    );
    let (status, error): (String, String) =
        sqlx::query_as("SELECT status, error FROM metrics.audit_runs")
            .fetch_one(&app.pool)
            .await
            .expect("the failed run is recorded");
    assert_eq!(status, "failed");
    assert_eq!(error, run.error);
    assert_eq!(app.count("audit_findings").await, 0);
    assert_eq!(app.count("payments").await, 0);
}

#[sqlx::test(migrations = false)]
async fn bad_months_unknown_runs_and_a_missing_key_are_explained(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    for (month, message) in [
        (
            "2025-13",
            "month: \"2025-13\" is not a month: expected YYYY-MM, e.g. 2025-11",
        ),
        (
            "nov",
            "month: \"nov\" is not a month: expected YYYY-MM, e.g. 2025-11",
        ),
        ("", "month: is required (YYYY-MM)"),
    ] {
        let status = app
            .client
            .run_revenue_audit(pb::RunRevenueAuditRequest {
                month: month.into(),
                ..Default::default()
            })
            .await
            .expect_err("bad month");
        assert_eq!(
            (status.code(), status.message()),
            (Code::InvalidArgument, message)
        );
    }
    let no_key = app
        .client
        .run_revenue_audit(pb::RunRevenueAuditRequest {
            month: "2025-11".into(),
            ..Default::default()
        })
        .await
        .expect_err("no key");
    assert_eq!(no_key.code(), Code::FailedPrecondition);
    assert!(no_key.message().contains("STRIPE_SECRET_KEY"));

    let unknown = app
        .client
        .get_audit_run(pb::GetAuditRunRequest {
            run_id: "5d3c1a0e-8f4b-4c1e-9a7d-2b6e0f9c1d23".into(),
        })
        .await
        .expect_err("unknown");
    assert_eq!(unknown.code(), Code::NotFound);
    let malformed = app
        .client
        .get_audit_run(pb::GetAuditRunRequest {
            run_id: "42".into(),
        })
        .await
        .expect_err("malformed");
    assert_eq!(
        malformed.message(),
        "run_id: \"42\" is not a run id (a UUID)"
    );
}
