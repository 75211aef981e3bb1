//! `GetCohortValue`: LTV curves of monthly cohorts computed by hand, with a
//! refund month, two currencies, a projection checked number by number, a
//! cohort too small to project or to count, and months cut in a non-UTC
//! reporting time zone. The cohorts are placed relative to the current
//! month, so that some of their months are over and some are not.

// Test code: a panic with the value is the failure report.
#![allow(clippy::unwrap_used)]

use chrono::{Datelike, Months, NaiveDate, Utc};
use growth_proto::metrics::v1 as pb;
use sqlx::PgPool;

use crate::cohort_fixtures::*;
use crate::helpers::*;

/// The first day of the month `back` months before the current one (UTC).
fn month(back: u32) -> NaiveDate {
    let today = Utc::now().date_naive();
    today.with_day(1).unwrap() - Months::new(back)
}

/// An instant on `day` of the month `offset` months after `cohort`.
fn on(cohort: NaiveDate, offset: u32, day: u32) -> String {
    let m = cohort + Months::new(offset);
    format!("{}-{day:02}T09:00:00Z", m.format("%Y-%m"))
}

fn label(m: NaiveDate) -> String {
    m.format("%Y-%m").to_string()
}

async fn cohort_value(app: &mut TestApp, from: &str, to: &str) -> pb::GetCohortValueResponse {
    app.client
        .get_cohort_value(pb::GetCohortValueRequest {
            month_from: from.into(),
            month_to: to.into(),
        })
        .await
        .unwrap()
        .into_inner()
}

fn row<'a>(
    r: &'a pb::GetCohortValueResponse,
    cohort: NaiveDate,
    currency: &str,
) -> &'a pb::CohortValueRow {
    let cohort = label(cohort);
    r.rows
        .iter()
        .find(|row| row.cohort == cohort && row.currency == currency)
        .unwrap_or_else(|| panic!("no row {cohort} {currency}: {r:?}"))
}

fn values(row: &pb::CohortValueRow) -> Vec<f64> {
    row.points
        .iter()
        .map(|p| (p.cumulative_per_user_minor * 100.0).round() / 100.0)
        .collect()
}

