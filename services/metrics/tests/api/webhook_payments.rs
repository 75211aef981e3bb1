//! The Stripe webhook records money as Stripe took it, whatever the arrival
//! order and whatever the endpoint's API version: authorisations, partial
//! captures, expiries, the invoice link, the payment's date, disputes.

use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::*;
use crate::stripe_objects::*;
use crate::webhook::{SECRET, app, post};

/// (status, amount, refunded, created_at, invoice) of `pi`.
type Row = (String, i64, i64, i64, Option<String>);

async fn row(app: &TestApp, stripe_id: &str) -> Option<Row> {
    sqlx::query_as(
        "SELECT status, amount_minor, refunded_minor, extract(epoch FROM created_at)::bigint,
                stripe_invoice_id
         FROM metrics.payments WHERE stripe_id = $1",
    )
    .bind(stripe_id)
    .fetch_optional(&app.pool)
    .await
    .expect("payment row")
}

async fn send(app: &TestApp, event: &Value) -> String {
    let (status, body) = post(app, event, SECRET, None).await;
    assert_eq!(status, 200, "{body}");
    body["outcome"].as_str().unwrap_or_default().to_owned()
}

const T: i64 = 1_762_000_000;

fn auth_charge(captured: bool, amount_captured: i64, amount_refunded: i64) -> Ch<'static> {
    Ch {
        id: "ch_1",
        pi: Some("pi_1"),
        amount: 1000,
        captured,
        amount_captured,
        amount_refunded,
        refunded: false,
        status: "succeeded",
        created: T + 1,
    }
}

