//! Breakdowns by plan and attribute, and the cohort overview.

// Test code: a panic with the value is the failure report.
#![allow(clippy::unwrap_used)]

use growth_proto::common::v1::Granularity;
use growth_proto::metrics::v1::{self as pb, RetentionMetric, RetentionMode};
use sqlx::PgPool;
use tonic::Code;

use crate::cohort_fixtures::*;
use crate::helpers::*;

/// The MONTH matrix of `metric` in mode ON, broken down by `breakdown`.
async fn monthly(
    app: &mut TestApp,
    metric: RetentionMetric,
    breakdown: &str,
) -> Result<pb::GetRetentionMatrixResponse, tonic::Status> {
    matrix(
        app,
        Granularity::Month,
        metric,
        RetentionMode::On,
        breakdown,
    )
    .await
}

#[sqlx::test(migrations = false)]
async fn breakdowns_split_cohorts_by_plan_or_attribute_and_cap_the_values(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    march(&mut app).await;
    track(
        &mut app,
        vec![active("e1", "a", at("2025-04-01T10:00:00Z"))],
    )
    .await;
    refresh(&mut app, true).await;

    let by_plan = monthly(&mut app, RetentionMetric::Revenue, "plan")
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

    let by_country = monthly(&mut app, RetentionMetric::Users, "attributes.country")
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
    let capped = monthly(&mut app, RetentionMetric::Users, "attributes.country")
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
        let status = monthly(&mut app, RetentionMetric::Users, breakdown)
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
        vec![active("e1", "a", at("2025-04-01T10:00:00Z"))],
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
