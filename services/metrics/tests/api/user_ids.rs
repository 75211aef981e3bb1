//! The one user-id rule in every metrics RPC that takes a user id: a bad id
//! is refused with `INVALID_ARGUMENT` naming the field, the rule and what
//! broke it, and nothing reaches the database.

use growth_proto::common::v1::PageRequest;
use growth_proto::metrics::v1 as pb;
use sqlx::PgPool;
use tonic::Code;

use crate::helpers::*;

const RULE: &str = "must be 1 to 128 characters, each an ASCII letter, digit or one of _-.:@";

#[sqlx::test(migrations = false)]
async fn ingest_refuses_ids_outside_the_rule_naming_the_row(pool: PgPool) {
    let mut app = spawn_app(pool).await;

    let s = app
        .client
        .upsert_users(pb::UpsertUsersRequest {
            users: vec![user("u1"), user("u\0")],
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument);
    assert!(
        s.message()
            .contains(&format!("users[1].user_id: {RULE}; character 2 is '\\0'")),
        "{}",
        s.message()
    );
    assert_eq!(app.count("users").await, 0);

    upsert(&mut app, vec![user("u1")]).await;
    let s = app
        .client
        .track_events(pb::TrackEventsRequest {
            events: vec![event("e1", "ȸ˴")],
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument);
    assert!(
        s.message()
            .contains(&format!("events[0].user_id: {RULE}; character 1 is 'ȸ'")),
        "{}",
        s.message()
    );
    assert_eq!(app.count("events").await, 0);
}

#[sqlx::test(migrations = false)]
async fn user_activity_refuses_bad_ids_and_tokens_carrying_them(pool: PgPool) {
    let mut app = spawn_app(pool).await;

    let s = app
        .client
        .get_user_activity(pb::GetUserActivityRequest {
            user_ids: vec!["ȸ˴".into()],
            page: None,
        })
        .await
        .unwrap_err();
    assert_eq!(
        (s.code(), s.message()),
        (
            Code::InvalidArgument,
            format!("user_ids[0]: {RULE}; character 1 is 'ȸ'").as_str()
        )
    );

    // A keyset token holds a user id; one that cannot be a user id is not
    // a token this RPC returned (and never reaches PostgreSQL).
    let s = app
        .client
        .get_user_activity(pb::GetUserActivityRequest {
            user_ids: vec![],
            page: Some(PageRequest {
                page_size: 10,
                page_token: "after:\0".into(),
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument);
    assert!(
        s.message().starts_with("page.page_token: "),
        "{}",
        s.message()
    );
}
