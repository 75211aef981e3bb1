use growth_proto::common::v1::Money;
use growth_proto::metrics::v1::{self as pb, PaymentStatus};
use sqlx::PgPool;

use crate::helpers::*;

#[sqlx::test(migrations = false)]
async fn upserting_users_reports_inserted_updated_and_unchanged(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    let first = upsert(&mut app, vec![user("u1"), user("u2")]).await;
    assert_eq!((first.inserted, first.updated, first.unchanged), (2, 0, 0));

    let again = upsert(&mut app, vec![user("u1"), user("u2")]).await;
    assert_eq!((again.inserted, again.updated, again.unchanged), (0, 0, 2));

    let mut changed = user("u2");
    changed.plan = "pro".into();
    let update = upsert(&mut app, vec![user("u1"), changed, user("u3")]).await;
    assert_eq!(
        (update.inserted, update.updated, update.unchanged),
        (1, 1, 1)
    );

    let plan: String = sqlx::query_scalar("SELECT plan FROM metrics.users WHERE user_id = 'u2'")
        .fetch_one(&app.pool)
        .await
        .expect("row");
    assert_eq!(plan, "pro");
    assert_eq!(app.count("users").await, 3);
}

#[sqlx::test(migrations = false)]
async fn resending_a_batch_of_events_inserts_nothing_twice(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    upsert(&mut app, vec![user("u1")]).await;

    let first = track(&mut app, events("e", 1000)).await;
    assert_eq!((first.inserted, first.duplicates), (1000, 0));
    assert!(first.last_sequence > 0);

    let again = track(&mut app, events("e", 1000)).await;
    assert_eq!(
        (again.inserted, again.duplicates, again.last_sequence),
        (0, 1000, 0)
    );

    // A batch overlapping the stored one inserts only the new half.
    let mut overlap = events("e", 500);
    overlap.extend(events("f", 500));
    let mixed = track(&mut app, overlap).await;
    assert_eq!((mixed.inserted, mixed.duplicates), (500, 500));
    assert_eq!(app.count("events").await, 1500);
}

#[sqlx::test(migrations = false)]
async fn event_properties_and_times_are_stored_as_sent(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    upsert(&mut app, vec![user("u1")]).await;
    track(&mut app, vec![event("e1", "u1")]).await;
    let (name, source, at): (String, String, chrono::DateTime<chrono::Utc>) = sqlx::query_as(
        "SELECT name, properties->>'source', occurred_at FROM metrics.events WHERE event_id = 'e1'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("row");
    assert_eq!(
        (name.as_str(), source.as_str(), at),
        ("login", "web", day(2025, 1, 2))
    );
}

fn payment(id: &str) -> pb::Payment {
    pb::Payment {
        stripe_id: id.into(),
        stripe_charge_id: format!("ch_{id}"),
        stripe_customer: "cus_1".into(),
        user_id: "u1".into(),
        amount: Some(Money {
            amount_minor: 4900,
            currency: "usd".into(),
        }),
        status: PaymentStatus::Succeeded as i32,
        created_at: ts(day(2025, 1, 3)),
        ..Default::default()
    }
}

#[sqlx::test(migrations = false)]
async fn importing_payments_is_idempotent_by_stripe_id(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    upsert(&mut app, vec![user("u1")]).await;
    let request = || pb::ImportPaymentsRequest {
        payments: vec![payment("pi_1"), payment("pi_2")],
    };
    let first = app
        .client
        .import_payments(request())
        .await
        .expect("import")
        .into_inner();
    assert_eq!((first.inserted, first.updated, first.unchanged), (2, 0, 0));
    let again = app
        .client
        .import_payments(request())
        .await
        .expect("import")
        .into_inner();
    assert_eq!((again.inserted, again.updated, again.unchanged), (0, 0, 2));

    let mut refunded = payment("pi_2");
    refunded.status = PaymentStatus::Refunded as i32;
    refunded.refunded_minor = 4900;
    let update = app
        .client
        .import_payments(pb::ImportPaymentsRequest {
            payments: vec![refunded],
        })
        .await
        .expect("import")
        .into_inner();
    assert_eq!(update.updated, 1);
    let status: String =
        sqlx::query_scalar("SELECT status FROM metrics.payments WHERE stripe_id = 'pi_2'")
            .fetch_one(&app.pool)
            .await
            .expect("row");
    assert_eq!(status, "refunded");
    assert_eq!(app.count("payments").await, 2);
}
