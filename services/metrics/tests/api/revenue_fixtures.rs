//! Subscription states for the revenue tests: a monthly state, a status
//! change, importing them, the worked example of docs/METRICS.md, and the
//! summary reads with their accessors.

// Test code: a panic with the value is the failure report.
#![allow(clippy::unwrap_used)]

use growth_proto::common::v1::Money;
use growth_proto::metrics::v1::{self as pb, BillingInterval, SubscriptionStatus};

use crate::helpers::*;

/// A monthly ACTIVE state of `sub` for `user`, started at `started`.
pub fn state(
    sub: &str,
    user: &str,
    amount: i64,
    currency: &str,
    started: &str,
    effective: &str,
) -> pb::Subscription {
    pb::Subscription {
        stripe_subscription_id: sub.into(),
        stripe_customer: format!("cus_{user}"),
        user_id: user.into(),
        plan: format!("plan-{amount}"),
        amount: Some(Money {
            amount_minor: amount,
            currency: currency.into(),
        }),
        quantity: 1,
        interval: BillingInterval::Month as i32,
        interval_count: 1,
        status: SubscriptionStatus::Active as i32,
        started_at: ts(at(started)),
        ended_at: None,
        effective_at: ts(at(effective)),
    }
}

pub fn with_status(mut s: pb::Subscription, status: SubscriptionStatus) -> pb::Subscription {
    s.status = status as i32;
    if status == SubscriptionStatus::Canceled {
        s.ended_at = s.effective_at;
    }
    s
}

pub async fn import(
    app: &mut TestApp,
    subscriptions: Vec<pb::Subscription>,
) -> pb::ImportSubscriptionsResponse {
    app.client
        .import_subscriptions(pb::ImportSubscriptionsRequest { subscriptions })
        .await
        .expect("import succeeds")
        .into_inner()
}

/// The history of docs/METRICS.md's worked example (all times UTC):
///
/// - a: 1,000 USD from Jan 10; quantity 2 on Feb 15 (2,000); 1,500 on Mar 20.
/// - b: 3,000 USD from Jan 5, canceled Feb 10; a new subscription of 2,500
///   on Apr 5.
/// - c: trialing from Feb 1, active at 5,000 USD on Feb 15.
/// - d: an annual plan, 120,000 USD a year (10,000 a month) from Mar 10.
/// - e: 900 EUR from Jan 20, canceled Mar 5.
/// - f: 2,000 USD from Jan 1, canceled Mar 5, a new subscription of 2,000 on
///   Mar 25 (nets out within March).
/// - g: 700 USD from Jan 1, past due Feb 3 (still MRR), unpaid Feb 20.
pub async fn history(app: &mut TestApp) {
    upsert(
        app,
        ["a", "b", "c", "d", "e", "f", "g"]
            .into_iter()
            .map(user)
            .collect(),
    )
    .await;
    let jan10 = "2025-01-10T09:00:00Z";
    let mut a2 = state("sub_a", "a", 1000, "usd", jan10, "2025-02-15T12:00:00Z");
    a2.quantity = 2;
    let trial = with_status(
        state(
            "sub_c",
            "c",
            5000,
            "usd",
            "2025-02-01T00:00:00Z",
            "2025-02-01T00:00:00Z",
        ),
        SubscriptionStatus::Trialing,
    );
    let mut annual = state(
        "sub_d",
        "d",
        120_000,
        "usd",
        "2025-03-10T08:00:00Z",
        "2025-03-10T08:00:00Z",
    );
    annual.interval = BillingInterval::Year as i32;
    annual.plan = "annual".into();
    let mut e = state(
        "sub_e",
        "e",
        900,
        "EUR",
        "2025-01-20T10:00:00Z",
        "2025-01-20T10:00:00Z",
    );
    e.plan = "basic-eur".into();
    let mut e_end = e.clone();
    e_end.effective_at = ts(at("2025-03-05T10:00:00Z"));
    let r = import(
        app,
        vec![
            // Out of order on purpose: states are applied in effective_at order.
            state("sub_a", "a", 1500, "usd", jan10, "2025-03-20T12:00:00Z"),
            state("sub_a", "a", 1000, "usd", jan10, jan10),
            a2,
            state(
                "sub_b",
                "b",
                3000,
                "usd",
                "2025-01-05T00:00:00Z",
                "2025-01-05T00:00:00Z",
            ),
            with_status(
                state(
                    "sub_b",
                    "b",
                    3000,
                    "usd",
                    "2025-01-05T00:00:00Z",
                    "2025-02-10T00:00:00Z",
                ),
                SubscriptionStatus::Canceled,
            ),
            state(
                "sub_b2",
                "b",
                2500,
                "usd",
                "2025-04-05T00:00:00Z",
                "2025-04-05T00:00:00Z",
            ),
            trial,
            state(
                "sub_c",
                "c",
                5000,
                "usd",
                "2025-02-01T00:00:00Z",
                "2025-02-15T00:00:00Z",
            ),
            annual,
            e,
            with_status(e_end, SubscriptionStatus::Canceled),
            state(
                "sub_f",
                "f",
                2000,
                "usd",
                "2025-01-01T00:00:00Z",
                "2025-01-01T00:00:00Z",
            ),
            with_status(
                state(
                    "sub_f",
                    "f",
                    2000,
                    "usd",
                    "2025-01-01T00:00:00Z",
                    "2025-03-05T00:00:00Z",
                ),
                SubscriptionStatus::Canceled,
            ),
            state(
                "sub_f2",
                "f",
                2000,
                "usd",
                "2025-03-25T00:00:00Z",
                "2025-03-25T00:00:00Z",
            ),
            state(
                "sub_g",
                "g",
                700,
                "usd",
                "2025-01-01T00:00:00Z",
                "2025-01-01T00:00:00Z",
            ),
            with_status(
                state(
                    "sub_g",
                    "g",
                    700,
                    "usd",
                    "2025-01-01T00:00:00Z",
                    "2025-02-03T00:00:00Z",
                ),
                SubscriptionStatus::PastDue,
            ),
            with_status(
                state(
                    "sub_g",
                    "g",
                    700,
                    "usd",
                    "2025-01-01T00:00:00Z",
                    "2025-02-20T00:00:00Z",
                ),
                SubscriptionStatus::Unpaid,
            ),
        ],
    )
    .await;
    assert_eq!((r.recorded, r.unchanged, r.stale), (17, 0, 0));
}

pub async fn summary(app: &mut TestApp, from: &str, to: &str) -> pb::GetRevenueSummaryResponse {
    app.client
        .get_revenue_summary(pb::GetRevenueSummaryRequest {
            month_from: from.into(),
            month_to: to.into(),
        })
        .await
        .expect("summary")
        .into_inner()
}

pub fn currency<'a>(m: &'a pb::MonthlyRevenue, code: &str) -> &'a pb::MrrMovements {
    m.currencies
        .iter()
        .find(|c| c.currency == code)
        .unwrap_or_else(|| panic!("no {code} in {}", m.month))
}

/// (start, new, expansion, contraction, churned, reactivation, end)
pub fn moves(c: &pb::MrrMovements) -> [i64; 7] {
    [
        c.mrr_at_start_minor,
        c.new_minor,
        c.expansion_minor,
        c.contraction_minor,
        c.churned_minor,
        c.reactivation_minor,
        c.mrr_minor,
    ]
}

pub fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}
