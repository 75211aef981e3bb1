//! The activity TrackEvents appends and the fold that merges it into the
//! bitmaps: what a batch appends, that a re-sent one appends nothing, that a
//! fold applies it once and a failed fold loses nothing, and that a refresh
//! never claims activity that was appended after its own fold.

// Test code: a panic with the value is the failure report.
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use growth_proto::common::v1::Granularity;
use growth_proto::metrics::v1::{self as pb, RetentionMetric, RetentionMode};
use metrics_svc::repo::cohorts::fold;
use metrics_svc::repo::locks::{self, FOLD_LOCK, REFRESH_LOCK};
use sqlx::PgPool;

use crate::cohort_fixtures::{active, full_dry_run, import, matrix, paid, refresh_with, signup};
use crate::helpers::*;

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// The pending rows as (user, days in order, position), in that order.
async fn pending(pool: &PgPool) -> Vec<(String, Vec<NaiveDate>, i64)> {
    sqlx::query_as(
        "SELECT user_id, ARRAY(SELECT unnest(days) ORDER BY 1), seq
         FROM metrics.activity_pending ORDER BY 1, 3",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Takes the fold lock in a transaction of its own, so that the service's
/// background fold waits until it is dropped or committed.
async fn hold_folds(pool: &PgPool) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut tx = pool.begin().await.unwrap();
    locks::hold(&mut tx, FOLD_LOCK).await.unwrap();
    tx
}

#[sqlx::test(migrations = false)]
async fn a_batch_appends_its_active_days_and_a_fold_applies_them_once_or_not_at_all(pool: PgPool) {
    let mut app = spawn_app(pool.clone()).await;
    upsert(
        &mut app,
        vec![
            signup("p", at("2025-03-01T10:00:00Z")),
            signup("q", at("2025-03-02T10:00:00Z")),
        ],
    )
    .await;
    fold::fold(&pool).await.unwrap();
    let signups = marks(&pool).await;
    let before = bitmaps(&pool).await;

    let no_fold = hold_folds(&pool).await;
    let batch = vec![
        active("e1", "p", at("2025-03-02T08:00:00Z")),
        active("e2", "p", at("2025-03-02T21:00:00Z")), // the same day
        active("e3", "p", at("2025-03-04T12:00:00Z")),
        active("e4", "q", at("2025-02-27T12:00:00Z")), // before q's signup
    ];
    let sent = track(&mut app, batch.clone()).await;
    let expected = vec![
        (
            "p".to_owned(),
            vec![date("2025-03-02"), date("2025-03-04")],
            sent.last_sequence,
        ),
        ("q".to_owned(), vec![date("2025-02-27")], sent.last_sequence),
    ];
    assert_eq!(pending(&pool).await, expected);
    // A re-sent batch stores nothing and so appends nothing.
    let again = track(&mut app, batch).await;
    assert_eq!((again.inserted, again.duplicates), (0, 4));
    assert_eq!(pending(&pool).await, expected);
    // Nothing reached the bitmaps yet.
    assert_eq!(bitmaps(&pool).await, before);

    // A fold that fails before it commits (the process dies, the database
    // restarts) is rolled back with its deletes: nothing is lost.
    let mut failing = no_fold;
    assert_eq!(
        fold::fold_in(&mut failing).await.unwrap().changed,
        1,
        "p's row"
    );
    failing.rollback().await.unwrap();
    assert_eq!(pending(&pool).await, expected);
    assert_eq!(bitmaps(&pool).await, before);

    fold::fold(&pool).await.unwrap();
    assert!(pending(&pool).await.is_empty());
    let rows = bitmaps(&pool).await;
    // p: days 1 and 3 after its signup day, written.
    assert_eq!(
        (&rows[0].1, rows[0].2),
        (&"01010".to_owned(), Some(date("2025-03-04")))
    );
    assert_ne!(rows[0].3, before[0].3);
    // Activity before q's signup day counts for nothing: q's row is not
    // written, nor its cohort marked.
    assert_eq!(rows[1], before[1]);
    assert_eq!(
        marks(&pool).await,
        vec![(date("2025-03-01"), sent.last_sequence), signups[1]]
    );
    assert!(signups[1].1 < sent.last_sequence);

    // Activity already in the bitmaps, folded again, writes nothing.
    sqlx::query(
        "INSERT INTO metrics.activity_pending (user_id, days, seq)
         VALUES ('p', ARRAY[DATE '2025-03-04'], $1)",
    )
    .bind(sent.last_sequence + 1)
    .execute(&pool)
    .await
    .unwrap();
    // The background fold or this one takes the row; neither writes p.
    fold::fold(&pool).await.unwrap();
    assert!(pending(&pool).await.is_empty());
    assert_eq!(bitmaps(&pool).await, rows);
    assert_eq!(
        marks(&pool).await[0],
        (date("2025-03-01"), sent.last_sequence)
    );
}

/// Every user's (id, first five days of the bitmap, latest active day, the
/// transaction that last wrote the row).
async fn bitmaps(pool: &PgPool) -> Vec<(String, String, Option<NaiveDate>, String)> {
    sqlx::query_as(
        "SELECT user_id, substring(active_days::text FOR 5), last_active_day, xmin::text
         FROM metrics.user_cohorts ORDER BY user_id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// The cohort days marked changed, with their positions.
async fn marks(pool: &PgPool) -> Vec<(NaiveDate, i64)> {
    sqlx::query_as("SELECT cohort_day, changed_seq FROM metrics.cohort_activity ORDER BY 1")
        .fetch_all(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = false)]
async fn a_refresh_leaves_activity_appended_after_its_fold_to_the_next_one(pool: PgPool) {
    let mut app = spawn_app(pool.clone()).await;
    upsert(
        &mut app,
        vec![
            signup("a", at("2025-03-03T09:00:00Z")),
            signup("b", at("2025-03-03T10:00:00Z")),
        ],
    )
    .await;
    track(
        &mut app,
        vec![active("a0", "a", at("2025-03-03T12:00:00Z"))],
    )
    .await;
    refresh_with(&mut app, pb::RefreshCohortsRequest::default()).await;

    // A refresh that has folded and waits for the refresh lock.
    let mut held = pool.begin().await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(REFRESH_LOCK)
        .execute(&mut *held)
        .await
        .unwrap();
    let mut client = app.client.clone();
    let refreshing = tokio::spawn(async move {
        client
            .refresh_cohorts(pb::RefreshCohortsRequest::default())
            .await
    });
    while sqlx::query_scalar::<_, i64>(
        "SELECT count(*) FROM pg_locks
         WHERE locktype = 'advisory' AND NOT granted AND objid::bigint = $1
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .bind(REFRESH_LOCK & 0xffff_ffff)
    .fetch_one(&pool)
    .await
    .unwrap()
        == 0
    {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }

    // Meanwhile: a's activity two days later, left pending (no fold runs),
    // then a payment of b's, which marks the same cohort at a later position.
    let no_fold = hold_folds(&pool).await;
    track(
        &mut app,
        vec![active("a2", "a", at("2025-03-05T12:00:00Z"))],
    )
    .await;
    import(
        &mut app,
        vec![paid("py_b", "b", 900, "usd", "2025-03-06T12:00:00Z")],
    )
    .await;
    assert_eq!(pending(&pool).await.len(), 1);
    held.commit().await.unwrap();
    refreshing.await.unwrap().unwrap();
    no_fold.commit().await.unwrap();

    // That refresh saw the cohort's mark but not a's pending activity: the
    // next incremental refresh still has it to do.
    refresh_with(&mut app, pb::RefreshCohortsRequest::default()).await;
    let days = matrix(
        &mut app,
        Granularity::Day,
        RetentionMetric::Users,
        RetentionMode::On,
        "",
    )
    .await
    .unwrap();
    let row = days.rows.iter().find(|r| r.cohort == "2025-03-03").unwrap();
    assert_eq!(row.cells[2].retained_users, 1, "{row:?}");
    let check = full_dry_run(&mut app).await;
    assert_eq!(
        check.cells_written, 0,
        "a full recomputation changes nothing"
    );
}

/// The pages `metrics.activity_pending`'s file holds.
async fn pending_pages(pool: &PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT pg_relation_size('metrics.activity_pending')
                / current_setting('block_size')::bigint",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrations = false)]
async fn the_pending_activity_keeps_itself_small_without_autovacuum(pool: PgPool) {
    let mut app = spawn_app(pool.clone()).await;
    sqlx::query("ALTER TABLE metrics.activity_pending SET (autovacuum_enabled = false)")
        .execute(&pool)
        .await
        .unwrap();
    let users: Vec<String> = (0..500).map(|i| format!("u{i:03}")).collect();
    upsert(
        &mut app,
        users
            .iter()
            .map(|u| signup(u, at("2025-03-01T10:00:00Z")))
            .collect(),
    )
    .await;
    // 40 batches of one event per user, each folded: 20,000 rows appended
    // and deleted in all.
    let mut pages = Vec::new();
    for round in 0..40 {
        let when = at("2025-03-01T12:00:00Z") + chrono::Duration::days(round % 30);
        let batch = users
            .iter()
            .map(|u| active(&format!("{u}-{round}"), u, when))
            .collect();
        track(&mut app, batch).await;
        fold::fold(&pool).await.unwrap();
        pages.push(pending_pages(&pool).await);
    }
    assert!(pending(&pool).await.is_empty());
    // The space of folded rows is reused: the file stays the size of a few
    // batches (it grows by a batch's pages each round when it is not).
    let batch_pages = pages[0].max(1);
    assert!(
        pages.iter().all(|&p| p <= 3 * batch_pages),
        "pages after each round: {pages:?}"
    );
}
