//! The activity rollup on random data: kept at ingest it equals a rebuild
//! from the raw events (which also repairs a damaged one), incremental
//! refreshes end where a full one would, and a user whose signup moves gets
//! its bitmap recomputed.

// Test code: a panic with the value is the failure report.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, NaiveDate, Utc};
use growth_proto::metrics::v1 as pb;
use sqlx::PgPool;

use crate::cohort_fixtures::{active, full_dry_run, refresh_with, signup};
use crate::helpers::*;

/// `users` users signed up over 300 days from 2025-01-01, with about 15
/// events each from 3 days before the signup to past the window, sent in
/// batches of 500 (some ids repeat: duplicates).
pub async fn random_data(app: &mut TestApp, seed: u64, users: u64) {
    let mut x = seed;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let start = at("2025-01-01T00:00:00Z");
    let people: Vec<pb::User> = (0..users)
        .map(|i| {
            signup(
                &format!("r{i}"),
                start + Duration::minutes((next() % (300 * 1440)) as i64),
            )
        })
        .collect();
    let signups: Vec<DateTime<Utc>> = people.iter().map(|u| at_ts(u.signup_at.as_ref())).collect();
    upsert(app, people).await;
    let mut batch = Vec::new();
    for n in 0..(users * 15) {
        let u = (next() % users) as usize;
        // From 3 days before the signup to past the 416-day window.
        let when =
            signups[u] + Duration::minutes((next() % (440 * 1440)) as i64) - Duration::days(3);
        if when > Utc::now() {
            continue;
        }
        let id = format!("x{}", next() % (users * 12)); // some ids repeat: duplicates
        batch.push(active(&id, &format!("r{u}"), when));
        if batch.len() == 500 || n == users * 15 - 1 {
            batch.sort_by(|a, b| a.event_id.cmp(&b.event_id));
            batch.dedup_by(|a, b| a.event_id == b.event_id);
            track(app, std::mem::take(&mut batch)).await;
        }
    }
}

fn at_ts(t: Option<&prost_types::Timestamp>) -> DateTime<Utc> {
    let t = t.unwrap();
    DateTime::from_timestamp(t.seconds, 0).unwrap()
}

/// The bitmaps once everything pending is folded in.
async fn rollup_snapshot(pool: &PgPool) -> Vec<(String, NaiveDate, String, Option<NaiveDate>)> {
    metrics_svc::repo::cohorts::fold::fold(pool).await.unwrap();
    sqlx::query_as(
        "SELECT user_id, cohort_day, active_days::text, last_active_day FROM metrics.user_cohorts ORDER BY user_id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn rebuild(app: &mut TestApp) {
    refresh_with(
        app,
        pb::RefreshCohortsRequest {
            rebuild: true,
            ..Default::default()
        },
    )
    .await;
}

#[sqlx::test(migrations = false)]
async fn the_rollup_kept_at_ingest_equals_a_rebuild_from_raw_events(pool: PgPool) {
    let mut app = spawn_app(pool.clone()).await;
    random_data(&mut app, 0x9e37_79b9_7f4a_7c15, 300).await;
    // Again with other signup times for the first 200 users: they move cohorts.
    random_data(&mut app, 42, 200).await;
    let kept = rollup_snapshot(&pool).await;
    assert!(kept.iter().any(|r| r.2.contains('1')));
    rebuild(&mut app).await;
    assert_eq!(rollup_snapshot(&pool).await, kept);

    // A damaged rollup is repaired by a rebuild.
    sqlx::query(
        "UPDATE metrics.user_cohorts SET active_days = ~active_days, last_active_day = NULL
         WHERE user_id LIKE 'r1%'",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_ne!(rollup_snapshot(&pool).await, kept);
    rebuild(&mut app).await;
    assert_eq!(rollup_snapshot(&pool).await, kept);
}

#[sqlx::test(migrations = false)]
async fn incremental_refreshes_end_where_a_full_refresh_would(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    random_data(&mut app, 7, 200).await;
    refresh_with(&mut app, pb::RefreshCohortsRequest::default()).await;
    random_data(&mut app, 11, 150).await; // more users and events, some late
    refresh_with(&mut app, pb::RefreshCohortsRequest::default()).await;
    let check = full_dry_run(&mut app).await;
    assert!(check.cells_unchanged > 0);
    assert_eq!(
        check.cells_written, 0,
        "a full recomputation changes nothing"
    );
}

#[sqlx::test(migrations = false)]
async fn a_user_whose_signup_moves_gets_its_rollup_recomputed(pool: PgPool) {
    let mut app = spawn_app(pool.clone()).await;
    upsert(&mut app, vec![signup("m", at("2025-05-10T10:00:00Z"))]).await;
    track(
        &mut app,
        vec![active("m1", "m", at("2025-05-20T10:00:00Z"))],
    )
    .await;
    upsert(&mut app, vec![signup("m", at("2025-05-18T10:00:00Z"))]).await;
    let kept = rollup_snapshot(&pool).await;
    assert_eq!(kept[0].1, NaiveDate::from_ymd_opt(2025, 5, 18).unwrap());
    assert!(kept[0].2.starts_with("001"), "{}", &kept[0].2[..10]);
}
