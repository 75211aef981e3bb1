//! Revenue cells (payments in their period, refunds in theirs, per
//! currency), payments marking their cohorts for the incremental refresh,
//! breakdowns by plan and attribute, and the cohort overview.

// Test code: a panic with the value is the failure report.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Utc};
use growth_proto::common::v1::{Granularity, Money};
use growth_proto::metrics::v1::{self as pb, PaymentStatus, RetentionMetric, RetentionMode};
use sqlx::PgPool;
use tonic::Code;

use crate::helpers::*;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn member(id: &str, signup: &str, plan: &str, attributes: &str) -> pb::User {
    pb::User {
        signup_at: ts(at(signup)),
        plan: plan.into(),
        attributes_json: attributes.into(),
        ..user(id)
    }
}

fn paid(id: &str, user: &str, amount: i64, currency: &str, when: &str) -> pb::Payment {
    pb::Payment {
        stripe_id: id.into(),
        user_id: user.into(),
        amount: Some(Money {
            amount_minor: amount,
            currency: currency.into(),
        }),
        status: PaymentStatus::Succeeded as i32,
        created_at: ts(at(when)),
        ..Default::default()
    }
}

fn refunded(p: pb::Payment, minor: i64, when: Option<&str>) -> pb::Payment {
    let full = p.amount.as_ref().unwrap().amount_minor == minor;
    pb::Payment {
        status: if full {
            PaymentStatus::Refunded
        } else {
            PaymentStatus::PartiallyRefunded
        } as i32,
        refunded_minor: minor,
        refunded_at: when.and_then(|w| ts(at(w))),
        ..p
    }
}

async fn import(app: &mut TestApp, payments: Vec<pb::Payment>) {
    app.client
        .import_payments(pb::ImportPaymentsRequest { payments })
        .await
        .expect("import");
}

async fn refresh(app: &mut TestApp, full: bool) -> pb::RefreshCohortsResponse {
    app.client
        .refresh_cohorts(pb::RefreshCohortsRequest {
            full,
            ..Default::default()
        })
        .await
        .expect("refresh")
        .into_inner()
}

async fn matrix(
    app: &mut TestApp,
    g: Granularity,
    metric: RetentionMetric,
    mode: RetentionMode,
    breakdown: &str,
) -> Result<pb::GetRetentionMatrixResponse, tonic::Status> {
    app.client
        .get_retention_matrix(pb::GetRetentionMatrixRequest {
            granularity: g as i32,
            metric: metric as i32,
            mode: mode as i32,
            breakdown: breakdown.into(),
            ..Default::default()
        })
        .await
        .map(tonic::Response::into_inner)
}

/// Revenue of `currency` per offset of a row.
fn money(row: &pb::CohortRow, currency: &str) -> Vec<i64> {
    row.cells
        .iter()
        .map(|c| {
            c.revenue
                .iter()
                .find(|m| m.currency == currency)
                .map_or(0, |m| m.amount_minor)
        })
        .collect()
}

