//! LTV curves on hand-computed cohorts. Today is 2026-06-15: June 2026 is
//! the month not over yet.

use super::*;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn today() -> NaiveDate {
    d("2026-06-15")
}

/// A cohort of `users` with one currency's monthly net revenue.
fn cohort(users: i64, money: &[(&str, &[i64])]) -> Cohort {
    Cohort {
        users,
        revenue: money
            .iter()
            .map(|(currency, months)| {
                let mut by_offset = months.to_vec();
                by_offset.resize(13, 0);
                (
                    (*currency).to_owned(),
                    CohortRevenue {
                        by_offset,
                        later: 0,
                    },
                )
            })
            .collect(),
    }
}

/// A (2025-06, 10 users, every month over): 10,000 in month 0, 5,000 in
/// each later month but month 3, which refunds 2,000. Cumulative: 10,000,
/// 15,000, 20,000, 18,000, 23,000, …, 58,000.
const A: [i64; 12] = [
    10_000, 5_000, 5_000, -2_000, 5_000, 5_000, 5_000, 5_000, 5_000, 5_000, 5_000, 5_000,
];

/// A; B (2026-04, 10 users: 10,000 and 4,000 in its two complete months,
/// 500 so far in June); C (2026-06, 12 users, this month: 2,400 EUR); D
/// (2026-05, 10 users, 3,000 EUR in May, nothing in June); E (2026-03, 3
/// users: 90,000 in month 0).
fn cohorts() -> BTreeMap<NaiveDate, Cohort> {
    BTreeMap::from([
        (d("2025-06-01"), cohort(10, &[("usd", &A)])),
        (
            d("2026-04-01"),
            cohort(10, &[("usd", &[10_000, 4_000, 500])]),
        ),
        (d("2026-06-01"), cohort(12, &[("eur", &[2_400])])),
        (d("2026-05-01"), cohort(10, &[("eur", &[3_000])])),
        (d("2026-03-01"), cohort(3, &[("usd", &[90_000])])),
    ])
}

fn all() -> Vec<Curve> {
    curves(&cohorts(), Cohorts::default(), today())
}

fn find<'a>(curves: &'a [Curve], cohort: &str, currency: &str) -> &'a Curve {
    curves
        .iter()
        .find(|c| c.cohort == d(cohort) && c.currency == currency)
        .unwrap_or_else(|| panic!("no curve of {cohort} in {currency}"))
}