fn flags(row: &pb::CohortValueRow) -> Vec<(bool, bool)> {
    row.points
        .iter()
        .map(|p| (p.partial, p.projected))
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

/// `n` users `{prefix}0..` signing up on the 5th of `cohort`.
fn users(prefix: &str, n: usize, cohort: NaiveDate) -> Vec<pb::User> {
    (0..n)
        .map(|i| member(&format!("{prefix}{i}"), &on(cohort, 0, 5), "pro", "{}"))
        .collect()
}

/// A (12 months ago, 10 users): 10 × 10.00 USD in month 0, then 5 × 10.00
/// in every month to 11, except that a0's and a1's month-2 payments are
/// refunded in month 3, which has no payment: net 10,000, 5,000, 5,000,
/// -2,000, 5,000, …; cumulative 10,000, 15,000, 20,000, 18,000, 23,000, …,
/// 58,000. B (2 months ago, 10 users): 10 × 10.00 in month 0, 4 × 10.00 in
/// month 1, nothing yet this month. C (last month, 10 users): 3 × 20.00 EUR
/// in month 0. E (3 months ago, 3 users): 3 × 300.00 USD in month 0.
async fn seed(app: &mut TestApp) -> (NaiveDate, NaiveDate, NaiveDate, NaiveDate) {
    let (a, b, c, e) = (month(12), month(2), month(1), month(3));
    let mut everyone = users("a", 10, a);
    everyone.extend(users("b", 10, b));
    everyone.extend(users("c", 10, c));
    everyone.extend(users("e", 3, e));
    upsert(app, everyone).await;
    let mut payments = Vec::new();
    let mut pay = |id: String, user: String, amount, currency, when: String| {
        payments.push(paid(&id, &user, amount, currency, &when));
    };
    for i in 0..10 {
        pay(
            format!("pi_a{i}_0"),
            format!("a{i}"),
            1000,
            "usd",
            on(a, 0, 6),
        );
        pay(
            format!("pi_b{i}_0"),
            format!("b{i}"),
            1000,
            "usd",
            on(b, 0, 6),
        );
    }
    for k in (1..=11).filter(|k| *k != 3) {
        for i in 0..5 {
            pay(
                format!("pi_a{i}_{k}"),
                format!("a{i}"),
                1000,
                "usd",
                on(a, k, 10),
            );
        }
    }
    for i in 0..4 {
        pay(
            format!("pi_b{i}_1"),
            format!("b{i}"),
            1000,
            "usd",
            on(b, 1, 10),
        );
    }
    for i in 0..3 {
        pay(
            format!("pi_c{i}_0"),
            format!("c{i}"),
            2000,
            "eur",
            on(c, 0, 7),
        );
        pay(
            format!("pi_e{i}_0"),
            format!("e{i}"),
            30_000,
            "usd",
            on(e, 0, 7),
        );
    }
    let refund_at = on(a, 3, 12);
    for p in payments
        .iter_mut()
        .filter(|p| ["pi_a0_2", "pi_a1_2"].contains(&p.stripe_id.as_str()))
    {
        *p = refunded(p.clone(), 1000, Some(&refund_at));
    }
    import(app, payments).await;
    (a, b, c, e)
}

#[sqlx::test(migrations = false)]
async fn ltv_curves_are_measured_and_projected_as_computed_by_hand(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    let (a, b, c, e) = seed(&mut app).await;

    // No RefreshCohorts: the RPC brings the monthly cells up to date itself.
    let r = cohort_value(&mut app, "", "").await;
    assert_eq!(r.time_zone, "UTC");
    assert!(
        r.method.starts_with("chain-ladder per currency"),
        "{}",
        r.method
    );
    let order: Vec<(&str, &str)> = r
        .rows
        .iter()
        .map(|row| (row.cohort.as_str(), row.currency.as_str()))
        .collect();
    let (la, le, lb, lc) = (label(a), label(e), label(b), label(c));
    assert_eq!(
        order,
        [
            (la.as_str(), "eur"),
            (la.as_str(), "usd"),
            (le.as_str(), "eur"),
            (le.as_str(), "usd"),
            (lb.as_str(), "eur"),
            (lb.as_str(), "usd"),
            (lc.as_str(), "eur"),
            (lc.as_str(), "usd"),
        ]
    );

    // A: its whole first year is over and measured; month 3 is lower than
    // month 2 by the refunds made in it.
    let a_usd = row(&r, a, "usd");
    assert_eq!(a_usd.users, 10);
    assert_eq!(
        values(a_usd),
        [
            1000.0, 1500.0, 2000.0, 1800.0, 2300.0, 2800.0, 3300.0, 3800.0, 4300.0, 4800.0, 5300.0,
            5800.0
        ]
    );
    assert!(flags(a_usd).iter().all(|f| *f == (false, false)));
    assert_eq!(
        (a_usd.ltv_12m_minor, a_usd.ltv_12m_projected),
        (5800.0, false)
    );
    assert_eq!(
        values(row(&r, a, "eur")),
        vec![0.0; 12],
        "A never paid in euros"
    );

    // B: measured months 0 and 1, this month so far, then projected from
    // month 1 (14.00 per user). The factors from month 1 on come from A
    // alone (B's month 2 is not over; E is too small to count), so they
    // telescope: month k = 1,400 · A's cumulative at k / 15,000.
    let b_usd = row(&r, b, "usd");
    assert_eq!(values(b_usd)[..3], [1000.0, 1400.0, 1400.0]);
    let mut expected = vec![(false, false), (false, false), (true, false)];
    expected.extend([(true, true); 9]);
    assert_eq!(flags(b_usd), expected);
    let a_cumulative = [
        20_000.0, 18_000.0, 23_000.0, 28_000.0, 33_000.0, 38_000.0, 43_000.0, 48_000.0, 53_000.0,
        58_000.0,
    ];
    for k in 3..12 {
        let want = 1400.0 * a_cumulative[k - 2] / 15_000.0;
        let got = b_usd.points[k].cumulative_per_user_minor;
        assert!(close(got, want), "month {k}: {got} != {want}");
    }
    assert!(
        close(b_usd.ltv_12m_minor, 1400.0 * 58.0 / 15.0),
        "{b_usd:?}"
    );
    assert!(b_usd.ltv_12m_projected);

    // C in euros: no older cohort paid in euros, so nothing to learn from:
    // month 0 (6.00) and this month so far, and the 12-month value is what
    // is measured so far.
    let c_eur = row(&r, c, "eur");
    assert_eq!(values(c_eur), [600.0, 600.0]);
    assert_eq!(flags(c_eur), [(false, false), (true, false)]);
    assert_eq!(
        (c_eur.ltv_12m_minor, c_eur.ltv_12m_projected),
        (600.0, false)
    );
    // C in dollars: nothing in month 0, and f(0) = (15,000 + 14,000) /
    // (10,000 + 10,000) scales nothing: 0 to month 11, projected.
    let c_usd = row(&r, c, "usd");
    assert_eq!(values(c_usd), vec![0.0; 12]);
    assert!(c_usd.ltv_12m_projected);

    // E (3 users): measured only.
    let e_usd = row(&r, e, "usd");
    assert_eq!(values(e_usd), [30_000.0; 4]);
    assert!(flags(e_usd).iter().all(|(_, projected)| !projected));
    assert_eq!(
        (e_usd.ltv_12m_minor, e_usd.ltv_12m_projected),
        (30_000.0, false)
    );

    // A range shows its cohorts only, with the same curves.
    let only_b = cohort_value(&mut app, &lb, &lb).await;
    assert_eq!(only_b.rows.len(), 2);
    assert_eq!(row(&only_b, b, "usd"), b_usd);

    // A new payment is seen by the next call: b4 pays 10.00 in month 1.
    import(
        &mut app,
        vec![paid("pi_b4_1", "b4", 1000, "usd", &on(b, 1, 11))],
    )
    .await;
    let r = cohort_value(&mut app, &lb, "").await;
    let b_usd = row(&r, b, "usd");
    assert_eq!(values(b_usd)[..3], [1000.0, 1500.0, 1500.0]);
    assert!(
        close(b_usd.ltv_12m_minor, 1500.0 * 58.0 / 15.0),
        "{b_usd:?}"
    );
}

#[sqlx::test(migrations = false)]
async fn months_are_cut_in_the_reporting_time_zone(pool: PgPool) {
    let args = metrics_svc::config::MetricsArgs {
        reporting_time_zone: "Asia/Tokyo".into(), // UTC+9, no daylight saving
        ..Default::default()
    };
    let mut app = spawn_app_with(pool, args).await;
    // t0 signs up on January 31 in UTC, February 1 in Tokyo; t2 at 23:00 on
    // January 31 in Tokyo.
    upsert(
        &mut app,
        vec![
            member("t0", "2025-01-31T20:00:00Z", "pro", "{}"),
            member("t1", "2025-02-10T00:00:00Z", "pro", "{}"),
            member("t2", "2025-01-31T14:00:00Z", "pro", "{}"),
        ],
    )
    .await;
    import(
        &mut app,
        vec![
            // 00:30 on March 1 in Tokyo: February's cohort, month 1.
            paid("pi_t0", "t0", 1000, "usd", "2025-02-28T15:30:00Z"),
            // 23:30 on February 28 in Tokyo: month 0.
            paid("pi_t1", "t1", 500, "usd", "2025-02-28T14:30:00Z"),
            // 23:30 on January 31 in Tokyo: January's cohort, month 0.
            paid("pi_t2", "t2", 700, "usd", "2025-01-31T14:30:00Z"),
        ],
    )
    .await;
    let r = cohort_value(&mut app, "2025-01", "2025-02").await;
    assert_eq!(r.time_zone, "Asia/Tokyo");
    let jan = r.rows.iter().find(|r| r.cohort == "2025-01").unwrap();
    let feb = r.rows.iter().find(|r| r.cohort == "2025-02").unwrap();
    assert_eq!((jan.users, feb.users), (1, 2));
    assert_eq!(values(jan), [700.0; 12]);
    let mut want = vec![250.0];
    want.extend([750.0; 11]);
    assert_eq!(values(feb), want);
    assert_eq!((feb.ltv_12m_minor, feb.ltv_12m_projected), (750.0, false));
}