/// Two users of the March 2025 month cohort; a pays in March and April (in
/// dollars) and once in euros; b's April payment is half refunded in May,
/// a failed payment never counts.
async fn march(app: &mut TestApp) {
    upsert(
        app,
        vec![
            member("a", "2025-03-05T09:00:00Z", "pro", r#"{"country":"DE"}"#),
            member("b", "2025-03-20T09:00:00Z", "free", r#"{"country":"FR"}"#),
        ],
    )
    .await;
    import(
        app,
        vec![
            paid("pi_a1", "a", 4900, "usd", "2025-03-05T10:00:00Z"),
            paid("pi_a2", "a", 4900, "usd", "2025-04-05T10:00:00Z"),
            paid("pi_a3", "a", 1000, "eur", "2025-03-06T10:00:00Z"),
            refunded(
                paid("pi_b1", "b", 9900, "usd", "2025-04-02T10:00:00Z"),
                5000,
                Some("2025-05-10T10:00:00Z"),
            ),
            pb::Payment {
                status: PaymentStatus::Failed as i32,
                ..paid("pi_b2", "b", 9900, "usd", "2025-03-21T10:00:00Z")
            },
        ],
    )
    .await;
}

#[sqlx::test(migrations = false)]
async fn revenue_cells_count_payments_and_refunds_in_their_own_periods(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    march(&mut app).await;
    refresh(&mut app, true).await;

    let on = matrix(
        &mut app,
        Granularity::Month,
        RetentionMetric::Revenue,
        RetentionMode::On,
        "",
    )
    .await
    .unwrap();
    assert_eq!(on.metric, RetentionMetric::Revenue as i32);
    let row = on.rows.iter().find(|r| r.cohort == "2025-03-01").unwrap();
    assert_eq!(row.cohort_size, 2);
    assert_eq!(money(row, "usd")[..4], [4900, 4900 + 9900, -5000, 0]);
    assert_eq!(money(row, "eur")[..2], [1000, 0]);
    // Users are still there beside the money.
    assert_eq!(row.cells[0].retained_users, 0, "no events were tracked");

    let after = matrix(
        &mut app,
        Granularity::Month,
        RetentionMetric::Revenue,
        RetentionMode::OnOrAfter,
        "",
    )
    .await
    .unwrap();
    let row = after
        .rows
        .iter()
        .find(|r| r.cohort == "2025-03-01")
        .unwrap();
    assert_eq!(
        money(row, "usd")[..4],
        [4900 + 4900 + 9900 - 5000, 4900 + 9900 - 5000, -5000, 0]
    );

    // Weeks: a's cohort week starts Monday 2025-03-03, b's 2025-03-17.
    let weeks = matrix(
        &mut app,
        Granularity::Week,
        RetentionMetric::Revenue,
        RetentionMode::On,
        "",
    )
    .await
    .unwrap();
    let b = weeks
        .rows
        .iter()
        .find(|r| r.cohort == "2025-03-17")
        .unwrap();
    let usd = money(b, "usd");
    assert_eq!(
        (usd[2], usd[7]),
        (9900, -5000),
        "2025-04-02 is week 2, 05-10 week 7"
    );
    assert_eq!(usd.iter().sum::<i64>(), 4900, "and nothing else");

    // The users metric carries no money.
    let users = matrix(
        &mut app,
        Granularity::Month,
        RetentionMetric::Users,
        RetentionMode::On,
        "",
    )
    .await
    .unwrap();
    assert!(
        users
            .rows
            .iter()
            .all(|r| r.cells.iter().all(|c| c.revenue.is_empty()))
    );
}

#[sqlx::test(migrations = false)]
async fn a_payment_marks_only_its_users_cohorts_for_the_incremental_refresh(pool: PgPool) {
    let mut app = spawn_app(pool.clone()).await;
    march(&mut app).await;
    upsert(
        &mut app,
        vec![member("z", "2025-06-10T09:00:00Z", "free", "{}")],
    )
    .await;
    refresh(&mut app, true).await;
    let nothing = refresh(&mut app, false).await;
    assert_eq!(nothing.cohorts_refreshed, 0);

    // A refund of a's March payment, learned now, without a time: it counts
    // now, far past the matrix, so only the "on or after" totals move.
    import(
        &mut app,
        vec![refunded(
            paid("pi_a1", "a", 4900, "usd", "2025-03-05T10:00:00Z"),
            4900,
            None,
        )],
    )
    .await;
    let refunded_at: DateTime<Utc> = sqlx::query_scalar(
        "SELECT refunded_at FROM metrics.payment_refunds WHERE amount_minor = 4900",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!((Utc::now() - refunded_at).num_minutes() < 5);
    // Refreshing the user cells alone leaves the change for the next
    // incremental refresh.
    let users_only = app
        .client
        .refresh_cohorts(pb::RefreshCohortsRequest {
            full: true,
            metric: RetentionMetric::Users as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(users_only.cells_written, 0, "no user cell changed");
    let late = refresh(&mut app, false).await;
    assert_eq!(late.cohorts_refreshed, 3, "a's day, week and month cohorts");
    let after = matrix(
        &mut app,
        Granularity::Month,
        RetentionMetric::Revenue,
        RetentionMode::OnOrAfter,
        "",
    )
    .await
    .unwrap();
    let row = after
        .rows
        .iter()
        .find(|r| r.cohort == "2025-03-01")
        .unwrap();
    assert_eq!(money(row, "usd")[0], 4900 + 9900 - 5000);

    // Re-importing the same row changes nothing and marks nothing.
    import(
        &mut app,
        vec![refunded(
            paid("pi_a1", "a", 4900, "usd", "2025-03-05T10:00:00Z"),
            4900,
            None,
        )],
    )
    .await;
    assert_eq!(refresh(&mut app, false).await.cohorts_refreshed, 0);
    let sums: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT p.refunded_minor, coalesce(sum(r.amount_minor), 0)::bigint
         FROM metrics.payments p LEFT JOIN metrics.payment_refunds r USING (payment_id)
         GROUP BY p.payment_id, p.refunded_minor",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(sums.iter().all(|(a, b)| a == b), "{sums:?}");

    // A corrected signup moves a (and its revenue) to June: the incremental
    // refresh ends where a full one would.
    upsert(
        &mut app,
        vec![member("a", "2025-06-03T09:00:00Z", "pro", "{}")],
    )
    .await;
    refresh(&mut app, false).await;
    let check = app
        .client
        .refresh_cohorts(pb::RefreshCohortsRequest {
            full: true,
            dry_run: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(check.cells_written, 0, "{check:?}");
    let june = matrix(
        &mut app,
        Granularity::Month,
        RetentionMetric::Revenue,
        RetentionMode::OnOrAfter,
        "",
    )
    .await
    .unwrap();
    let row = june.rows.iter().find(|r| r.cohort == "2025-06-01").unwrap();
    assert_eq!(money(row, "eur")[0], 1000, "a's euros moved with a");

    // The marking trigger draws positions under the same lock as ingest.
    let body: String =
        sqlx::query_scalar("SELECT pg_get_functiondef('metrics.mark_payment_cohorts'::regproc)")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(body.contains(&format!(
        "pg_advisory_xact_lock({})",
        metrics_svc::repo::events::FEED_LOCK
    )));
}

#[sqlx::test(migrations = false)]
async fn breakdowns_split_cohorts_by_plan_or_attribute_and_cap_the_values(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    march(&mut app).await;
    track(
        &mut app,
        vec![pb::Event {
            occurred_at: ts(at("2025-04-01T10:00:00Z")),
            ..event("e1", "a")
        }],
    )
    .await;
    refresh(&mut app, true).await;

    let by_plan = matrix(
        &mut app,
        Granularity::Month,
        RetentionMetric::Revenue,
        RetentionMode::On,
        "plan",
    )
    .await
    .unwrap();
    let segments: Vec<(&str, &str, i64)> = by_plan
        .rows
        .iter()
        .map(|r| (r.cohort.as_str(), r.segment.as_str(), r.cohort_size))
        .collect();
    assert_eq!(
        segments,
        [("2025-03-01", "free", 1), ("2025-03-01", "pro", 1)]
    );
    let pro = &by_plan.rows[1];
    assert_eq!(pro.cells[1].retained_users, 1, "a was active in April");
    assert_eq!(money(pro, "usd")[..2], [4900, 4900]);
    assert_eq!(money(&by_plan.rows[0], "usd")[..3], [0, 9900, -5000]);

    let by_country = matrix(
        &mut app,
        Granularity::Month,
        RetentionMetric::Users,
        RetentionMode::On,
        "attributes.country",
    )
    .await
    .unwrap();
    let names: Vec<&str> = by_country.rows.iter().map(|r| r.segment.as_str()).collect();
    assert_eq!(names, ["DE", "FR"]);

    // Twelve more values in April: ten keep their names, the rest are
    // "other", users without the key "(none)".
    let mut more: Vec<pb::User> = (0..12)
        .map(|i| {
            member(
                &format!("c{i}"),
                "2025-04-10T09:00:00Z",
                "free",
                &format!(r#"{{"country":"C{i:02}"}}"#),
            )
        })
        .collect();
    more.push(member(
        "c12",
        "2025-04-10T09:00:00Z",
        "free",
        r#"{"country":"C00"}"#,
    ));
    more.push(member("n", "2025-04-10T09:00:00Z", "free", "{}"));
    upsert(&mut app, more).await;
    refresh(&mut app, false).await;
    let capped = matrix(
        &mut app,
        Granularity::Month,
        RetentionMetric::Users,
        RetentionMode::On,
        "attributes.country",
    )
    .await
    .unwrap();
    let april: Vec<(&str, i64)> = capped
        .rows
        .iter()
        .filter(|r| r.cohort == "2025-04-01")
        .map(|r| (r.segment.as_str(), r.cohort_size))
        .collect();
    assert_eq!(april.len(), 12, "{april:?}");
    assert_eq!(april[0], ("C00", 2));
    // C00 has two users; the ties of one rank by name, so C10, C11 (and DE
    // and FR, in March) are "other".
    assert_eq!(april[9], ("C09", 1));
    assert_eq!(april[10], ("other", 2));
    assert_eq!(april[11], ("(none)", 1));

    for (breakdown, message) in [
        (
            "attributes.shoe_size",
            "breakdown: no user has the attribute \"shoe_size\"",
        ),
        (
            "country",
            "breakdown: must be \"plan\" or \"attributes.<key>\", got \"country\"",
        ),
    ] {
        let status = matrix(
            &mut app,
            Granularity::Month,
            RetentionMetric::Users,
            RetentionMode::On,
            breakdown,
        )
        .await
        .unwrap_err();
        assert_eq!(
            (status.code(), status.message()),
            (Code::InvalidArgument, message)
        );
    }
}

#[sqlx::test(migrations = false)]
async fn the_overview_gives_size_conversion_revenue_and_checkpoints(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    march(&mut app).await;
    upsert(
        &mut app,
        vec![member("c", "2025-03-25T09:00:00Z", "free", "{}")],
    )
    .await;
    track(
        &mut app,
        vec![pb::Event {
            occurred_at: ts(at("2025-04-01T10:00:00Z")),
            ..event("e1", "a")
        }],
    )
    .await;
    refresh(&mut app, true).await;
    let overview = app
        .client
        .get_cohort_overview(pb::GetCohortOverviewRequest {
            granularity: Granularity::Month as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(overview.time_zone, "UTC");
    let march = &overview.rows[0];
    assert_eq!(
        (march.cohort.as_str(), march.users, march.paying_users),
        ("2025-03-01", 3, 2)
    );
    assert!((march.conversion_rate - 2.0 / 3.0).abs() < 1e-9);
    let usd = march.revenue.iter().find(|m| m.currency == "usd").unwrap();
    assert_eq!(usd.amount_minor, 4900 + 4900 + 9900 - 5000);
    let checkpoints: Vec<(i32, i64, bool)> = march
        .checkpoints
        .iter()
        .map(|c| (c.offset, c.retained_users, c.incomplete))
        .collect();
    assert_eq!(checkpoints, [(1, 1, false), (3, 0, false), (12, 0, false)]);

    let status = app
        .client
        .get_cohort_overview(pb::GetCohortOverviewRequest::default())
        .await
        .unwrap_err();
    assert_eq!(
        status.message(),
        "granularity: is required: DAY, WEEK or MONTH"
    );
}
