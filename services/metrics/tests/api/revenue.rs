//! MRR movements and churn from subscription history (importing it is in
//! `subscription_import`): every movement on a constructed history
//! with the numbers computed by hand (an annual plan normalised, two
//! currencies kept apart); NRR and GRR; the churn report; bad months.

// Test code: a panic with the value is the failure report.
#![allow(clippy::unwrap_used)]

use chrono::Utc;
use growth_proto::common::v1::Money;
use growth_proto::metrics::v1 as pb;
use sqlx::PgPool;
use tonic::Code;

use crate::helpers::*;
use crate::revenue_fixtures::*;

#[sqlx::test(migrations = false)]
async fn every_movement_matches_the_history_computed_by_hand(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    history(&mut app).await;
    let r = summary(&mut app, "2025-02", "2025-04").await;
    assert_eq!(r.time_zone, "UTC");
    let months: Vec<&str> = r.months.iter().map(|m| m.month.as_str()).collect();
    assert_eq!(months, ["2025-02", "2025-03", "2025-04"]);

    // February, USD: start a 1,000 + b 3,000 + f 2,000 + g 700 = 6,700.
    // c is new (5,000), a expands (+1,000), b and g churn (3,000 + 700);
    // end a 2,000 + c 5,000 + f 2,000 = 9,000.
    let feb = currency(&r.months[0], "usd");
    assert_eq!(moves(feb), [6700, 5000, 1000, 0, 3700, 0, 9000]);
    assert_eq!(feb.net_new_minor, 2300);
    assert_eq!(feb.arr_minor, 108_000);
    assert_eq!((feb.customers, feb.active_subscriptions), (3, 3));
    assert!(close(feb.net_revenue_retention, 4000.0 / 6700.0), "{feb:?}");
    assert!(
        close(feb.gross_revenue_retention, 3000.0 / 6700.0),
        "{feb:?}"
    );
    // EUR is kept apart: e pays 900 throughout February.
    let feb_eur = currency(&r.months[0], "eur");
    assert_eq!(moves(feb_eur), [900, 0, 0, 0, 0, 0, 900]);
    assert!(
        close(feb_eur.net_revenue_retention, 1.0) && close(feb_eur.gross_revenue_retention, 1.0)
    );

    // March, USD: d's annual 120,000 is 10,000 a month (new); a contracts by
    // 500; f cancels and comes back within the month (nets out).
    let mar = currency(&r.months[1], "usd");
    assert_eq!(moves(mar), [9000, 10_000, 0, 500, 0, 0, 18_500]);
    assert_eq!((mar.customers, mar.active_subscriptions), (4, 4));
    assert!(close(mar.net_revenue_retention, 8500.0 / 9000.0));
    assert!(close(mar.gross_revenue_retention, 8500.0 / 9000.0));
    let mar_eur = currency(&r.months[1], "eur");
    assert_eq!(moves(mar_eur), [900, 0, 0, 0, 900, 0, 0]);
    assert_eq!(mar_eur.customers, 0);
    assert!(
        close(mar_eur.net_revenue_retention, 0.0) && close(mar_eur.gross_revenue_retention, 0.0)
    );

    // April: b returns with a new subscription (reactivation, not new); no
    // EUR customer is left, so EUR has no entry.
    assert_eq!(r.months[2].currencies.len(), 1);
    let apr = currency(&r.months[2], "usd");
    assert_eq!(moves(apr), [18_500, 0, 0, 0, 0, 2500, 21_000]);
    assert!(close(apr.net_revenue_retention, 1.0));

    // A month before any subscription has no currencies. The end of a month
    // is the instant the next one starts, so f and g (from 2025-01-01
    // 00:00) are new in December.
    let early = summary(&mut app, "2024-11", "2024-12").await;
    assert!(early.months[0].currencies.is_empty());
    assert_eq!(
        moves(currency(&early.months[1], "usd")),
        [0, 2700, 0, 0, 0, 0, 2700]
    );
    let one = summary(&mut app, "2025-03", "").await;
    assert_eq!(moves(currency(&one.months[0], "usd")), moves(mar));

    // Activity shows each user's current MRR from the latest states.
    let activity = app
        .client
        .get_user_activity(pb::GetUserActivityRequest {
            user_ids: vec!["a".into(), "d".into(), "e".into()],
            page: None,
        })
        .await
        .unwrap()
        .into_inner();
    type UserMrr = (String, Vec<(i64, String)>, bool);
    let mrr: Vec<UserMrr> = activity
        .users
        .into_iter()
        .map(|u| {
            let money = u
                .mrr
                .into_iter()
                .map(|m| (m.amount_minor, m.currency))
                .collect();
            (u.user_id, money, u.paying)
        })
        .collect();
    assert_eq!(
        mrr,
        [
            ("a".into(), vec![(1500, "usd".into())], true),
            ("d".into(), vec![(10_000, "usd".into())], true),
            ("e".into(), vec![], false),
        ]
    );
}

