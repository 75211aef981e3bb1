//! Active users over calendar days: the per-year activity the fold keeps
//! equals what a rebuild from the raw events makes (random data, late and
//! re-sent batches), `GetActiveUsers` answers known counts in a non-UTC
//! reporting time zone, and bad ranges are refused naming the field.

// Test code: a panic with the value is the failure report.
#![allow(clippy::unwrap_used)]

use growth_proto::common::v1::DateRange;
use growth_proto::metrics::v1 as pb;
use metrics_svc::repo::cohorts::{fold, rebuild};
use rand::{Rng as _, SeedableRng as _};
use sqlx::PgPool;
use tonic::Code;

use crate::cohort_fixtures::{active, signup};
use crate::helpers::*;

/// Every stored year row, as text.
async fn years(pool: &PgPool) -> Vec<(String, i16, String)> {
    sqlx::query_as("SELECT user_id, year, days::text FROM metrics.user_active_years ORDER BY 1, 2")
        .fetch_all(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = false)]
async fn the_years_kept_at_ingest_equal_a_rebuild_from_the_raw_events(pool: PgPool) {
    let mut app = spawn_app(pool.clone()).await;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(19);
    let users: Vec<String> = (0..40).map(|i| format!("u{i}")).collect();
    upsert(
        &mut app,
        users
            .iter()
            .map(|u| signup(u, at("2024-06-01T10:00:00Z")))
            .collect(),
    )
    .await;
    // Events over two and a half years (leap day and new years included),
    // in batches out of time order (late events), some sent twice.
    let start = at("2024-01-01T00:00:00Z");
    let mut sent = Vec::new();
    for b in 0..12 {
        let batch: Vec<pb::Event> = (0..150)
            .map(|i| {
                let when = start + chrono::Duration::minutes(rng.random_range(0..(900 * 24 * 60)));
                let user = &users[rng.random_range(0..users.len())];
                active(&format!("e{b}-{i}"), user, when)
            })
            .collect();
        track(&mut app, batch.clone()).await;
        sent.push(batch);
        if b % 3 == 0 {
            fold::fold(&pool).await.unwrap();
        }
    }
    track(&mut app, sent[4].clone()).await;
    fold::fold(&pool).await.unwrap();
    let kept = years(&pool).await;
    assert!(kept.len() > 40, "{} rows", kept.len());
    let settings = metrics_svc::reporting::Settings::default();
    let written = rebuild::rebuild(&pool, &settings).await.unwrap();
    assert_eq!(written, 0, "the rollup and the years were already right");
    assert_eq!(years(&pool).await, kept);
    // And a rebuild restores rows that went wrong.
    sqlx::query("UPDATE metrics.user_active_years SET days = B'0'::bit(366) WHERE user_id = 'u1'")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO metrics.user_active_years VALUES ('u2', 1999, B'1'::bit(366))")
        .execute(&pool)
        .await
        .unwrap();
    assert!(rebuild::rebuild(&pool, &settings).await.unwrap() > 0);
    assert_eq!(years(&pool).await, kept);
}

async fn active_users(
    app: &mut TestApp,
    from: &str,
    to: &str,
) -> Result<pb::GetActiveUsersResponse, tonic::Status> {
    app.client
        .get_active_users(pb::GetActiveUsersRequest {
            days: Some(DateRange {
                from: from.into(),
                to: to.into(),
            }),
        })
        .await
        .map(tonic::Response::into_inner)
}

#[sqlx::test(migrations = false)]
async fn daily_active_users_count_local_days_with_rolling_windows(pool: PgPool) {
    let args = metrics_svc::config::MetricsArgs {
        reporting_time_zone: "America/New_York".into(),
        ..metrics_svc::config::MetricsArgs::default()
    };
    let mut app = spawn_app_with(pool, args).await;
    upsert(
        &mut app,
        ["a", "b", "c"]
            .iter()
            .map(|u| signup(u, at("2025-01-01T15:00:00Z")))
            .collect(),
    )
    .await;
    track(
        &mut app,
        vec![
            // a: March 1st and 2nd (local), then back on March 20th.
            active("a1", "a", at("2025-03-01T15:00:00Z")),
            active("a2", "a", at("2025-03-03T02:00:00Z")), // March 2nd, 21:00 local
            active("a3", "a", at("2025-03-20T15:00:00Z")),
            // b: January 10th, then March 15th (after 64 days away).
            active("b1", "b", at("2025-01-10T15:00:00Z")),
            active("b2", "b", at("2025-03-15T15:00:00Z")),
            // c: nothing counted in March.
            active("c1", "c", at("2025-02-10T15:00:00Z")),
        ],
    )
    .await;
    let r = active_users(&mut app, "2025-03-01", "2025-03-31")
        .await
        .unwrap();
    assert_eq!(r.time_zone, "America/New_York");
    assert_eq!(r.days.len(), 31);
    let on = |d: usize| &r.days[d - 1];
    // March 2nd: a (returning); WAU a; MAU a and c (Feb 10th is 20 days back).
    assert_eq!(
        (on(2).dau, on(2).wau, on(2).mau, on(2).returning_actives),
        (1, 1, 2, 1)
    );
    assert!((on(2).stickiness - 0.5).abs() < 1e-9);
    assert_eq!(on(3).dau, 0, "02:00Z on March 3rd is March 2nd in New York");
    // March 1st: a for the first time.
    assert_eq!((on(1).dau, on(1).new_actives), (1, 1));
    // March 15th: b, resurrected (active before, not in the 28 days before).
    assert_eq!((on(15).dau, on(15).resurrected), (1, 1));
    // March 20th: a, active 18 days before: returning.
    assert_eq!((on(20).dau, on(20).returning_actives), (1, 1));
    // March 21st: a and b in the week.
    assert_eq!(on(21).wau, 2);
    // March 10th: c's February 10th has left the 28 days.
    assert_eq!(on(10).mau, 1);
}

#[sqlx::test(migrations = false)]
async fn bad_day_ranges_are_refused_naming_the_field(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    for (from, to, field) in [
        ("", "2025-01-01", "days.from"),
        ("2025-01-02", "2025-01-01", "days.from"),
        ("2025-01-01", "2999-01-01", "days.to"),
        ("2001-01-01", "2025-01-01", "days"),
        ("2025-02-30", "2025-03-01", "days.from"),
    ] {
        let refused = active_users(&mut app, from, to).await.unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{from}..{to}");
        assert!(
            refused.message().contains(field),
            "{from}..{to}: {}",
            refused.message()
        );
    }
}
