//! The audit's entitlement drift and stale money states, end to end: live
//! Stripe subscriptions (listed without `status`, whenever created) against
//! the database's subscription rows and users' plans; a repair records
//! Stripe's state for the safe kinds, once.

use std::collections::HashMap;

use growth_proto::common::v1::Money;
use growth_proto::metrics::v1::{self as pb, FindingKind};
use metrics_svc::audit::settings::DriftArgs;
use metrics_svc::config::MetricsArgs;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::audit::{run_audit, stored_run};
use crate::fake_stripe::{KEY, mount_lists, mount_retrieve};
use crate::helpers::*;

const NOV: i64 = 1_761_955_200;
const JAN: i64 = 1_735_689_600;

fn sub(id: &str, customer: &str, status: &str, trial_end: Option<i64>) -> Value {
    json!({
        "id": id, "object": "subscription", "customer": customer, "status": status,
        "created": JAN, "start_date": JAN, "trial_end": trial_end,
        "items": {"data": [{"quantity": 1, "price": {
            "id": "price_pro", "nickname": "Pro", "unit_amount": 4900, "currency": "usd",
            "recurring": {"interval": "month", "interval_count": 1}
        }}]}
    })
}

fn row(id: &str, user: &str, status: pb::SubscriptionStatus) -> pb::Subscription {
    pb::Subscription {
        stripe_subscription_id: id.into(),
        stripe_customer: format!("cus_{user}"),
        user_id: user.into(),
        plan: "Pro".into(),
        amount: Some(Money {
            amount_minor: 4900,
            currency: "usd".into(),
        }),
        quantity: 1,
        interval: pb::BillingInterval::Month as i32,
        interval_count: 1,
        status: status as i32,
        started_at: Some(prost_types::Timestamp {
            seconds: JAN,
            nanos: 0,
        }),
        ended_at: None,
        effective_at: Some(prost_types::Timestamp {
            seconds: JAN,
            nanos: 0,
        }),
    }
}

async fn audit(app: &mut TestApp, repair: bool) -> pb::AuditRun {
    let run = run_audit(app, "2025-11", repair, false).await;
    assert!(run.error.is_empty(), "{}", run.error);
    run
}

fn found(run: &pb::AuditRun) -> Vec<(FindingKind, String)> {
    let mut f: Vec<_> = run
        .findings
        .iter()
        .filter(|f| f.kind >= FindingKind::PaidNotProvisioned as i32)
        .map(|f| {
            (
                FindingKind::try_from(f.kind).expect("a known kind"),
                f.stripe_id.clone(),
            )
        })
        .collect();
    f.sort();
    f
}

