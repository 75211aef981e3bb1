//! `growthctl cohorts` with money, against the real services: payments
//! imported through growthctl, the revenue breakdowns and the overview
//! printed from the refreshed cells, and the dashboard's exports, which are
//! the bytes `cohorts show` prints.

use sqlx::PgPool;

use crate::cohorts::{EVENTS, USERS, ingest, rates};
use crate::helpers::*;

/// u1 pays 49.00 USD in March and 19.00 USD in April, refunded in full in
/// May; u2's payment failed.
const PAYMENTS: &str = r#"{"stripe_id":"pi_1","user_id":"u1","amount_minor":4900,"currency":"usd","status":"succeeded","created_at":"2025-03-03T11:00:00Z"}
{"stripe_id":"pi_2","user_id":"u1","amount_minor":1900,"currency":"usd","status":"refunded","refunded_minor":1900,"refunded_at":"2025-05-02T09:00:00Z","created_at":"2025-04-02T11:00:00Z"}
{"stripe_id":"pi_3","user_id":"u2","amount_minor":9900,"currency":"usd","status":"failed","created_at":"2025-03-06T11:00:00Z"}
"#;

#[sqlx::test(migrations = false)]
async fn revenue_breakdowns_and_the_overview_print_from_the_refreshed_cells(pool: PgPool) {
    let services = spawn_services(pool).await;
    ingest(&services, USERS, EVENTS).await;
    let imported = growthctl(&services, &["payments", "import"], PAYMENTS).await;
    assert!(imported.status.success(), "{}", stderr(&imported));
    ok(&services, "cohorts refresh").await;

    let table = ok(&services, "cohorts show --period month --metric revenue").await;
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        &cells(lines[1])[..6],
        ["cohort", "size", "currency", "M0", "M1", "M2"]
    );
    assert_eq!(
        &cells(lines[3])[..6],
        ["2025-03-01", "3", "USD", "49.00", "19.00", "-19.00"]
    );
    assert!(
        table.contains("net revenue (payments minus refunds"),
        "{table}"
    );

    let csv = ok(
        &services,
        "cohorts show --period month --metric revenue --output csv",
    )
    .await;
    assert!(csv.starts_with("cohort,size,offset,currency,revenue_minor,incomplete\n"));
    assert!(csv.contains("2025-03-01,3,2,usd,-1900,false\n"), "{csv}");
    let global = ok(
        &services,
        "--format csv cohorts show --period month --metric revenue",
    )
    .await;
    assert_eq!(global, csv, "the global --format csv means the same");

    let by_plan = json(
        &ctl(
            &services,
            "cohorts show --period month --breakdown plan --mode on-or-after --output json",
        )
        .await,
    );
    let rows = by_plan["rows"].as_array().expect("rows");
    let segments: Vec<(&str, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["segment"].as_str().expect("segment"),
                r["cohort_size"].as_i64().expect("size"),
            )
        })
        .collect();
    assert_eq!(segments, [("free", 2), ("pro", 1)]);
    // free: u1 (last active W3, March) and u3 (April); on or after M1: u3.
    assert_eq!(rates(&rows[0])[..2], [1.0, 0.5]);

    let overview = ok(&services, "cohorts overview --period month").await;
    let lines: Vec<&str> = overview.lines().collect();
    assert_eq!(
        cells(lines[1]),
        [
            "cohort",
            "users",
            "paying",
            "conversion",
            "net revenue",
            "M1",
            "M3",
            "M12"
        ]
    );
    assert_eq!(
        cells(lines[3]),
        [
            "2025-03-01",
            "3",
            "1",
            "33.3%",
            "49.00 USD",
            "33.3",
            "0.0",
            "0.0"
        ]
    );
}

/// The dashboard's exports (`/dashboard/retention?…&format=csv|json`) are
/// the bytes `cohorts show --output csv|json` prints for the same
/// selection: both print with `growth_proto::export`.
#[sqlx::test(migrations = false)]
async fn the_dashboards_exports_are_the_bytes_cohorts_show_prints(pool: PgPool) {
    let args = metrics_svc::config::MetricsArgs {
        dashboard_tokens: "dashboard-token".into(),
        ..Default::default()
    };
    let services = spawn_services_with(pool, args).await;
    ingest(&services, USERS, EVENTS).await;
    let imported = growthctl(&services, &["payments", "import"], PAYMENTS).await;
    assert!(imported.status.success(), "{}", stderr(&imported));
    ok(&services, "cohorts refresh").await;

    metrics_svc::stripe::client::install_crypto_provider();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let base = format!("http://{}", services.metrics.http_addr);
    let signed_in = http
        .post(format!("{base}/dashboard/sign-in"))
        .header("origin", &base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("token=dashboard-token")
        .send()
        .await
        .expect("sign-in answers");
    assert_eq!(signed_in.status().as_u16(), 303);
    let cookie = signed_in
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();

    for (line, query) in [
        (
            "cohorts show --period month --output csv",
            "period=month&format=csv",
        ),
        (
            "cohorts show --period week --mode on-or-after --breakdown plan --output csv",
            "period=week&mode=on-or-after&breakdown=plan&format=csv",
        ),
        (
            "cohorts show --period month --metric revenue --from 2025-03-01 --output csv",
            "period=month&metric=revenue&from=2025-03-01&format=csv",
        ),
        (
            "cohorts show --period week --output json",
            "period=week&format=json",
        ),
    ] {
        let printed = ok(&services, line).await;
        let served = http
            .get(format!("{base}/dashboard/retention?{query}"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("export answers");
        assert_eq!(served.status().as_u16(), 200, "{query}");
        assert_eq!(served.text().await.expect("body"), printed, "{line}");
    }
}