fn values(c: &Curve) -> Vec<f64> {
    c.points.iter().map(|p| p.per_user_minor).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn a_cohort_with_its_whole_year_is_measured_and_a_refund_month_lowers_it() {
    let curves = all();
    let a = find(&curves, "2025-06-01", "usd");
    assert_eq!(
        values(a),
        [
            1_000.0, 1_500.0, 2_000.0, 1_800.0, 2_300.0, 2_800.0, 3_300.0, 3_800.0, 4_300.0,
            4_800.0, 5_300.0, 5_800.0
        ]
    );
    assert!(a.points.iter().all(|p| !p.partial && !p.projected));
    assert_eq!((a.ltv_12m_minor, a.ltv_12m_projected), (5_800.0, false));
}

#[test]
fn a_recent_cohort_is_projected_from_its_last_complete_month() {
    let curves = all();
    let b = find(&curves, "2026-04-01", "usd");
    // Measured: 1,000 and 1,400, then June so far (1,450, partial).
    assert_eq!(values(b)[..3], [1_000.0, 1_400.0, 1_450.0]);
    assert_eq!(
        b.points[..3]
            .iter()
            .map(|p| (p.offset, p.partial, p.projected))
            .collect::<Vec<_>>(),
        [(0, false, false), (1, false, false), (2, true, false)]
    );
    // Projected from May (1,400): only A has months 2 and later, so the
    // factors from month 1 telescope to A's cumulative over its 15,000:
    // month 3 = 1,400 · 18,000 / 15,000 = 1,680; month 11 = 1,400 · 58,000
    // / 15,000.
    assert_eq!(b.points.len(), 12);
    assert!(b.points[3..].iter().all(|p| p.partial && p.projected));
    assert!(close(b.points[3].per_user_minor, 1_680.0), "{b:?}");
    assert!(close(b.points[4].per_user_minor, 1_400.0 * 23.0 / 15.0));
    assert!(close(b.ltv_12m_minor, 1_400.0 * 58.0 / 15.0), "{b:?}");
    assert!(b.ltv_12m_projected);
}

#[test]
fn month_0_to_1_is_learned_from_every_complete_cohort_but_the_small_one() {
    // D paid nothing in dollars by May: its dollar curve is 0 and stays 0,
    // through f(0) = (15,000 + 14,000) / (10,000 + 10,000); E (3 users)
    // would have made it (29,000 + 90,000) / (20,000 + 90,000).
    let curves = all();
    let d_usd = find(&curves, "2026-05-01", "usd");
    assert_eq!(values(d_usd), vec![0.0; 12]);
    assert!(d_usd.ltv_12m_projected);
    let e = find(&curves, "2026-03-01", "usd");
    assert_eq!(values(e), [30_000.0; 4], "measured only");
    assert!(e.points.iter().all(|p| !p.projected));
    assert_eq!((e.ltv_12m_minor, e.ltv_12m_projected), (30_000.0, false));
}

#[test]
fn a_currency_no_older_cohort_paid_in_is_not_projected() {
    let curves = all();
    let d_eur = find(&curves, "2026-05-01", "eur");
    assert_eq!(values(d_eur), [300.0, 300.0]);
    assert_eq!(
        d_eur.points.iter().map(|p| p.partial).collect::<Vec<_>>(),
        [false, true]
    );
    assert_eq!(
        (d_eur.ltv_12m_minor, d_eur.ltv_12m_projected),
        (300.0, false)
    );
    // The year-old cohort never paid in euros: a measured curve of zeros.
    let a_eur = find(&curves, "2025-06-01", "eur");
    assert_eq!(values(a_eur), vec![0.0; 12]);
}

#[test]
fn this_months_cohort_has_no_complete_month_to_project_from() {
    let curves = all();
    let c = find(&curves, "2026-06-01", "eur");
    assert_eq!(c.points.len(), 1);
    assert_eq!(
        (c.points[0].per_user_minor, c.points[0].partial),
        (200.0, true)
    );
    assert_eq!((c.ltv_12m_minor, c.ltv_12m_projected), (200.0, false));
}

#[test]
fn curves_come_by_cohort_then_currency_and_the_range_does_not_change_them() {
    let curves = all();
    let order: Vec<(String, &str)> = curves
        .iter()
        .map(|c| (c.cohort.format("%Y-%m").to_string(), c.currency.as_str()))
        .collect();
    let months = ["2025-06", "2026-03", "2026-04", "2026-05", "2026-06"];
    let expected: Vec<(String, &str)> = months
        .iter()
        .flat_map(|m| [(m.to_string(), "eur"), (m.to_string(), "usd")])
        .collect();
    assert_eq!(order, expected);

    let wanted = Cohorts {
        from: Some(d("2026-04-01")),
        to: Some(d("2026-04-01")),
    };
    let one = curves_of(wanted);
    assert_eq!(one.len(), 2);
    assert_eq!(&one[1], find(&curves, "2026-04-01", "usd"));
}

fn curves_of(wanted: Cohorts) -> Vec<Curve> {
    curves(&cohorts(), wanted, today())
}

#[test]
fn a_cohort_whose_refunds_exceed_its_payments_is_not_projected() {
    let cohorts = BTreeMap::from([
        (d("2025-06-01"), cohort(10, &[("usd", &A)])),
        (d("2026-04-01"), cohort(10, &[("usd", &[1_000, -3_000])])),
    ]);
    let curves = curves(&cohorts, Cohorts::default(), today());
    let g = find(&curves, "2026-04-01", "usd");
    assert_eq!(values(g), [100.0, -200.0, -200.0]);
    assert_eq!((g.ltv_12m_minor, g.ltv_12m_projected), (-200.0, false));
}
