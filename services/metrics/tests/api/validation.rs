use growth_proto::metrics::v1 as pb;
use sqlx::PgPool;
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::*;

fn far_future() -> Option<prost_types::Timestamp> {
    ts(chrono::Utc::now() + chrono::Duration::days(2))
}

#[sqlx::test(migrations = false)]
async fn a_batch_with_bad_rows_names_each_row_and_field_and_writes_nothing(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    upsert(&mut app, vec![user("u1")]).await;

    let mut events = events("e", 5);
    events[1].name = "  ".into();
    events[2].occurred_at = far_future();
    events[3].properties_json = "{not json".into();
    events[4].user_id = "ghost".into(); // valid shape; unknown user is checked after
    let status = app
        .client
        .track_events(pb::TrackEventsRequest { events })
        .await
        .expect_err("bad batch is refused");

    assert_eq!(status.code(), Code::InvalidArgument);
    let message = status.message();
    assert!(
        message.contains("events[1].name: must not be empty"),
        "{message}"
    );
    assert!(
        message.contains("events[2].occurred_at:") && message.contains("in the future"),
        "{message}"
    );
    assert!(
        message.contains("events[3].properties_json: is not valid JSON"),
        "{message}"
    );
    let details = status.get_error_details();
    let fields: Vec<&str> = details
        .bad_request()
        .expect("field violations are attached")
        .field_violations
        .iter()
        .map(|v| v.field.as_str())
        .collect();
    assert_eq!(
        fields,
        [
            "events[1].name",
            "events[2].occurred_at",
            "events[3].properties_json"
        ]
    );
    assert_eq!(
        app.count("events").await,
        0,
        "nothing of the batch is written"
    );
}

#[sqlx::test(migrations = false)]
async fn events_of_unknown_users_are_refused_by_row_and_nothing_is_written(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    upsert(&mut app, vec![user("u1")]).await;
    let mut batch = events("e", 3);
    batch[2].user_id = "ghost".into();
    let status = app
        .client
        .track_events(pb::TrackEventsRequest { events: batch })
        .await
        .expect_err("unknown user");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        status.message(),
        "events[2].user_id: unknown user \"ghost\": upsert the user first"
    );
    assert_eq!(app.count("events").await, 0);

    // A re-sent event beside the unknown user: still refused, still nothing
    // new written, and the rollup untouched.
    track(&mut app, events("e", 1)).await;
    let rollup_before = folded_rollup(&app, "u1").await;
    let mut batch = events("e", 3);
    batch[2].user_id = "ghost".into();
    batch[1].occurred_at = ts(day(2025, 1, 5));
    let status = app
        .client
        .track_events(pb::TrackEventsRequest { events: batch })
        .await
        .expect_err("unknown user");
    assert_eq!(
        (status.code(), status.message()),
        (
            Code::InvalidArgument,
            "events[2].user_id: unknown user \"ghost\": upsert the user first"
        )
    );
    assert_eq!(app.count("events").await, 1);
    let rollup_after = folded_rollup(&app, "u1").await;
    assert_eq!(rollup_before, rollup_after);
}

#[sqlx::test(migrations = false)]
async fn empty_oversized_and_self_duplicating_batches_are_refused(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    upsert(&mut app, vec![user("u1")]).await;

    let empty = app
        .client
        .track_events(pb::TrackEventsRequest { events: vec![] })
        .await;
    let status = empty.expect_err("empty batch");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(status.message(), "events: must contain at least one row");

    let oversized = app
        .client
        .track_events(pb::TrackEventsRequest {
            events: events("e", 10_001),
        })
        .await
        .expect_err("too many rows");
    assert_eq!(
        oversized.message(),
        "events: must contain at most 10000 rows, got 10001"
    );

    let twice = app
        .client
        .track_events(pb::TrackEventsRequest {
            events: vec![event("e1", "u1"), event("e1", "u1")],
        })
        .await
        .expect_err("duplicate id in batch");
    assert_eq!(
        twice.message(),
        "events[1].event_id: duplicates events[0].event_id \"e1\" in the same batch"
    );
    assert_eq!(app.count("events").await, 0);
}

