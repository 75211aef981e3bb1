//! GetUserActivity on a constructed history.

use chrono::{Duration, Utc};
use growth_proto::common::v1::{Money, PageRequest};
use growth_proto::metrics::v1 as pb;
use sqlx::PgPool;
use tonic::Code;

use crate::helpers::*;

fn at(ago: Duration) -> Option<prost_types::Timestamp> {
    ts(Utc::now() - ago)
}

fn user_since(id: &str) -> pb::User {
    pb::User {
        signup_at: at(Duration::days(60)),
        ..user(id)
    }
}

fn event_ago(id: &str, name: &str, ago: Duration) -> pb::Event {
    pb::Event {
        name: name.into(),
        occurred_at: at(ago),
        ..event(id, "u1")
    }
}

#[sqlx::test(migrations = false)]
async fn activity_counts_windows_days_breadth_and_revenue(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    upsert(
        &mut app,
        vec![user_since("u1"), user_since("u2"), user_since("u3")],
    )
    .await;
    track(
        &mut app,
        vec![
            event_ago("e1", "login", Duration::hours(1)),
            event_ago("e2", "report_created", Duration::days(2)),
            event_ago("e3", "login", Duration::days(10)),
            event_ago("e4", "login", Duration::days(10)),
            event_ago("e5", "login", Duration::days(40)),
        ],
    )
    .await;
    let payment = pb::Payment {
        stripe_id: "pi_1".into(),
        user_id: "u1".into(),
        amount: Some(Money {
            amount_minor: 4900,
            currency: "usd".into(),
        }),
        status: pb::PaymentStatus::PartiallyRefunded as i32,
        refunded_minor: 1000,
        created_at: at(Duration::days(10)),
        ..Default::default()
    };
    app.client
        .import_payments(pb::ImportPaymentsRequest {
            payments: vec![payment],
        })
        .await
        .expect("import");

    let response = app
        .client
        .get_user_activity(pb::GetUserActivityRequest {
            user_ids: vec!["u1".into(), "ghost".into(), "u2".into()],
            page: None,
        })
        .await
        .expect("activity")
        .into_inner();
    assert_eq!(response.unknown_user_ids, ["ghost"]);
    let u1 = &response.users[0];
    assert_eq!(u1.user_id, "u1");
    assert_eq!(
        (
            u1.events_1d,
            u1.events_7d,
            u1.events_30d,
            u1.active_days_30d,
            u1.distinct_events_30d
        ),
        (1, 2, 4, 3, 2)
    );
    assert!(u1.paying);
    assert_eq!(
        u1.lifetime_revenue,
        [Money {
            amount_minor: 3900,
            currency: "usd".into()
        }]
    );
    let seen = u1.last_seen_at.as_ref().expect("seen").seconds;
    assert!((Utc::now() - Duration::hours(1)).timestamp() - seen <= 5);
    let u2 = &response.users[1];
    assert_eq!(
        (u2.events_30d, u2.paying, u2.last_seen_at.is_none()),
        (0, false, true)
    );
    assert!(u2.lifetime_revenue.is_empty());
}

#[sqlx::test(migrations = false)]
async fn all_users_can_be_paged_through_in_id_order(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    upsert(
        &mut app,
        vec![user_since("u3"), user_since("u1"), user_since("u2")],
    )
    .await;
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = app
            .client
            .get_user_activity(pb::GetUserActivityRequest {
                user_ids: vec![],
                page: Some(PageRequest {
                    page_size: 2,
                    page_token: token.clone(),
                }),
            })
            .await
            .expect("page")
            .into_inner();
        seen.extend(page.users.into_iter().map(|u| u.user_id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, ["u1", "u2", "u3"]);

    let bad = app
        .client
        .get_user_activity(pb::GetUserActivityRequest {
            user_ids: vec!["ok".into(), "not ok".into()],
            page: None,
        })
        .await
        .expect_err("bad id");
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(
        bad.message().starts_with(
            "user_ids[1]: must be 1 to 128 characters, each an ASCII letter, digit or one of"
        ),
        "{}",
        bad.message()
    );
}
