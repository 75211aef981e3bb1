//! Revenue cells (payments in their period, refunds in theirs, per
//! currency) and payments marking their cohorts for the incremental refresh.

// Test code: a panic with the value is the failure report.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Utc};
use growth_proto::common::v1::Granularity;
use growth_proto::metrics::v1::{self as pb, RetentionMetric, RetentionMode};
use sqlx::PgPool;

use crate::cohort_fixtures::*;
use crate::helpers::*;

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

    let row = revenue_row(
        &mut app,
        Granularity::Month,
        RetentionMode::OnOrAfter,
        "2025-03-01",
    )
    .await;
    assert_eq!(
        money(&row, "usd")[..4],
        [4900 + 4900 + 9900 - 5000, 4900 + 9900 - 5000, -5000, 0]
    );

    // Weeks: a's cohort week starts Monday 2025-03-03, b's 2025-03-17.
    let b = revenue_row(&mut app, Granularity::Week, RetentionMode::On, "2025-03-17").await;
    let usd = money(&b, "usd");
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
    let row = revenue_row(
        &mut app,
        Granularity::Month,
        RetentionMode::OnOrAfter,
        "2025-03-01",
    )
    .await;
    assert_eq!(money(&row, "usd")[0], 4900 + 9900 - 5000);

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
    let row = revenue_row(
        &mut app,
        Granularity::Month,
        RetentionMode::OnOrAfter,
        "2025-06-01",
    )
    .await;
    assert_eq!(money(&row, "eur")[0], 1000, "a's euros moved with a");

    // The marking trigger draws positions under the same lock as ingest.
    let body: String =
        sqlx::query_scalar("SELECT pg_get_functiondef('metrics.mark_payment_cohorts'::regproc)")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(body.contains(&format!(
        "pg_advisory_xact_lock({})",
        metrics_svc::repo::locks::FEED_LOCK
    )));
}
