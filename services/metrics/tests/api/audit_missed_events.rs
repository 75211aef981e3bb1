//! The audit's missed-webhook check: Stripe events of the handled types that
//! the webhook never recorded are findings; a repair replays them through
//! the webhook's handler, once; only the last 30 days can be checked.
//! Months here are recent ones (Stripe keeps events 30 days), computed from
//! the clock.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, Utc};
use growth_proto::metrics::v1::{self as pb, AuditRunStatus, FindingKind};
use metrics_svc::config::MetricsArgs;
use serde_json::{Value, json};
use sqlx::PgPool;
use wiremock::MockServer;

use crate::audit::{args, run_audit, stored_run};
use crate::fake_stripe::mount_lists;
use crate::helpers::*;
use crate::webhook::{SECRET, post};

fn month_of(t: DateTime<Utc>) -> String {
    format!("{:04}-{:02}", t.year(), t.month())
}

fn intent(id: &str, created: i64) -> Value {
    json!({"id": id, "object": "payment_intent", "amount": 4900, "amount_received": 4900, "currency": "usd",
           "status": "succeeded", "latest_charge": id.replace("pi_", "ch_"), "customer": "cus_1", "created": created})
}

fn event(id: &str, kind: &str, created: i64, object: Value) -> Value {
    json!({"id": id, "object": "event", "type": kind, "created": created, "api_version": "2024-06-20",
           "data": {"object": object}})
}

/// A fake Stripe listing `intents` and `events`, and an app whose webhook
/// takes events signed with [`SECRET`].
async fn app_with(pool: PgPool, intents: Vec<Value>, events: Vec<Value>) -> (TestApp, MockServer) {
    let stripe = MockServer::start().await;
    mount_lists(
        &stripe,
        HashMap::from([("payment_intents", intents), ("events", events)]),
    )
    .await;
    let app = spawn_app_with(
        pool,
        MetricsArgs {
            stripe_webhook_secret: SECRET.into(),
            ..args(&stripe)
        },
    )
    .await;
    (app, stripe)
}

async fn audit(app: &mut TestApp, month: &str, repair: bool, dry_run: bool) -> pb::AuditRun {
    let run = run_audit(app, month, repair, dry_run).await;
    assert_eq!(
        run.status,
        AuditRunStatus::Completed as i32,
        "{}",
        run.error
    );
    run
}

fn missed(run: &pb::AuditRun) -> Vec<&str> {
    run.findings
        .iter()
        .filter(|f| f.kind == FindingKind::MissedEvent as i32)
        .map(|f| f.stripe_id.as_str())
        .collect()
}

/// Two paid intents of a few minutes ago: the webhook received the event of
/// `pi_seen`, never the one of `pi_missed`; two unhandled events too.
fn recent() -> (String, Vec<Value>, Vec<Value>, Value) {
    let created = (Utc::now() - Duration::minutes(3)).timestamp();
    let seen = event(
        "evt_seen",
        "payment_intent.succeeded",
        created,
        intent("pi_seen", created),
    );
    let events = vec![
        seen.clone(),
        event(
            "evt_missed",
            "payment_intent.succeeded",
            created + 1,
            intent("pi_missed", created),
        ),
        event(
            "evt_customer",
            "customer.created",
            created + 2,
            json!({"id": "cus_1"}),
        ),
        event(
            "evt_refund_object",
            "charge.refund.updated",
            created + 3,
            json!({"id": "re_1"}),
        ),
    ];
    let intents = vec![intent("pi_seen", created), intent("pi_missed", created)];
    let month = month_of(DateTime::from_timestamp(created, 0).expect("a time"));
    (month, intents, events, seen)
}

