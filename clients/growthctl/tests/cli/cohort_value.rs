//! `growthctl cohorts value` against the real services: users and payments
//! imported through growthctl, placed relative to the current month, the
//! curves printed in every output with values computed by hand; bad months
//! refused by clap (exit 2) or by the server (exit 1, its message).

use chrono::{Datelike, Months, NaiveDate, Utc};
use sqlx::PgPool;

use crate::helpers::*;

/// The first day of the month `back` months before the current one (UTC,
/// the default reporting time zone).
fn month(back: u32) -> NaiveDate {
    Utc::now().date_naive().with_day(1).expect("a first day") - Months::new(back)
}

fn on(cohort: NaiveDate, offset: u32, day: u32) -> String {
    let m = cohort + Months::new(offset);
    format!("{}-{day:02}T09:00:00Z", m.format("%Y-%m"))
}

/// A (3 months ago) and B (last month), 10 users each. Every user pays
/// 10.00 USD in month 0; five of A's pay 10.00 again in months 1 and 2.
/// A: 10.00, 15.00, 20.00 per user, then this month so far. B: 10.00, this
/// month so far, then month 2 projected: f(0) = 15,000 / 10,000 and f(1) =
/// 20,000 / 15,000 (A alone), so 10.00 · 1.5 · 4/3 = 20.00; no older cohort
/// has month 3 over, so B's curve stops there, and its 12-month value is
/// what is measured so far.
fn data() -> (String, String) {
    let (a, b) = (month(3), month(1));
    let (mut users, mut payments) = (String::new(), String::new());
    for (name, cohort) in [("a", a), ("b", b)] {
        for i in 0..10 {
            users.push_str(&format!(
                "{{\"user_id\":\"{name}{i}\",\"email\":\"{name}{i}@example.com\",\"signup_at\":\"{}\",\"plan\":\"pro\"}}\n",
                on(cohort, 0, 3)
            ));
            let months: &[u32] = if name == "a" && i < 5 {
                &[0, 1, 2]
            } else {
                &[0]
            };
            for k in months {
                payments.push_str(&format!(
                    "{{\"stripe_id\":\"pi_{name}{i}_{k}\",\"user_id\":\"{name}{i}\",\"amount_minor\":1000,\"currency\":\"usd\",\"status\":\"succeeded\",\"created_at\":\"{}\"}}\n",
                    on(cohort, *k, 4)
                ));
            }
        }
    }
    (users, payments)
}

#[sqlx::test(migrations = false)]
async fn cohort_value_prints_measured_partial_and_projected_months(pool: PgPool) {
    let services = spawn_services(pool).await;
    let (users, payments) = data();
    let upserted = growthctl(&services, &["users", "upsert"], &users).await;
    assert!(upserted.status.success(), "{}", stderr(&upserted));
    let imported = growthctl(&services, &["payments", "import"], &payments).await;
    assert!(imported.status.success(), "{}", stderr(&imported));
    let (a, b) = (
        month(3).format("%Y-%m").to_string(),
        month(1).format("%Y-%m").to_string(),
    );

    // No `cohorts refresh` first: the service refreshes what it reads.
    let table = ok(&services, "cohorts value").await;
    let lines: Vec<&str> = table.lines().collect();
    let header = cells(lines[1]);
    assert_eq!(header[..5], ["cohort", "users", "currency", "M0", "M1"]);
    assert_eq!(header[14..], ["M11", "LTV 12m"]);
    let row = |cohort: &str| {
        lines
            .iter()
            .map(|l| cells(l))
            .find(|c| c[0] == cohort)
            .unwrap_or_else(|| panic!("no {cohort} in {table}"))
    };
    let a_row = row(&a);
    assert_eq!(
        a_row[..7],
        [a.as_str(), "10", "USD", "10.00", "15.00", "20.00", "20.00*"]
    );
    assert_eq!(a_row[15], "20.00", "{table}");
    let b_row = row(&b);
    assert_eq!(b_row[1..6], ["10", "USD", "10.00", "10.00*", "20.00~"]);
    assert!(b_row[6..15].iter().all(|c| c.is_empty()), "{table}");
    assert_eq!(b_row[15], "10.00", "not projected to month 11");
    assert!(table.contains("~ projected: chain-ladder"), "{table}");
    assert!(table.contains("time zone: UTC"), "{table}");

    let csv = ok(&services, "cohorts value --output csv").await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "cohort,users,currency,offset,cumulative_per_user_minor,partial,projected"
    );
    assert!(
        lines.contains(&format!("{b},10,usd,2,2000.00,true,true").as_str()),
        "{csv}"
    );
    assert_eq!(lines.len(), 1 + 4 + 3, "{csv}");
    assert_eq!(ok(&services, "--format csv cohorts value").await, csv);

    let json = json(
        &ctl(
            &services,
            &format!("--format json cohorts value --from {b}"),
        )
        .await,
    );
    assert_eq!(json["rows"].as_array().map(Vec::len), Some(1), "{json}");
    let row = &json["rows"][0];
    assert_eq!(
        (&row["cohort"], &row["users"]),
        (&b.clone().into(), &10.into())
    );
    assert_eq!(row["ltv_12m_projected"], false);
    let projected = &row["points"][2];
    assert_eq!(
        (&projected["partial"], &projected["projected"]),
        (&true.into(), &true.into())
    );
    let value = projected["cumulative_per_user_minor"]
        .as_f64()
        .expect("a number");
    assert!((value - 2000.0).abs() < 1e-6, "{json}");
    assert_eq!(json["time_zone"], "UTC");
}

#[sqlx::test(migrations = false)]
async fn cohort_value_refusals_name_the_month(pool: PgPool) {
    let services = spawn_services(pool).await;
    assert_refused(
        &services,
        "cohorts value --from 2025-05 --to 2025-04",
        "month_from: 2025-05 is after month_to 2025-04 (INVALID_ARGUMENT)",
    )
    .await;
    assert_refused(
        &services,
        "cohorts value --to 2999-01",
        "month_to: 2999-01 is in the future",
    )
    .await;
    for (line, flag) in [
        ("cohorts value --from 2025-13", "--from"),
        ("cohorts value --to 2025-3", "--to"),
        ("cohorts value --output xml", "--output"),
    ] {
        let output = ctl(&services, line).await;
        assert_eq!(output.status.code(), Some(2), "{line}");
        assert!(
            stderr(&output).contains(flag),
            "{line}: {}",
            stderr(&output)
        );
    }
}