#[sqlx::test(migrations = false)]
async fn the_churn_report_lists_who_stopped_paying(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    history(&mut app).await;
    let feb = app
        .client
        .get_churn_report(pb::GetChurnReportRequest {
            month: "2025-02".into(),
        })
        .await
        .unwrap()
        .into_inner();
    // At the start: a, b, f, g (USD) and e (EUR); b and g stop paying (g's
    // past-due state still counted until it became unpaid).
    assert_eq!(
        (feb.month.as_str(), feb.time_zone.as_str()),
        ("2025-02", "UTC")
    );
    assert_eq!((feb.customers_at_start, feb.customers_churned), (5, 2));
    assert!(close(feb.customer_churn_rate, 0.4));
    let money = |m: &[Money]| -> Vec<(String, i64)> {
        m.iter()
            .map(|m| (m.currency.clone(), m.amount_minor))
            .collect()
    };
    assert_eq!(
        money(&feb.mrr_at_start),
        [("eur".into(), 900), ("usd".into(), 6700)]
    );
    assert_eq!(
        money(&feb.mrr_churned),
        [("eur".into(), 0), ("usd".into(), 3700)]
    );
    let churned: Vec<(&str, &str, &str, i64, i64)> = feb
        .churned_customers
        .iter()
        .map(|c| {
            let m = c.mrr.as_ref().unwrap();
            (
                c.user_id.as_str(),
                c.email.as_str(),
                c.plan.as_str(),
                m.amount_minor,
                c.churned_at.as_ref().unwrap().seconds,
            )
        })
        .collect();
    assert_eq!(
        churned,
        [
            (
                "b",
                "b@example.com",
                "plan-3000",
                3000,
                at("2025-02-10T00:00:00Z").timestamp()
            ),
            (
                "g",
                "g@example.com",
                "plan-700",
                700,
                at("2025-02-20T00:00:00Z").timestamp()
            ),
        ]
    );

    // March: f cancels and returns within the month, so only e churns.
    let mar = app
        .client
        .get_churn_report(pb::GetChurnReportRequest {
            month: "2025-03".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((mar.customers_at_start, mar.customers_churned), (4, 1));
    assert!(close(mar.customer_churn_rate, 0.25));
    assert_eq!(
        money(&mar.mrr_churned),
        [("eur".into(), 900), ("usd".into(), 0)]
    );
    assert_eq!(mar.churned_customers.len(), 1);
    let e = &mar.churned_customers[0];
    assert_eq!((e.user_id.as_str(), e.plan.as_str()), ("e", "basic-eur"));
    assert_eq!(
        e.mrr,
        Some(Money {
            amount_minor: 900,
            currency: "eur".into()
        })
    );
}

#[sqlx::test(migrations = false)]
async fn months_are_cut_in_the_reporting_time_zone(pool: PgPool) {
    let args = metrics_svc::config::MetricsArgs {
        reporting_time_zone: "America/New_York".into(),
        ..metrics_svc::config::MetricsArgs::default()
    };
    let mut app = spawn_app_with(pool, args).await;
    upsert(&mut app, vec![user("u1")]).await;
    // 2025-03-01T03:00Z is still February 28 in New York.
    import(
        &mut app,
        vec![state(
            "sub_1",
            "u1",
            4900,
            "usd",
            "2025-03-01T03:00:00Z",
            "2025-03-01T03:00:00Z",
        )],
    )
    .await;
    let r = summary(&mut app, "2025-02", "2025-03").await;
    assert_eq!(r.time_zone, "America/New_York");
    assert_eq!(currency(&r.months[0], "usd").new_minor, 4900);
    assert_eq!(
        moves(currency(&r.months[1], "usd")),
        [4900, 0, 0, 0, 0, 0, 4900]
    );
}

#[sqlx::test(migrations = false)]
async fn a_month_starts_at_the_first_instant_of_its_ambiguous_local_midnight(pool: PgPool) {
    // On 2026-11-01 Cuba's clocks go back from 01:00 to 00:00: local
    // midnight happens twice, first at 04:00Z. November starts then.
    let args = metrics_svc::config::MetricsArgs {
        reporting_time_zone: "America/Havana".into(),
        ..metrics_svc::config::MetricsArgs::default()
    };
    let mut app = spawn_app_with(pool, args).await;
    upsert(&mut app, vec![user("u1")]).await;
    let active = state(
        "sub_1",
        "u1",
        4900,
        "usd",
        "2026-10-15T12:00:00Z",
        "2026-10-15T12:00:00Z",
    );
    // Canceled at 00:30 local of November 1st (the first reading).
    let mut canceled = with_status(active.clone(), pb::SubscriptionStatus::Canceled);
    canceled.effective_at = ts(at("2026-11-01T04:30:00Z"));
    canceled.ended_at = canceled.effective_at;
    import(&mut app, vec![active, canceled]).await;
    let r = summary(&mut app, "2026-10", "2026-11").await;
    assert_eq!(
        moves(currency(&r.months[0], "usd")),
        [0, 4900, 0, 0, 0, 0, 4900],
        "October ends with the subscription"
    );
    assert_eq!(
        moves(currency(&r.months[1], "usd")),
        [4900, 0, 0, 0, 4900, 0, 0],
        "November churns it"
    );
}

#[sqlx::test(migrations = false)]
async fn a_customer_who_changes_currency_then_cancels_is_reported_whole(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    upsert(&mut app, vec![user("u1"), user("u2"), user("u3")]).await;
    let usd = state(
        "sub_1",
        "u1",
        7900,
        "usd",
        "2026-07-01T00:00:00Z",
        "2026-07-01T00:00:00Z",
    );
    let mut eur = state(
        "sub_1",
        "u1",
        6900,
        "eur",
        "2026-07-01T00:00:00Z",
        "2026-08-10T00:00:00Z",
    );
    eur.plan = "plan-eur".into();
    let mut canceled = with_status(eur.clone(), pb::SubscriptionStatus::Canceled);
    canceled.effective_at = ts(at("2026-08-20T00:00:00Z"));
    canceled.ended_at = canceled.effective_at;
    // Two more churned customers: amounts in different currencies are not
    // compared (by minor units, 150 JPY would come last, 20,000 JPY above
    // 199.00 USD).
    let yen = state(
        "sub_2",
        "u2",
        150,
        "jpy",
        "2026-07-01T00:00:00Z",
        "2026-07-01T00:00:00Z",
    );
    let dollars = state(
        "sub_3",
        "u3",
        19900,
        "usd",
        "2026-07-01T00:00:00Z",
        "2026-07-01T00:00:00Z",
    );
    let ended = |s: &pb::Subscription| {
        let mut c = with_status(s.clone(), pb::SubscriptionStatus::Canceled);
        c.effective_at = ts(at("2026-08-05T00:00:00Z"));
        c.ended_at = c.effective_at;
        c
    };
    let (yen_ended, dollars_ended) = (ended(&yen), ended(&dollars));
    import(
        &mut app,
        vec![usd, eur, canceled, yen, yen_ended, dollars, dollars_ended],
    )
    .await;
    let aug = app
        .client
        .get_churn_report(pb::GetChurnReportRequest {
            month: "2026-08".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let churned: Vec<(&str, &str, String, i64)> = aug
        .churned_customers
        .iter()
        .map(|c| {
            let m = c.mrr.as_ref().unwrap();
            (
                c.user_id.as_str(),
                c.plan.as_str(),
                m.currency.clone(),
                c.churned_at.as_ref().map_or(0, |t| t.seconds),
            )
        })
        .collect();
    assert_eq!(
        churned,
        [
            (
                "u2",
                "plan-150",
                "jpy".to_owned(),
                at("2026-08-05T00:00:00Z").timestamp()
            ),
            (
                "u3",
                "plan-19900",
                "usd".to_owned(),
                at("2026-08-05T00:00:00Z").timestamp()
            ),
            (
                "u1",
                "plan-7900",
                "usd".to_owned(),
                at("2026-08-20T00:00:00Z").timestamp()
            ),
        ]
    );
}

#[sqlx::test(migrations = false)]
async fn bad_months_are_refused_naming_the_field(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    let next_year = (Utc::now() + chrono::Duration::days(400))
        .format("%Y-%m")
        .to_string();
    for (from, to, field, reason) in [
        (
            "2025-13",
            "",
            "month_from",
            "is not a month: expected YYYY-MM",
        ),
        ("", "", "month_from", "is required (YYYY-MM)"),
        (
            "2025-01",
            "Jan",
            "month_to",
            "is not a month: expected YYYY-MM",
        ),
        (
            "2025-05",
            "2025-04",
            "month_from",
            "2025-05 is after month_to 2025-04",
        ),
        (
            "2010-01",
            "2020-02",
            "month_to",
            "121 months after month_from 2010-01",
        ),
        (
            "2025-01",
            next_year.as_str(),
            "month_to",
            "is in the future",
        ),
    ] {
        let status = app
            .client
            .get_revenue_summary(pb::GetRevenueSummaryRequest {
                month_from: from.into(),
                month_to: to.into(),
            })
            .await
            .expect_err("bad months");
        assert_eq!(status.code(), Code::InvalidArgument, "{from}..{to}");
        assert!(
            status.message().starts_with(&format!("{field}: "))
                && status.message().contains(reason),
            "{from}..{to}: {}",
            status.message()
        );
    }
    for (month, reason) in [
        ("2025/03", "month: \"2025/03\" is not a month"),
        (next_year.as_str(), "is in the future"),
    ] {
        let status = app
            .client
            .get_churn_report(pb::GetChurnReportRequest {
                month: month.into(),
            })
            .await
            .expect_err("bad month");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().contains(reason), "{}", status.message());
    }
    // 120 months after the first is the most allowed.
    let r = summary(&mut app, "2010-01", "2020-01").await;
    assert_eq!(r.months.len(), 121);
}
