//! The one user-id rule at lifecycle's door: a bad id is refused with
//! `INVALID_ARGUMENT` naming lifecycle's own field, before the metrics
//! service or the database sees it.

use growth_proto::lifecycle::v1 as lc;
use sqlx::PgPool;
use tonic::Code;

use crate::helpers::*;

const RULE: &str = "must be 1 to 128 characters, each an ASCII letter, digit or one of _-.:@";

#[sqlx::test(migrations = false)]
async fn evaluate_users_refuses_letters_outside_ascii_naming_the_field(pool: PgPool) {
    let mut c = spawn_with(pool, |a| a.feed_disabled = true).await;
    c.users(vec![user("u1", 3, None)]).await;

    let s = evaluate(
        &mut c.lifecycle,
        lc::EvaluateUsersRequest {
            user_ids: vec!["ȸ˴".into()],
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        (s.code(), s.message()),
        (
            Code::InvalidArgument,
            format!("user_ids[0]: {RULE}; character 1 is 'ȸ'").as_str()
        )
    );

    // Every bad id is named, and a valid one among them does not start a run.
    let s = evaluate(
        &mut c.lifecycle,
        lc::EvaluateUsersRequest {
            user_ids: vec!["u1".into(), "u\0".into(), "x".repeat(129)],
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument);
    assert_eq!(
        s.message(),
        format!(
            "user_ids[1]: {RULE}; character 2 is '\\0'; \
             user_ids[2]: {RULE}; got 129 characters"
        )
    );
    assert_eq!(
        c.count("SELECT count(*) FROM lifecycle.transitions").await,
        0
    );

    let progress = c
        .evaluate(lc::EvaluateUsersRequest {
            user_ids: vec!["u1".into()],
            ..Default::default()
        })
        .await;
    assert_eq!(progress.last().unwrap().evaluated, 1);
}

#[sqlx::test(migrations = false)]
async fn a_nul_in_a_user_filter_is_refused_before_the_database(pool: PgPool) {
    let mut c = spawn_with(pool, |a| a.feed_disabled = true).await;
    let l = &mut c.lifecycle;
    let nul = format!("user_id: {RULE}; character 1 is '\\0'");

    let s = l
        .list_trigger_deliveries(lc::ListTriggerDeliveriesRequest {
            user_id: "\0".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        (s.code(), s.message()),
        (Code::InvalidArgument, nul.as_str())
    );

    let s = l
        .list_transitions(lc::ListTransitionsRequest {
            user_id: "\0".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        (s.code(), s.message()),
        (Code::InvalidArgument, nul.as_str())
    );

    let s = l
        .get_user_lifecycle(lc::GetUserLifecycleRequest {
            user_id: "ȸ˴".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        (s.code(), s.message()),
        (
            Code::InvalidArgument,
            format!("user_id: {RULE}; character 1 is 'ȸ'").as_str()
        )
    );

    // An empty filter still means every user.
    let all = l
        .list_trigger_deliveries(lc::ListTriggerDeliveriesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(all.deliveries.is_empty());
}