async fn status_of(pool: &PgPool, id: &str) -> String {
    sqlx::query_scalar("SELECT status FROM metrics.subscriptions WHERE stripe_subscription_id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("the subscription row")
}

#[sqlx::test(migrations = false)]
async fn entitlement_drift_and_stale_money_are_found_and_the_safe_drift_is_repaired_once(
    pool: PgPool,
) {
    let server = wiremock::MockServer::start().await;
    let gone = sub("sub_gone", "cus_u_gone", "canceled", None);
    mount_lists(
        &server,
        HashMap::from([
            (
                "subscriptions",
                vec![
                    sub("sub_ok", "cus_u_ok", "active", None),
                    // Paid in Stripe, recorded as canceled.
                    sub("sub_back", "cus_u_back", "active", None),
                    // Paid in Stripe, for a plan the user does not have.
                    sub("sub_plan", "cus_u_plan", "active", None),
                    // Converted in Stripe; the database still has a trial.
                    sub("sub_trial", "cus_u_trial", "active", Some(NOV)),
                    // Paid, by a customer the database does not know.
                    sub("sub_new", "cus_nobody", "active", None),
                    // Canceled in Stripe, active in the database: listed only
                    // with status=all, so not among the live ones.
                    gone.clone(),
                ],
            ),
            (
                "payment_intents",
                vec![json!({"id": "pi_held", "amount": 4900, "currency": "usd",
                            "status": "requires_capture", "created": NOV + 3600, "customer": "cus_u_ok"})],
            ),
        ]),
    )
    .await;
    mount_retrieve(&server, "subscriptions", vec![gone]).await;
    let args = MetricsArgs {
        stripe_secret_key: growth_runtime::config::OptionalSecret::from(KEY),
        stripe_api_base: server.uri(),
        stripe_rate_limit: Some(1000),
        stripe_time_slices: 2,
        drift: DriftArgs {
            stripe_price_plans: "price_pro=pro".into(),
            ..DriftArgs::default()
        },
        ..MetricsArgs::default()
    };
    let mut app = spawn_app_with(pool.clone(), args).await;
    let plan = |id: &str, plan: &str| pb::User {
        plan: plan.into(),
        ..user(id)
    };
    upsert(
        &mut app,
        vec![
            plan("u_ok", "pro"),
            plan("u_back", "pro"),
            plan("u_plan", "free"),
            plan("u_trial", "pro"),
            plan("u_gone", "pro"),
        ],
    )
    .await;
    use pb::SubscriptionStatus as S;
    app.client
        .import_subscriptions(pb::ImportSubscriptionsRequest {
            subscriptions: vec![
                row("sub_ok", "u_ok", S::Active),
                row("sub_back", "u_back", S::Canceled),
                row("sub_plan", "u_plan", S::Active),
                row("sub_trial", "u_trial", S::Trialing),
                row("sub_gone", "u_gone", S::Active),
            ],
        })
        .await
        .expect("import");

    let run = audit(&mut app, false).await;
    assert_eq!(
        found(&run),
        [
            (FindingKind::PaidNotProvisioned, "sub_back".to_owned()),
            (FindingKind::PaidNotProvisioned, "sub_new".to_owned()),
            (FindingKind::ProvisionedNotPaid, "sub_gone".to_owned()),
            (FindingKind::PlanMismatch, "sub_plan".to_owned()),
            (FindingKind::TrialOverrun, "sub_trial".to_owned()),
            (FindingKind::StaleMoneyState, "pi_held".to_owned()),
        ]
    );
    let stale = run
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::StaleMoneyState as i32)
        .unwrap();
    assert!(
        stale.reason.starts_with("status requires_capture for "),
        "{}",
        stale.reason
    );
    assert_eq!(
        status_of(&pool, "sub_back").await,
        "canceled",
        "no repair, nothing written"
    );

    let repaired = audit(&mut app, true).await;
    let lines = &repaired.report_markdown;
    assert!(
        lines.contains("sub_back: recorded as active, as in Stripe (user u_back)"),
        "{lines}"
    );
    assert!(
        lines.contains("sub_gone: recorded as canceled, as in Stripe (user u_gone)"),
        "{lines}"
    );
    assert!(
        lines.contains("sub_trial: recorded as active, as in Stripe (user u_trial)"),
        "{lines}"
    );
    assert!(
        lines.contains("sub_new: not recorded: customer cus_nobody maps to no user"),
        "{lines}"
    );
    let stored = stored_run(&mut app, &repaired.run_id)
        .await
        .repair_summary
        .expect("a repair summary");
    assert!(
        stored
            .drift_repairs
            .contains(&"sub_back: recorded as active, as in Stripe (user u_back)".to_owned()),
        "{:?}",
        stored.drift_repairs
    );
    assert_eq!(stored.drift_repairs.len(), 4, "{:?}", stored.drift_repairs);
    assert_eq!(status_of(&pool, "sub_back").await, "active");
    assert_eq!(status_of(&pool, "sub_gone").await, "canceled");
    assert_eq!(status_of(&pool, "sub_trial").await, "active");
    assert_eq!(
        status_of(&pool, "sub_plan").await,
        "active",
        "a plan mismatch is for a person"
    );

    // Once repaired, the drift is gone but for what a person must decide.
    let after = audit(&mut app, true).await;
    assert_eq!(
        found(&after),
        [
            (FindingKind::PaidNotProvisioned, "sub_new".to_owned()),
            (FindingKind::PlanMismatch, "sub_plan".to_owned()),
            (FindingKind::StaleMoneyState, "pi_held".to_owned()),
        ]
    );
}
