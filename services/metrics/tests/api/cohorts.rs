//! Cohorts and retention: hand-computed matrices in every granularity and
//! both modes, the reporting time zone, incomplete periods, late events,
//! concurrency, dry runs, bad input. The rollup on random data is in
//! `cohort_rollup`.

// Test code: a panic with the value is the failure report.
#![allow(clippy::unwrap_used)]

use chrono::{Duration, TimeZone, Utc};
use growth_proto::common::v1::{DateRange, Granularity};
use growth_proto::metrics::v1::{self as pb, RetentionMode};
use sqlx::PgPool;
use tonic::Code;

use crate::cohort_fixtures::{active, full, full_dry_run, refresh_with, signup};
use crate::cohort_rollup::random_data;
use crate::helpers::*;

async fn matrix(
    app: &mut TestApp,
    g: Granularity,
    mode: RetentionMode,
) -> pb::GetRetentionMatrixResponse {
    app.client
        .get_retention_matrix(pb::GetRetentionMatrixRequest {
            granularity: g as i32,
            mode: mode as i32,
            ..Default::default()
        })
        .await
        .expect("matrix")
        .into_inner()
}

/// retained_users of a row's cells, by offset.
fn cells(row: &pb::CohortRow) -> Vec<i64> {
    row.cells.iter().map(|c| c.retained_users).collect()
}

fn row<'a>(m: &'a pb::GetRetentionMatrixResponse, cohort: &str) -> &'a pb::CohortRow {
    m.rows
        .iter()
        .find(|r| r.cohort == cohort)
        .unwrap_or_else(|| panic!("no cohort {cohort}"))
}

/// Three users in the week of Monday 2025-03-03, with activity by hand.
async fn march(app: &mut TestApp) {
    upsert(
        app,
        vec![
            signup("a", at("2025-03-05T09:00:00Z")), // Wednesday
            signup("b", at("2025-03-05T18:00:00Z")),
            signup("c", at("2025-03-08T12:00:00Z")), // Saturday
        ],
    )
    .await;
    track(
        app,
        vec![
            active("a0", "a", at("2025-03-05T10:00:00Z")), // day 0, week 0, month 0
            active("a1", "a", at("2025-03-06T10:00:00Z")), // day 1
            active("a1b", "a", at("2025-03-06T11:00:00Z")), // same day again
            active("a5", "a", at("2025-03-10T10:00:00Z")), // day 5, week 1
            active("b28", "b", at("2025-04-02T10:00:00Z")), // day 28, week 4, month 1
            active("bx", "b", at("2025-03-01T10:00:00Z")), // before signup: ignored
            active("c0", "c", at("2025-03-08T13:00:00Z")), // day 0 of c, week 0
            active("c400", "c", at("2026-04-12T10:00:00Z")), // day 400: month 13 (past the matrix)
        ],
    )
    .await;
}

