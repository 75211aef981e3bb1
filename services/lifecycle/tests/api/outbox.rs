//! Trigger rules and the Kit outbox, end to end against a fake Kit: one
//! delivery per (transition, action), through 429s, outages, a crash between
//! send and commit, dead-lettering, and without credentials.

use growth_proto::lifecycle::v1::{self as lc, DeliveryStatus, KitAction, LifecycleStage as S};
use growth_runtime::outbox::{Holder, OutboxTable, SqlTable};
use lifecycle_svc::kit::{KitActionKind, KitApi, KitClient, KitRequest};
use lifecycle_svc::outbox::{OutboxConfig, deliver_due};
use lifecycle_svc::repo::deliveries::{self, DeliveryRow};
use secrecy::SecretString;
use sqlx::PgPool;

use crate::fake_kit::{FakeKit, KEY};
use crate::helpers::*;

pub(crate) fn rule(to: S, action: KitAction, target: &str) -> lc::TriggerRule {
    lc::TriggerRule {
        to_stage: to as i32,
        action: action as i32,
        target_id: target.into(),
        enabled: true,
        custom_fields: vec![
            lc::CustomField {
                key: "engagement_score".into(),
                value: lc::CustomFieldValue::Score as i32,
            },
            lc::CustomField {
                key: "lifecycle_stage".into(),
                value: lc::CustomFieldValue::Stage as i32,
            },
        ],
        description: "welcome active users".into(),
        ..Default::default()
    }
}

pub(crate) async fn add_rule(c: &mut Cluster, rule: lc::TriggerRule) -> lc::TriggerRule {
    c.lifecycle
        .upsert_trigger_rule(lc::UpsertTriggerRuleRequest { rule: Some(rule) })
        .await
        .expect("rule stored")
        .into_inner()
        .rule
        .unwrap()
}

/// One engaged user, evaluated into ACTIVE.
pub(crate) async fn activate(c: &mut Cluster) {
    c.users(vec![user("u1", 100, None)]).await;
    c.events(activity("a", "u1", 20, 3, 5)).await;
    c.evaluate(lc::EvaluateUsersRequest::default()).await;
}