#[sqlx::test(migrations = false)]
async fn a_missed_event_is_a_finding_and_a_repair_replays_it_once(pool: PgPool) {
    let (month, intents, events, seen) = recent();
    let (mut app, _stripe) = app_with(pool, intents, events).await;
    let (status, _) = post(&app, &seen, SECRET, None).await;
    assert_eq!(status, 200);

    let first = audit(&mut app, &month, false, false).await;
    assert_eq!(missed(&first), ["evt_missed"], "{:?}", first.findings);
    let finding = first
        .findings
        .iter()
        .find(|f| f.stripe_id == "evt_missed")
        .expect("the finding");
    assert_eq!(finding.object_type, "event");
    assert_eq!(finding.severity, pb::Severity::Warning as i32);
    assert!(
        finding
            .reason
            .starts_with("payment_intent.succeeded event created ")
            && finding.reason.contains("about pi_missed"),
        "{}",
        finding.reason
    );
    assert_eq!(app.count("payments").await, 1, "no repair, no replay");
    assert_eq!(app.count("stripe_events").await, 1);
    assert!(
        first.report_markdown.contains("## Missed webhook events")
            && first
                .report_markdown
                .contains("| evt_missed | payment_intent.succeeded |"),
        "{}",
        first.report_markdown
    );

    let repaired = audit(&mut app, &month, true, false).await;
    let summary = repaired.repair_summary.clone().expect("a repair summary");
    let replayed: Vec<(&str, &str, &str)> = summary
        .replayed_events
        .iter()
        .map(|e| (e.event_id.as_str(), e.r#type.as_str(), e.outcome.as_str()))
        .collect();
    assert_eq!(
        replayed,
        [("evt_missed", "payment_intent.succeeded", "applied")]
    );
    assert!(
        summary.backfilled_stripe_ids.is_empty(),
        "replayed before the reconciliation, so nothing is missing: {:?}",
        summary.backfilled_stripe_ids
    );
    let (status, amount): (String, i64) = sqlx::query_as(
        "SELECT status, amount_minor FROM metrics.payments WHERE stripe_id = 'pi_missed'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("the replay recorded the payment");
    assert_eq!((status.as_str(), amount), ("succeeded", 4900));
    assert!(
        repaired.report_markdown.contains("| applied |"),
        "{}",
        repaired.report_markdown
    );
    let stored = stored_run(&mut app, &repaired.run_id).await;
    assert_eq!(
        stored
            .repair_summary
            .expect("stored summary")
            .replayed_events,
        summary.replayed_events
    );

    let again = audit(&mut app, &month, true, false).await;
    assert!(missed(&again).is_empty(), "{:?}", again.findings);
    assert!(
        again
            .repair_summary
            .expect("a summary")
            .replayed_events
            .is_empty(),
        "a second repair replays nothing"
    );
    assert_eq!(app.count("payments").await, 2);
    assert_eq!(app.count("stripe_events").await, 2);
}

#[sqlx::test(migrations = false)]
async fn a_dry_run_lists_what_a_repair_would_replay_and_writes_nothing(pool: PgPool) {
    let (month, intents, events, _) = recent();
    let (mut app, _stripe) = app_with(pool, intents, events).await;
    let dry = audit(&mut app, &month, true, true).await;
    assert_eq!(missed(&dry), ["evt_seen", "evt_missed"]);
    let outcomes: Vec<(&str, &str)> = dry
        .repair_summary
        .as_ref()
        .expect("a summary")
        .replayed_events
        .iter()
        .map(|e| (e.event_id.as_str(), e.outcome.as_str()))
        .collect();
    assert_eq!(
        outcomes,
        [("evt_seen", "dry_run"), ("evt_missed", "dry_run")]
    );
    for table in ["payments", "stripe_events", "audit_runs", "audit_findings"] {
        assert_eq!(
            app.count(table).await,
            0,
            "{table}: a dry run writes nothing"
        );
    }
}

#[sqlx::test(migrations = false)]
async fn a_month_older_than_thirty_days_is_checked_only_for_its_last_days(pool: PgPool) {
    let now = Utc::now();
    let kept_since = now - Duration::days(30);
    let month = month_of(kept_since);
    let start = DateTime::parse_from_rfc3339(&format!("{month}-01T00:00:00Z"))
        .expect("a month")
        .timestamp();
    let end = DateTime::parse_from_rfc3339(&format!(
        "{}-01T00:00:00Z",
        month_of(DateTime::from_timestamp(start + 32 * 86_400, 0).expect("a time"))
    ))
    .expect("a month")
    .timestamp();
    // One event in the part Stripe no longer keeps, one in the part it does.
    let (old, kept) = (
        (start + kept_since.timestamp()) / 2,
        (kept_since.timestamp() + end) / 2,
    );
    let events = vec![
        event("evt_old", "charge.succeeded", old, json!({"id": "ch_old"})),
        event("evt_kept", "invoice.paid", kept, json!({"id": "in_kept"})),
    ];
    let (mut app, stripe) = app_with(pool, vec![], events).await;
    let run = audit(&mut app, &month, false, false).await;
    assert_eq!(missed(&run), ["evt_kept"], "{:?}", run.findings);
    assert!(
        run.report_markdown.contains(&format!(
            "Not checked from {month}-01 00:00 UTC to {} ",
            kept_since.format("%Y-%m-%d")
        )) && run
            .report_markdown
            .contains("UTC: Stripe keeps events for 30 days only."),
        "{}",
        run.report_markdown
    );
    let requests = stripe.received_requests().await.expect("recorded");
    let gte: Vec<i64> = requests
        .iter()
        .filter(|r| r.url.path() == "/v1/events")
        .filter_map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "created[gte]")
                .and_then(|(_, v)| v.parse().ok())
        })
        .collect();
    assert!(!gte.is_empty(), "events were listed");
    assert!(
        gte.iter().all(|t| *t >= kept_since.timestamp()),
        "nothing older than 30 days was asked for: {gte:?}"
    );
}