#[sqlx::test(migrations = false)]
async fn a_user_batch_with_one_bad_row_writes_no_user(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    let mut bad = user("u2");
    bad.email = "not-an-email".into();
    bad.attributes_json = "[1,2]".into();
    let status = app
        .client
        .upsert_users(pb::UpsertUsersRequest {
            users: vec![user("u1"), bad],
        })
        .await
        .expect_err("bad row");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        status.message(),
        "users[1].email: \"not-an-email\" is not an e-mail address; \
         users[1].attributes_json: must be a JSON object, got a JSON array"
    );
    assert_eq!(app.count("users").await, 0);
}

#[sqlx::test(migrations = false)]
async fn payments_of_unknown_users_or_with_bad_money_are_refused(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    let payment = pb::Payment {
        stripe_id: "pi_1".into(),
        user_id: "ghost".into(),
        amount: Some(growth_proto::common::v1::Money {
            amount_minor: 100,
            currency: "usd".into(),
        }),
        status: pb::PaymentStatus::Succeeded as i32,
        created_at: ts(day(2025, 1, 1)),
        ..Default::default()
    };
    let status = app
        .client
        .import_payments(pb::ImportPaymentsRequest {
            payments: vec![payment.clone()],
        })
        .await
        .expect_err("unknown user");
    assert_eq!(
        status.message(),
        "payments[0].user_id: unknown user \"ghost\": upsert the user first"
    );

    let negative = pb::Payment {
        user_id: String::new(),
        amount: Some(growth_proto::common::v1::Money {
            amount_minor: -5,
            currency: "usd".into(),
        }),
        ..payment
    };
    let status = app
        .client
        .import_payments(pb::ImportPaymentsRequest {
            payments: vec![negative],
        })
        .await
        .expect_err("negative amount");
    assert_eq!(
        status.message(),
        "payments[0].amount.amount_minor: must not be negative, got -5"
    );
    assert_eq!(app.count("payments").await, 0);
}

#[sqlx::test(migrations = false)]
async fn a_negative_feed_cursor_is_refused(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    let status = app
        .client
        .watch_events(pb::WatchEventsRequest {
            after_sequence: -1,
            ..Default::default()
        })
        .await
        .expect_err("negative cursor");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        status.message(),
        "after_sequence: must not be negative, got -1"
    );
}

#[sqlx::test(migrations = false)]
async fn cohort_value_refuses_bad_future_and_reversed_months_naming_each_field(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    let mut refused = async |from: &str, to: &str| {
        let status = app
            .client
            .get_cohort_value(pb::GetCohortValueRequest {
                month_from: from.into(),
                month_to: to.into(),
            })
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::InvalidArgument, "{from} {to}");
        status.message().to_owned()
    };
    assert_eq!(
        refused("2025-13", "March").await,
        "month_from: \"2025-13\" is not a month: expected YYYY-MM, e.g. 2025-11; \
         month_to: \"March\" is not a month: expected YYYY-MM, e.g. 2025-11"
    );
    let future = refused("", "2999-01").await;
    assert!(
        future.starts_with("month_to: 2999-01 is in the future (this month is "),
        "{future}"
    );
    assert_eq!(
        refused("2025-05", "2025-04").await,
        "month_from: 2025-05 is after month_to 2025-04"
    );
    assert_eq!(
        refused("1999-12", "").await,
        "month_from: \"1999-12\" is not a month: expected YYYY-MM, e.g. 2025-11"
    );
    assert_eq!(
        app.count("retention_rows").await,
        0,
        "nothing was refreshed"
    );
}

/// `user`'s bitmap once the pending activity is folded in.
async fn folded_rollup(app: &TestApp, user: &str) -> String {
    metrics_svc::repo::cohorts::fold::fold(&app.pool)
        .await
        .expect("fold");
    sqlx::query_scalar("SELECT active_days::text FROM metrics.user_cohorts WHERE user_id = $1")
        .bind(user)
        .fetch_one(&app.pool)
        .await
        .expect("rollup row")
}