#[sqlx::test(migrations = false)]
async fn hand_computed_matrices_in_every_granularity_and_both_modes(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    march(&mut app).await;
    let done = refresh_with(&mut app, full()).await;
    assert_eq!(done.time_zone, "UTC");
    assert_eq!(
        done.cohorts_refreshed, 4,
        "days 03-05 and 03-08, week 03-03, month 03-01"
    );

    let day = matrix(&mut app, Granularity::Day, RetentionMode::On).await;
    assert_eq!((day.max_offset, day.time_zone.as_str()), (30, "UTC"));
    let d5 = row(&day, "2025-03-05");
    assert_eq!(d5.cohort_size, 2);
    let mut want = vec![0; 31];
    (want[0], want[1], want[5], want[28]) = (1, 1, 1, 1);
    assert_eq!(cells(d5), want);
    assert!((d5.cells[0].retention_rate - 0.5).abs() < 1e-9);
    assert!(
        d5.cells.iter().all(|c| !c.incomplete),
        "March 2025 is long over"
    );
    let d8 = row(&day, "2025-03-08");
    assert_eq!((d8.cohort_size, d8.cells[0].retained_users), (1, 1));

    let day_after = matrix(&mut app, Granularity::Day, RetentionMode::OnOrAfter).await;
    // a was last active on day 5, b on day 28.
    let want: Vec<i64> = (0..31)
        .map(|k| {
            if k <= 5 {
                2
            } else if k <= 28 {
                1
            } else {
                0
            }
        })
        .collect();
    assert_eq!(cells(row(&day_after, "2025-03-05")), want);
    assert_eq!(
        cells(row(&day_after, "2025-03-08")),
        vec![1; 31],
        "c was active on day 400"
    );

    let week = matrix(&mut app, Granularity::Week, RetentionMode::On).await;
    let w = row(&week, "2025-03-03");
    assert_eq!(w.cohort_size, 3);
    assert_eq!(cells(w), vec![2, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);

    let month = matrix(&mut app, Granularity::Month, RetentionMode::On).await;
    let m = row(&month, "2025-03-01");
    assert_eq!(cells(m), vec![2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let month_after = matrix(&mut app, Granularity::Month, RetentionMode::OnOrAfter).await;
    assert_eq!(
        cells(row(&month_after, "2025-03-01")),
        vec![3, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    );
}

#[sqlx::test(migrations = false)]
async fn a_signup_at_2330_utc_belongs_to_the_next_day_in_utc_plus_2(pool: PgPool) {
    let args = metrics_svc::config::MetricsArgs {
        reporting_time_zone: "Etc/GMT-2".into(), // POSIX sign: UTC+2
        ..Default::default()
    };
    let mut app = spawn_app_with(pool, args).await;
    upsert(&mut app, vec![signup("late", at("2025-06-30T23:30:00Z"))]).await;
    track(
        &mut app,
        vec![
            active("e0", "late", at("2025-06-30T23:45:00Z")), // 07-01 01:45 local: day 0
            active("e1", "late", at("2025-07-01T22:30:00Z")), // 07-02 00:30 local: day 1
        ],
    )
    .await;
    assert_eq!(refresh_with(&mut app, full()).await.time_zone, "Etc/GMT-2");
    let day = matrix(&mut app, Granularity::Day, RetentionMode::On).await;
    assert_eq!(day.time_zone, "Etc/GMT-2");
    assert_eq!(day.rows.len(), 1);
    assert_eq!(day.rows[0].cohort, "2025-07-01");
    assert_eq!(&cells(&day.rows[0])[..3], &[1, 1, 0]);
    let month = matrix(&mut app, Granularity::Month, RetentionMode::On).await;
    assert_eq!(month.rows[0].cohort, "2025-07-01");
}

#[sqlx::test(migrations = false)]
async fn periods_in_progress_are_incomplete_and_future_ones_are_left_out(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    let now = Utc::now();
    let three_days_ago = Utc.from_utc_datetime(
        &(now - Duration::days(3))
            .date_naive()
            .and_hms_opt(12, 0, 0)
            .unwrap(),
    );
    upsert(&mut app, vec![signup("r", three_days_ago)]).await;
    track(
        &mut app,
        vec![active("r0", "r", three_days_ago + Duration::minutes(5))],
    )
    .await;
    refresh_with(&mut app, full()).await;
    let day = matrix(&mut app, Granularity::Day, RetentionMode::On).await;
    let r = &day.rows[0];
    assert_eq!(
        r.cells.len(),
        4,
        "offsets 0..=3: today is day 3, later days have not begun"
    );
    let flags: Vec<bool> = r.cells.iter().map(|c| c.incomplete).collect();
    assert_eq!(flags, [false, false, false, true]);
    assert_eq!(
        r.cells[3].retained_users, 0,
        "shown, but flagged as partial"
    );
    let month = matrix(&mut app, Granularity::Month, RetentionMode::On).await;
    assert!(month.rows.last().unwrap().cells.last().unwrap().incomplete);
}

#[sqlx::test(migrations = false)]
async fn a_late_event_updates_only_its_cohorts_and_an_incremental_refresh_finds_them(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    march(&mut app).await;
    upsert(&mut app, vec![signup("z", at("2025-05-20T10:00:00Z"))]).await;
    refresh_with(&mut app, full()).await;
    let nothing = refresh_with(&mut app, pb::RefreshCohortsRequest::default()).await;
    assert_eq!((nothing.cohorts_refreshed, nothing.cells_written), (0, 0));

    // An event from long ago arrives late for user b (cohort 2025-03-05).
    track(
        &mut app,
        vec![active("b2", "b", at("2025-03-07T10:00:00Z"))],
    )
    .await;
    let late = refresh_with(&mut app, pb::RefreshCohortsRequest::default()).await;
    assert_eq!(
        late.cohorts_refreshed, 3,
        "b's day, week and month cohorts only"
    );
    assert!(late.cells_written > 0);
    let day = matrix(&mut app, Granularity::Day, RetentionMode::On).await;
    assert_eq!(row(&day, "2025-03-05").cells[2].retained_users, 1);
    // The same event again changes nothing.
    track(
        &mut app,
        vec![active("b2", "b", at("2025-03-07T10:00:00Z"))],
    )
    .await;
    let again = refresh_with(&mut app, pb::RefreshCohortsRequest::default()).await;
    assert_eq!(again.cohorts_refreshed, 0);
}

/// Deterministic pseudo-random data: `users` users over 2025, events with
/// duplicates and late arrivals, in several batches.
#[sqlx::test(migrations = false)]
async fn concurrent_refreshes_do_not_interleave_and_agree(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    random_data(&mut app, 3, 200).await;
    let (mut a, mut b) = (app.client.clone(), app.client.clone());
    let (ra, rb) = tokio::join!(a.refresh_cohorts(full()), b.refresh_cohorts(full()));
    let (ra, rb) = (ra.unwrap().into_inner(), rb.unwrap().into_inner());
    assert_eq!(
        ra.cells_written + rb.cells_written,
        ra.cells_written.max(rb.cells_written),
        "the second found nothing to change"
    );
    let check = full_dry_run(&mut app).await;
    assert_eq!(check.cells_written, 0);
}

#[sqlx::test(migrations = false)]
async fn a_dry_run_reports_what_it_would_write_and_writes_nothing(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    march(&mut app).await;
    let dry = full_dry_run(&mut app).await;
    assert!(dry.dry_run);
    assert_eq!(
        dry.cells_written,
        2 * (2 * 31 + 13 + 13),
        "two day cohorts of 31 cells, a week and a month of 13, both modes"
    );
    assert_eq!(app.count("retention_metrics").await, 0);
    let real = refresh_with(&mut app, full()).await;
    assert_eq!(real.cells_written, dry.cells_written);
}

#[sqlx::test(migrations = false)]
async fn bad_refresh_and_matrix_requests_name_the_field(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    let range = |from: &str, to: &str| {
        Some(DateRange {
            from: from.into(),
            to: to.into(),
        })
    };
    let cases = [
        (
            pb::RefreshCohortsRequest {
                granularity: 9,
                ..Default::default()
            },
            "granularity: 9 is not a Granularity",
        ),
        (
            pb::RefreshCohortsRequest {
                cohorts: range("2025-03-01", "2025-02-01"),
                ..Default::default()
            },
            "cohorts.from: 2025-03-01 is after cohorts.to 2025-02-01",
        ),
        (
            pb::RefreshCohortsRequest {
                cohorts: range("2999-01-01", ""),
                ..Default::default()
            },
            "cohorts.from: 2999-01-01 is in the future",
        ),
        (
            pb::RefreshCohortsRequest {
                cohorts: range("", "2025-13-01"),
                ..Default::default()
            },
            "cohorts.to: \"2025-13-01\" is not a date",
        ),
        (
            pb::RefreshCohortsRequest {
                rebuild: true,
                dry_run: true,
                ..Default::default()
            },
            "rebuild: cannot be combined with dry_run",
        ),
    ];
    for (request, message) in cases {
        let status = app.client.refresh_cohorts(request).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(
            status.message().starts_with(message),
            "{} / {message}",
            status.message()
        );
    }
    let status = app
        .client
        .get_retention_matrix(pb::GetRetentionMatrixRequest::default())
        .await
        .unwrap_err();
    assert_eq!(
        status.message(),
        "granularity: is required: DAY, WEEK or MONTH"
    );
}
