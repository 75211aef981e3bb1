//! Importing subscription states: a bad row or an unknown user is named and
//! nothing is written; a batch sent again changes nothing and older states
//! are stale.

// Test code: a panic with the value is the failure report.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Utc};
use growth_proto::common::v1::Money;
use growth_proto::metrics::v1::{self as pb, BillingInterval};
use sqlx::PgPool;
use tonic::Code;

use crate::helpers::*;
use crate::revenue_fixtures::{import, state};

#[sqlx::test(migrations = false)]
async fn a_bad_row_or_an_unknown_user_is_named_and_nothing_is_written(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    upsert(&mut app, vec![user("u1")]).await;
    let good = state(
        "sub_1",
        "u1",
        4900,
        "usd",
        "2025-01-01T00:00:00Z",
        "2025-01-01T00:00:00Z",
    );
    let mut bad = state(
        "sub_2",
        "u1",
        4900,
        "usd",
        "2025-01-01T00:00:00Z",
        "2025-01-01T00:00:00Z",
    );
    bad.interval = BillingInterval::Unspecified as i32;
    bad.amount = Some(Money {
        amount_minor: -5,
        currency: "usd".into(),
    });
    let status = app
        .client
        .import_subscriptions(pb::ImportSubscriptionsRequest {
            subscriptions: vec![good.clone(), bad],
        })
        .await
        .expect_err("bad row");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status
            .message()
            .contains("subscriptions[1].amount.amount_minor: must not be negative")
            && status
                .message()
                .contains("subscriptions[1].interval: must be a BillingInterval"),
        "{}",
        status.message()
    );

    let mut ghost = good.clone();
    ghost.stripe_subscription_id = "sub_3".into();
    ghost.user_id = "ghost".into();
    let status = app
        .client
        .import_subscriptions(pb::ImportSubscriptionsRequest {
            subscriptions: vec![good, ghost],
        })
        .await
        .expect_err("unknown user");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        status.message(),
        "subscriptions[1].user_id: unknown user \"ghost\": upsert the user first"
    );
    let status = app
        .client
        .import_subscriptions(pb::ImportSubscriptionsRequest {
            subscriptions: vec![],
        })
        .await
        .expect_err("empty");
    assert_eq!(
        status.message(),
        "subscriptions: must contain at least one row"
    );
    assert_eq!(app.count("subscriptions").await, 0);
    assert_eq!(app.count("subscription_states").await, 0);
}

#[sqlx::test(migrations = false)]
async fn importing_is_idempotent_and_older_states_are_stale(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    upsert(&mut app, vec![user("u1")]).await;
    let start = "2025-01-01T00:00:00Z";
    let batch = vec![
        state("sub_1", "u1", 1000, "usd", start, start),
        state("sub_1", "u1", 2000, "usd", start, "2025-02-01T00:00:00Z"),
        state("sub_1", "u1", 3000, "usd", start, "2025-03-01T00:00:00Z"),
    ];
    let first = import(&mut app, batch.clone()).await;
    assert_eq!((first.recorded, first.unchanged, first.stale), (3, 0, 0));
    let again = import(&mut app, batch).await;
    assert_eq!((again.recorded, again.unchanged, again.stale), (0, 3, 0));

    // The latest state again, later: unchanged. A new state older than the
    // latest: stale, ignored.
    let r = import(
        &mut app,
        vec![
            state("sub_1", "u1", 3000, "usd", start, "2025-04-01T00:00:00Z"),
            state("sub_1", "u1", 9999, "usd", start, "2025-02-15T00:00:00Z"),
        ],
    )
    .await;
    assert_eq!((r.recorded, r.unchanged, r.stale), (0, 1, 1));
    assert_eq!(app.count("subscription_states").await, 3);
    let latest: (i64, DateTime<Utc>) =
        sqlx::query_as("SELECT mrr_minor, effective_at FROM metrics.subscriptions WHERE stripe_subscription_id = 'sub_1'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(latest, (3000, at("2025-03-01T00:00:00Z")));
}