pub(crate) async fn deliveries(
    client: &Lifecycle,
    status: DeliveryStatus,
) -> Vec<lc::TriggerDelivery> {
    client
        .clone()
        .list_trigger_deliveries(lc::ListTriggerDeliveriesRequest {
            status: status as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .deliveries
}

/// Waits (up to 15 s) until `n` deliveries are in `status`.
async fn wait_for_deliveries(c: &Cluster, status: DeliveryStatus, n: usize) {
    let what = format!("{n} deliveries are {status:?}");
    eventually(&what, || async {
        deliveries(&c.lifecycle, status).await.len() == n
    })
    .await;
}

pub(crate) fn kit_args(fake: &FakeKit) -> impl FnOnce(&mut lifecycle_svc::LifecycleArgs) + '_ {
    move |a| {
        a.feed_disabled = true;
        a.kit_api_key = growth_runtime::config::OptionalSecret::from(KEY);
        a.kit_api_base = Some(fake.base_url());
        a.kit_timeout_ms = 500;
    }
}

pub(crate) fn kit_client(fake: &FakeKit) -> KitClient {
    let mut config = lifecycle_svc::kit::KitConfig::v4(SecretString::from(KEY.to_owned()));
    config.api_base = fake.base_url();
    config.timeout = std::time::Duration::from_millis(500);
    assert_eq!(config.api, KitApi::V4);
    KitClient::new(config).unwrap()
}

fn quick(max_attempts: i32) -> OutboxConfig {
    OutboxConfig {
        max_attempts,
        retry_base: std::time::Duration::ZERO,
        ..OutboxConfig::default()
    }
}

pub(crate) fn successful_actions(fake: &FakeKit, key: &str) -> usize {
    fake.mutations()
        .iter()
        .filter(|r| r.idempotency_key() == Some(key) && (200..300).contains(&r.status))
        .count()
}

#[sqlx::test(migrations = false)]
async fn a_transition_reaches_kit_once_with_its_custom_fields(pool: PgPool) {
    let fake = FakeKit::v4().await;
    let mut c = spawn_with(pool, kit_args(&fake)).await;
    add_rule(&mut c, rule(S::Active, KitAction::AddTag, "111")).await;
    add_rule(&mut c, rule(S::Active, KitAction::SubscribeSequence, "222")).await;
    // A rule for another stage queues nothing.
    add_rule(&mut c, rule(S::Churned, KitAction::AddTag, "333")).await;
    activate(&mut c).await;

    wait_for_deliveries(&c, DeliveryStatus::Delivered, 2).await;
    let email = "u1@example.com";
    assert!(fake.tags_of(email).contains("111"));
    assert!(fake.sequences_of(email).contains("222"));
    assert!(!fake.tags_of(email).contains("333"));
    let fields = fake.fields_of(email);
    assert_eq!(fields["lifecycle_stage"], "active");
    let score: i32 = fields["engagement_score"].parse().unwrap();
    assert!(score >= 40, "{score}");

    let delivered = deliveries(&c.lifecycle, DeliveryStatus::Delivered).await;
    for d in &delivered {
        assert_eq!(
            successful_actions(&fake, &d.idempotency_key),
            1,
            "{}",
            d.idempotency_key
        );
        assert_eq!(d.attempts, 1);
    }
    // Evaluating again moves nobody, so nothing more is queued or sent.
    c.evaluate(lc::EvaluateUsersRequest::default()).await;
    assert_eq!(
        c.count("SELECT count(*) FROM lifecycle.deliveries").await,
        2
    );
}

#[sqlx::test(migrations = false)]
async fn a_429_is_retried_after_retry_after_and_delivered_once(pool: PgPool) {
    let fake = FakeKit::v4().await;
    fake.fail_next_actions(1, 429, Some(1));
    let mut c = spawn_with(pool, kit_args(&fake)).await;
    add_rule(&mut c, rule(S::Active, KitAction::AddTag, "111")).await;
    activate(&mut c).await;
    wait_for_deliveries(&c, DeliveryStatus::Delivered, 1).await;
    let d = &deliveries(&c.lifecycle, DeliveryStatus::Delivered).await[0];
    assert_eq!(d.attempts, 2);
    let tries: Vec<_> = fake
        .mutations()
        .into_iter()
        .filter(|r| r.idempotency_key() == Some(d.idempotency_key.as_str()))
        .collect();
    assert_eq!(
        tries.iter().map(|r| r.status).collect::<Vec<_>>(),
        [429, 201]
    );
    let waited = tries[1].at - tries[0].at;
    assert!(
        waited >= std::time::Duration::from_millis(950),
        "retried after {waited:?}"
    );
}

#[sqlx::test(migrations = false)]
async fn an_outage_keeps_rows_pending_and_they_are_delivered_when_kit_returns(pool: PgPool) {
    let fake = FakeKit::v4().await;
    fake.set_down(true);
    let mut c = spawn_with(pool, |a| {
        kit_args(&fake)(a);
        a.outbox_disabled = true;
    })
    .await;
    add_rule(&mut c, rule(S::Active, KitAction::AddTag, "111")).await;
    activate(&mut c).await;
    let kit = kit_client(&fake);
    for _ in 0..3 {
        deliver_due(&c.pool, Some(&kit), &quick(8)).await.unwrap();
    }
    let pending = &deliveries(&c.lifecycle, DeliveryStatus::Pending).await[0];
    assert_eq!(pending.attempts, 3);
    assert!(pending.last_error.contains("503"), "{}", pending.last_error);
    fake.set_down(false);
    deliver_due(&c.pool, Some(&kit), &quick(8)).await.unwrap();
    let d = &deliveries(&c.lifecycle, DeliveryStatus::Delivered).await[0];
    assert_eq!(d.attempts, 4);
    assert_eq!(successful_actions(&fake, &d.idempotency_key), 1);
}

#[sqlx::test(migrations = false)]
async fn a_crash_between_send_and_commit_does_not_send_twice(pool: PgPool) {
    let fake = FakeKit::v4().await;
    let mut c = spawn_with(pool, |a| {
        kit_args(&fake)(a);
        a.outbox_disabled = true;
    })
    .await;
    add_rule(&mut c, rule(S::Active, KitAction::AddTag, "111")).await;
    activate(&mut c).await;
    let kit = kit_client(&fake);

    // A worker claims the row and sends; Kit applies it; the worker hangs
    // before it can record the delivery (its session lives on).
    let table = SqlTable::<DeliveryRow>::new(deliveries::OUTBOX);
    let mut holder = Holder::acquire(&c.pool).await.unwrap();
    let claimed = table
        .claim(&mut holder, std::time::Duration::from_secs(60), &[])
        .await
        .unwrap()
        .expect("a due row");
    let row = &claimed.row;
    let request = KitRequest::new(
        KitActionKind::AddTag,
        &row.target_id,
        &row.email,
        &row.idempotency_key,
    );
    kit.send(&request).await.unwrap();
    assert_eq!(successful_actions(&fake, &row.idempotency_key), 1);

    // Nothing is due while the stuck worker's lease runs.
    assert_eq!(
        deliver_due(&c.pool, Some(&kit), &quick(8))
            .await
            .unwrap()
            .claimed,
        0
    );
    sqlx::query("UPDATE lifecycle.deliveries SET lease_until = now() - interval '1 second'")
        .execute(&c.pool)
        .await
        .unwrap();
    let round = deliver_due(&c.pool, Some(&kit), &quick(8)).await.unwrap();
    assert_eq!((round.claimed, round.delivered), (1, 1));
    assert_eq!(
        successful_actions(&fake, &row.idempotency_key),
        1,
        "asked Kit, did not resend"
    );
    assert!(
        fake.requests().iter().any(|r| r.method == "GET"),
        "the tag was looked up"
    );
    let d = &deliveries(&c.lifecycle, DeliveryStatus::Delivered).await[0];
    assert_eq!(d.attempts, 2);
    holder.release().await;
}

#[sqlx::test(migrations = false)]
async fn an_unanswered_request_is_checked_before_it_is_sent_again(pool: PgPool) {
    let fake = FakeKit::v4().await;
    let mut c = spawn_with(pool, |a| {
        kit_args(&fake)(a);
        a.outbox_disabled = true;
    })
    .await;
    add_rule(&mut c, rule(S::Active, KitAction::AddTag, "111")).await;
    activate(&mut c).await;
    let kit = kit_client(&fake);
    fake.apply_then_hang(1);
    let round = deliver_due(&c.pool, Some(&kit), &quick(8)).await.unwrap();
    assert_eq!((round.claimed, round.delivered), (1, 0));
    let pending = &deliveries(&c.lifecycle, DeliveryStatus::Pending).await[0];
    assert!(
        pending.last_error.contains("timed out") || pending.last_error.contains("no answer"),
        "{}",
        pending.last_error
    );
    let round = deliver_due(&c.pool, Some(&kit), &quick(8)).await.unwrap();
    assert_eq!(round.delivered, 1);
    let key = &pending.idempotency_key;
    assert_eq!(
        fake.mutations_with_key(key),
        1,
        "sent once; the retry only looked"
    );
}

#[sqlx::test(migrations = false)]
async fn a_row_is_dead_after_the_last_attempt_and_can_be_retried(pool: PgPool) {
    let fake = FakeKit::v4().await;
    let mut c = spawn_with(pool, |a| {
        kit_args(&fake)(a);
        a.outbox_disabled = true;
    })
    .await;
    add_rule(&mut c, rule(S::Active, KitAction::AddTag, "111")).await;
    activate(&mut c).await;
    let kit = kit_client(&fake);
    fake.fail_next_actions(3, 500, None);
    for _ in 0..4 {
        deliver_due(&c.pool, Some(&kit), &quick(3)).await.unwrap();
    }
    let dead = &deliveries(&c.lifecycle, DeliveryStatus::Dead).await[0];
    assert_eq!(dead.attempts, 3);
    assert!(dead.last_error.contains("500"), "{}", dead.last_error);
    assert_eq!(successful_actions(&fake, &dead.idempotency_key), 0);

    let retried = c
        .lifecycle
        .retry_delivery(lc::RetryDeliveryRequest {
            delivery_id: dead.delivery_id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .delivery
        .unwrap();
    assert_eq!(retried.status(), DeliveryStatus::Pending);
    deliver_due(&c.pool, Some(&kit), &quick(3)).await.unwrap();
    assert_eq!(successful_actions(&fake, &dead.idempotency_key), 1);
    let again = c
        .lifecycle
        .retry_delivery(lc::RetryDeliveryRequest {
            delivery_id: dead.delivery_id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(again.code(), tonic::Code::FailedPrecondition);
    let unknown = c
        .lifecycle
        .retry_delivery(lc::RetryDeliveryRequest {
            delivery_id: uuid::Uuid::new_v4().to_string(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound);
}

#[sqlx::test(migrations = false)]
async fn without_a_kit_key_rows_are_kept_as_skipped_and_can_be_queued_again(pool: PgPool) {
    let mut c = spawn_with(pool, |a| a.feed_disabled = true).await;
    add_rule(&mut c, rule(S::Active, KitAction::AddTag, "111")).await;
    activate(&mut c).await;
    wait_for_deliveries(&c, DeliveryStatus::SkippedNoCredentials, 1).await;
    let skipped = &deliveries(&c.lifecycle, DeliveryStatus::SkippedNoCredentials).await[0];
    assert!(
        skipped.last_error.contains("KIT_API_KEY"),
        "{}",
        skipped.last_error
    );
    assert_eq!(skipped.attempts, 0);
    let retried = c
        .lifecycle
        .retry_delivery(lc::RetryDeliveryRequest {
            delivery_id: skipped.delivery_id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .delivery
        .unwrap();
    assert_eq!(retried.status(), DeliveryStatus::Pending);
}