fn manual_pi(status: &'static str, received: i64, capturable: i64) -> Pi<'static> {
    Pi {
        id: "pi_1",
        status,
        amount: 1000,
        received,
        capturable,
        created: T,
        latest_charge: Some("ch_1"),
    }
}

#[sqlx::test(migrations = false)]
async fn an_authorisation_is_not_revenue_and_a_partial_capture_records_what_was_taken(
    pool: PgPool,
) {
    let app = app(pool, Some(SECRET)).await;
    let authorised = stripe_event(
        "evt_1",
        "charge.succeeded",
        T + 1,
        LEGACY,
        auth_charge(false, 0, 0).object(LEGACY),
    );
    assert_eq!(send(&app, &authorised).await, "applied");
    assert_eq!(
        row(&app, "pi_1").await.map(|r| (r.0, r.1)),
        Some(("authorized".into(), 1000))
    );

    // Before 2025-03-31 Stripe counts the released 400 in amount_refunded.
    let captured = stripe_event(
        "evt_2",
        "charge.captured",
        T + 60,
        LEGACY,
        auth_charge(true, 600, 400).object(LEGACY),
    );
    assert_eq!(send(&app, &captured).await, "applied");
    let intent = stripe_event(
        "evt_3",
        "payment_intent.succeeded",
        T + 60,
        LEGACY,
        manual_pi("succeeded", 600, 0).object(LEGACY),
    );
    send(&app, &intent).await;
    let (status, amount, refunded, ..) = row(&app, "pi_1").await.expect("row");
    assert_eq!((status.as_str(), amount, refunded), ("succeeded", 600, 0));
    assert_eq!(
        app.count("payment_refunds").await,
        0,
        "a release is not a refund"
    );
}

#[sqlx::test(migrations = false)]
async fn a_capture_arriving_before_its_authorisation_still_wins_in_todays_shape(pool: PgPool) {
    let app = app(pool, Some(SECRET)).await;
    // Since 2025-03-31 the released rest is not in amount_refunded.
    let captured = stripe_event(
        "evt_2",
        "charge.captured",
        T + 60,
        DAHLIA,
        auth_charge(true, 600, 0).object(DAHLIA),
    );
    let authorised = stripe_event(
        "evt_1",
        "charge.succeeded",
        T + 1,
        DAHLIA,
        auth_charge(false, 0, 0).object(DAHLIA),
    );
    let requires_capture = stripe_event(
        "evt_0",
        "payment_intent.amount_capturable_updated",
        T + 1,
        DAHLIA,
        manual_pi("requires_capture", 0, 1000).object(DAHLIA),
    );
    for e in [&captured, &authorised, &requires_capture] {
        send(&app, e).await;
    }
    let (status, amount, refunded, created, _) = row(&app, "pi_1").await.expect("row");
    assert_eq!(
        (status.as_str(), amount, refunded, created),
        ("succeeded", 600, 0, T)
    );
}

#[sqlx::test(migrations = false)]
async fn an_expired_or_canceled_authorisation_ends_as_canceled(pool: PgPool) {
    let app = app(pool, Some(SECRET)).await;
    send(
        &app,
        &stripe_event(
            "evt_1",
            "charge.succeeded",
            T + 1,
            DAHLIA,
            auth_charge(false, 0, 0).object(DAHLIA),
        ),
    )
    .await;
    let expired = Ch {
        created: T + 1,
        ..auth_charge(false, 0, 0)
    };
    send(
        &app,
        &stripe_event(
            "evt_2",
            "charge.expired",
            T + 7 * 86_400,
            DAHLIA,
            expired.object(DAHLIA),
        ),
    )
    .await;
    assert_eq!(
        row(&app, "pi_1").await.map(|r| r.0),
        Some("canceled".into())
    );

    // The same in the pinned version, where Stripe marks the charge refunded
    // in full, and for a canceled PaymentIntent.
    let legacy = Ch {
        id: "ch_2",
        pi: Some("pi_2"),
        refunded: true,
        amount_refunded: 1000,
        ..auth_charge(false, 0, 0)
    };
    send(
        &app,
        &stripe_event(
            "evt_3",
            "charge.refunded",
            T + 9,
            LEGACY,
            legacy.object(LEGACY),
        ),
    )
    .await;
    assert_eq!(
        row(&app, "pi_2").await.map(|r| (r.0, r.2)),
        Some(("canceled".into(), 0))
    );
    let canceled = Pi {
        id: "pi_3",
        latest_charge: None,
        ..manual_pi("canceled", 0, 0)
    };
    send(
        &app,
        &stripe_event(
            "evt_4",
            "payment_intent.canceled",
            T + 9,
            LEGACY,
            canceled.object(LEGACY),
        ),
    )
    .await;
    assert_eq!(
        row(&app, "pi_3").await.map(|r| r.0),
        Some("canceled".into())
    );
}

#[sqlx::test(migrations = false)]
async fn an_invoice_arriving_before_its_payment_waits_and_is_linked_when_it_comes(pool: PgPool) {
    let app = app(pool, Some(SECRET)).await;
    let paid = stripe_event(
        "evt_1",
        "invoice.paid",
        T + 5,
        LEGACY,
        invoice("in_1", "pi_1", LEGACY, false),
    );
    assert_eq!(send(&app, &paid).await, "waiting");
    assert_eq!(app.count("payments").await, 0);
    let succeeded = Pi {
        id: "pi_1",
        status: "succeeded",
        amount: 4900,
        received: 4900,
        capturable: 0,
        created: T,
        latest_charge: None,
    };
    assert_eq!(
        send(
            &app,
            &stripe_event(
                "evt_2",
                "payment_intent.succeeded",
                T + 5,
                LEGACY,
                succeeded.object(LEGACY)
            )
        )
        .await,
        "applied"
    );
    assert_eq!(
        row(&app, "pi_1").await.and_then(|r| r.4),
        Some("in_1".into())
    );
    let outcome: String =
        sqlx::query_scalar("SELECT outcome FROM metrics.stripe_events WHERE event_id = 'evt_1'")
            .fetch_one(&app.pool)
            .await
            .expect("recorded");
    assert_eq!(
        outcome, "applied",
        "the waiting event is applied with its payment"
    );
}

#[sqlx::test(migrations = false)]
async fn todays_shape_links_the_invoice_through_invoice_payments(pool: PgPool) {
    let app = app(pool, Some(SECRET)).await;
    // invoice.paid of today's shape names no payment unless its payments
    // are included; the link comes as invoice_payment.paid.
    let bare = stripe_event(
        "evt_1",
        "invoice.paid",
        T + 5,
        DAHLIA,
        invoice("in_1", "pi_1", DAHLIA, false),
    );
    assert_eq!(send(&app, &bare).await, "unchanged");
    let link = stripe_event(
        "evt_2",
        "invoice_payment.paid",
        T + 5,
        DAHLIA,
        invoice_payment("inpay_1", "in_1", "pi_1"),
    );
    assert_eq!(send(&app, &link).await, "waiting");
    let succeeded = Pi {
        id: "pi_1",
        status: "succeeded",
        amount: 4900,
        received: 4900,
        capturable: 0,
        created: T,
        latest_charge: None,
    };
    send(
        &app,
        &stripe_event(
            "evt_3",
            "payment_intent.succeeded",
            T + 5,
            DAHLIA,
            succeeded.object(DAHLIA),
        ),
    )
    .await;
    assert_eq!(
        row(&app, "pi_1").await.and_then(|r| r.4),
        Some("in_1".into())
    );

    // An invoice with its payments included links by itself.
    let with_payments = stripe_event(
        "evt_4",
        "invoice.paid",
        T + 6,
        DAHLIA,
        invoice("in_2", "pi_2", DAHLIA, true),
    );
    assert_eq!(send(&app, &with_payments).await, "waiting");
    let other = Pi {
        id: "pi_2",
        ..succeeded
    };
    send(
        &app,
        &stripe_event(
            "evt_5",
            "payment_intent.succeeded",
            T + 6,
            DAHLIA,
            other.object(DAHLIA),
        ),
    )
    .await;
    assert_eq!(
        row(&app, "pi_2").await.and_then(|r| r.4),
        Some("in_2".into())
    );
    let version: Option<String> = sqlx::query_scalar(
        "SELECT api_version FROM metrics.stripe_events WHERE event_id = 'evt_5'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("recorded");
    assert_eq!(
        version.as_deref(),
        Some(DAHLIA),
        "the version is stored with the event"
    );
}

#[sqlx::test(migrations = false)]
async fn the_payment_intents_own_date_wins_over_its_charges_whatever_the_order(pool: PgPool) {
    let app = app(pool, Some(SECRET)).await;
    // Created 2026-10-31 23:59:40 UTC; its charge 2026-11-01 00:00:20.
    let (pi_created, ch_created) = (1_793_491_180, 1_793_491_220);
    for (suffix, charge_first) in [("a", true), ("b", false)] {
        let (pi_id, ch_id) = (format!("pi_{suffix}"), format!("ch_{suffix}"));
        let pi = Pi {
            id: &pi_id,
            status: "succeeded",
            amount: 4900,
            received: 4900,
            capturable: 0,
            created: pi_created,
            latest_charge: Some(&ch_id),
        };
        let ch = Ch {
            id: &ch_id,
            pi: Some(&pi_id),
            amount: 4900,
            captured: true,
            amount_captured: 4900,
            amount_refunded: 0,
            refunded: false,
            status: "succeeded",
            created: ch_created,
        };
        let pi_event = stripe_event(
            &format!("evt_pi_{suffix}"),
            "payment_intent.succeeded",
            ch_created,
            LEGACY,
            pi.object(LEGACY),
        );
        let ch_event = stripe_event(
            &format!("evt_ch_{suffix}"),
            "charge.succeeded",
            ch_created,
            LEGACY,
            ch.object(LEGACY),
        );
        let order = if charge_first {
            [&ch_event, &pi_event]
        } else {
            [&pi_event, &ch_event]
        };
        for e in order {
            send(&app, e).await;
        }
        assert_eq!(
            row(&app, &pi_id).await.map(|r| r.3),
            Some(pi_created),
            "charge first: {charge_first}"
        );
    }
}

#[sqlx::test(migrations = false)]
async fn disputes_are_recorded_per_payment_and_net_revenue_subtracts_them(pool: PgPool) {
    let mut app = app(pool, Some(SECRET)).await;
    // 2025-11-10: paid; 2025-11-20: disputed, money withdrawn; 2025-12-15:
    // won, money reinstated.
    let (paid, withdrawn, reinstated) = (1_762_732_800, 1_763_596_800, 1_765_756_800);
    let pi = Pi {
        id: "pi_1",
        status: "succeeded",
        amount: 4900,
        received: 4900,
        capturable: 0,
        created: paid,
        latest_charge: Some("ch_1"),
    };
    let opened = stripe_event(
        "evt_d1",
        "charge.dispute.created",
        withdrawn,
        DAHLIA,
        dispute("dp_1", "ch_1", "pi_1", 4900, "needs_response", &[]),
    );
    assert_eq!(send(&app, &opened).await, "waiting", "no payment event yet");
    send(
        &app,
        &stripe_event(
            "evt_1",
            "payment_intent.succeeded",
            paid,
            DAHLIA,
            pi.object(DAHLIA),
        ),
    )
    .await;
    let taken = stripe_event(
        "evt_d2",
        "charge.dispute.funds_withdrawn",
        withdrawn,
        DAHLIA,
        dispute(
            "dp_1",
            "ch_1",
            "pi_1",
            4900,
            "needs_response",
            &[(withdrawn, -4900)],
        ),
    );
    assert_eq!(send(&app, &taken).await, "applied");

    let summary = |app: &mut TestApp| {
        let mut client = app.client.clone();
        async move {
            client
                .get_revenue_summary(growth_proto::metrics::v1::GetRevenueSummaryRequest {
                    month_from: "2025-11".into(),
                    month_to: "2025-12".into(),
                })
                .await
                .expect("summary")
                .into_inner()
                .months
                .into_iter()
                .map(|m| {
                    m.currencies
                        .into_iter()
                        .map(|c| {
                            (
                                c.gross_revenue_minor,
                                c.refunds_minor,
                                c.disputes_minor,
                                c.net_revenue_minor,
                            )
                        })
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(summary(&mut app).await, [vec![(4900, 0, 4900, 0)], vec![]]);

    let won = stripe_event(
        "evt_d3",
        "charge.dispute.funds_reinstated",
        reinstated,
        DAHLIA,
        dispute(
            "dp_1",
            "ch_1",
            "pi_1",
            4900,
            "won",
            &[(withdrawn, -4900), (reinstated, 4900)],
        ),
    );
    send(&app, &won).await;
    let closed = stripe_event(
        "evt_d4",
        "charge.dispute.closed",
        reinstated,
        DAHLIA,
        dispute(
            "dp_1",
            "ch_1",
            "pi_1",
            4900,
            "won",
            &[(withdrawn, -4900), (reinstated, 4900)],
        ),
    );
    send(&app, &closed).await;
    assert_eq!(
        summary(&mut app).await,
        [vec![(4900, 0, 4900, 0)], vec![(0, 0, -4900, 4900)]]
    );
    let stored: (String, String, i64, i64) = sqlx::query_as(
        "SELECT status, reason, withdrawn_minor, reinstated_minor FROM metrics.payment_disputes WHERE dispute_id = 'dp_1'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("dispute row");
    assert_eq!(stored, ("won".into(), "fraudulent".into(), 4900, 4900));
    let waiting: i64 =
        sqlx::query_scalar("SELECT count(*) FROM metrics.stripe_events WHERE outcome = 'waiting'")
            .fetch_one(&app.pool)
            .await
            .expect("count");
    assert_eq!(waiting, 0);
}
