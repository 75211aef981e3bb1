//! `growthctl revenue summary` and `growthctl cohorts churn` against the real
//! services: a subscription history imported over gRPC, the movements and
//! the churn report printed in every output with numbers computed by hand;
//! bad months refused by clap (exit 2) or by the server (exit 1, its
//! message).

use growth_proto::client::{Bearer, connect};
use growth_proto::common::v1::Money;
use growth_proto::metrics::v1::{
    self as pb, BillingInterval, SubscriptionStatus, metrics_service_client::MetricsServiceClient,
};
use sqlx::PgPool;

use crate::helpers::*;

const USERS: &str = r#"{"user_id":"a","email":"a@example.com","signup_at":"2025-01-01T09:00:00Z","plan":"starter"}
{"user_id":"b","email":"b@example.com","signup_at":"2025-01-01T09:00:00Z","plan":"pro"}
{"user_id":"c","email":"c@example.com","signup_at":"2025-01-01T09:00:00Z","plan":"business"}
"#;

fn at(text: &str) -> Option<prost_types::Timestamp> {
    let t = chrono::DateTime::parse_from_rfc3339(text).expect("a time");
    Some(prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    })
}

fn state(
    sub: &str,
    user: &str,
    plan: &str,
    money: (i64, &str),
    interval: BillingInterval,
    status: SubscriptionStatus,
    (started, effective): (&str, &str),
) -> pb::Subscription {
    pb::Subscription {
        stripe_subscription_id: sub.into(),
        stripe_customer: format!("cus_{user}"),
        user_id: user.into(),
        plan: plan.into(),
        amount: Some(Money {
            amount_minor: money.0,
            currency: money.1.into(),
        }),
        quantity: 1,
        interval: interval as i32,
        interval_count: 1,
        status: status as i32,
        started_at: at(started),
        ended_at: (status == SubscriptionStatus::Canceled)
            .then(|| at(effective))
            .flatten(),
        effective_at: at(effective),
    }
}

/// a: 10.00 USD a month from Jan 5, canceled Feb 10. b: 20.00 EUR a month
/// from Jan 10, 30.00 from Feb 15. c: 1,200.00 USD a year (100.00 a month)
/// from Feb 3.
///
/// February by hand: USD starts at 10.00, a churns (10.00), c is new
/// (100.00), ends at 100.00; NRR = GRR = (10 - 10) / 10 = 0%. EUR starts at
/// 20.00, b expands by 10.00, ends at 30.00; NRR 150%, GRR 100%.
async fn history(services: &Services) {
    let upserted = growthctl(services, &["users", "upsert"], USERS).await;
    assert!(upserted.status.success(), "{}", stderr(&upserted));
    let channel = connect(&services.metrics.grpc_addr.to_string())
        .await
        .expect("connects");
    let token = secrecy::SecretString::from(TOKEN.to_owned());
    let mut client =
        MetricsServiceClient::with_interceptor(channel, Bearer::new(Some(&token)).expect("token"));
    use BillingInterval::{Month, Year};
    use SubscriptionStatus::{Active, Canceled};
    let (jan5, jan10) = ("2025-01-05T00:00:00Z", "2025-01-10T00:00:00Z");
    let r = client
        .import_subscriptions(pb::ImportSubscriptionsRequest {
            subscriptions: vec![
                state(
                    "sub_a",
                    "a",
                    "starter",
                    (1000, "usd"),
                    Month,
                    Active,
                    (jan5, jan5),
                ),
                state(
                    "sub_a",
                    "a",
                    "starter",
                    (1000, "usd"),
                    Month,
                    Canceled,
                    (jan5, "2025-02-10T00:00:00Z"),
                ),
                state(
                    "sub_b",
                    "b",
                    "pro",
                    (2000, "eur"),
                    Month,
                    Active,
                    (jan10, jan10),
                ),
                state(
                    "sub_b",
                    "b",
                    "business",
                    (3000, "eur"),
                    Month,
                    Active,
                    (jan10, "2025-02-15T00:00:00Z"),
                ),
                state(
                    "sub_c",
                    "c",
                    "enterprise",
                    (120_000, "usd"),
                    Year,
                    Active,
                    ("2025-02-03T00:00:00Z", "2025-02-03T00:00:00Z"),
                ),
            ],
        })
        .await
        .expect("import")
        .into_inner();
    assert_eq!(r.recorded, 5);
}

fn row<'a>(table: &'a str, starts: &str) -> Vec<&'a str> {
    table
        .lines()
        .map(cells)
        .find(|c| c.first() == Some(&starts) || c[..2.min(c.len())].join(" ") == starts)
        .unwrap_or_else(|| panic!("no row {starts:?} in\n{table}"))
}

#[sqlx::test(migrations = false)]
async fn the_revenue_summary_shows_the_movements_computed_by_hand(pool: PgPool) {
    let services = spawn_services(pool).await;
    history(&services).await;

    let table = ok(&services, "revenue summary --from 2025-01 --to 2025-02").await;
    let header = cells(table.lines().nth(1).expect("a header"));
    assert_eq!(
        header,
        [
            "month",
            "currency",
            "MRR",
            "ARR",
            "new",
            "expansion",
            "contraction",
            "churned",
            "reactivation",
            "net new",
            "NRR",
            "GRR",
            "customers",
            "gross",
            "refunds",
            "disputes",
            "net revenue"
        ]
    );
    assert_eq!(
        row(&table, "2025-02 EUR"),
        [
            "2025-02", "EUR", "30.00", "360.00", "0.00", "10.00", "0.00", "0.00", "0.00", "10.00",
            "150.0%", "100.0%", "1", "0.00", "0.00", "0.00", "0.00"
        ]
    );
    assert_eq!(
        row(&table, "2025-02 USD"),
        [
            "2025-02", "USD", "100.00", "1,200.00", "100.00", "0.00", "0.00", "10.00", "0.00",
            "90.00", "0.0%", "0.0%", "1", "0.00", "0.00", "0.00", "0.00"
        ]
    );
    // January started without MRR: retention is not a number.
    assert_eq!(row(&table, "2025-01 USD")[10..12], ["n/a", "n/a"]);
    assert!(table.contains("time zone: UTC"), "{table}");
    // Not in the CSV either; and the month not over yet says so.
    let now = chrono::Utc::now().format("%Y-%m").to_string();
    let csv = ok(
        &services,
        &format!("revenue summary --from 2025-01 --to {now} --output csv"),
    )
    .await;
    let january: Vec<&str> = csv.lines().nth(1).expect("January").split(',').collect();
    assert_eq!(
        (january[0], january[11], january[12], january[19]),
        ("2025-01", "", "", "false"),
        "{csv}"
    );
    let last: Vec<&str> = csv.lines().last().expect("a line").split(',').collect();
    assert_eq!((last[0], last[19]), (now.as_str(), "true"), "{csv}");
    let table = ok(&services, &format!("revenue summary --from {now}")).await;
    assert!(table.contains(&format!("{now} (to date)")), "{table}");

    let json = json(&ctl(&services, "--format json revenue summary --from 2025-02").await);
    assert_eq!(json["time_zone"], "UTC");
    let usd = &json["months"][0]["currencies"][1];
    assert_eq!(
        (
            &usd["currency"],
            &usd["mrr_minor"],
            &usd["churned_minor"],
            &usd["new_minor"]
        ),
        (&"usd".into(), &10_000.into(), &1000.into(), &10_000.into())
    );

    let csv = ok(&services, "revenue summary --from 2025-02 --output csv").await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "month,currency,mrr_at_start,mrr,arr,new,expansion,contraction,churned,reactivation,net_new,nrr,grr,customers,active_subscriptions,gross_revenue,refunds,disputes,net_revenue,partial"
    );
    assert_eq!(
        lines[1],
        "2025-02,eur,20.00,30.00,360.00,0.00,10.00,0.00,0.00,0.00,10.00,1.5000,1.0000,1,1,0.00,0.00,0.00,0.00,false"
    );
    assert_eq!(
        lines[2],
        "2025-02,usd,10.00,100.00,1200.00,100.00,0.00,0.00,10.00,0.00,90.00,0.0000,0.0000,1,1,0.00,0.00,0.00,0.00,false"
    );
}

#[sqlx::test(migrations = false)]
async fn the_churn_report_shows_who_left_and_what_they_paid(pool: PgPool) {
    let services = spawn_services(pool).await;
    history(&services).await;

    let table = ok(&services, "cohorts churn --month 2025-02").await;
    assert!(
        table.contains("churn in 2025-02 (time zone UTC)"),
        "{table}"
    );
    assert!(
        table.contains("customers at start: 2   churned: 1   customer churn rate: 50.0%"),
        "{table}"
    );
    assert_eq!(row(&table, "EUR"), ["EUR", "20.00 EUR", "0.00 EUR", "0.0%"]);
    assert_eq!(
        row(&table, "USD"),
        ["USD", "10.00 USD", "10.00 USD", "100.0%"]
    );
    assert_eq!(
        row(&table, "a"),
        [
            "a",
            "a@example.com",
            "starter",
            "10.00 USD",
            "2025-02-10 00:00:00Z"
        ]
    );

    let json = json(&ctl(&services, "--format json cohorts churn --month 2025-02").await);
    assert_eq!(
        (&json["customers_at_start"], &json["customers_churned"]),
        (&2.into(), &1.into())
    );
    assert_eq!(
        json["churned_customers"][0]["churned_at"],
        "2025-02-10T00:00:00Z"
    );
    assert_eq!(json["churned_customers"][0]["mrr"]["amount_minor"], 1000);

    let csv = ok(&services, "cohorts churn --month 2025-02 --output csv").await;
    assert_eq!(
        csv.lines().collect::<Vec<_>>(),
        [
            "user_id,email,plan,currency,mrr_lost,churned_at",
            "a,a@example.com,starter,usd,10.00,2025-02-10T00:00:00Z"
        ]
    );

    let none = ok(&services, "cohorts churn --month 2025-01").await;
    assert!(none.contains("no customer churned"), "{none}");
}

#[sqlx::test(migrations = false)]
async fn bad_months_are_refused_by_the_server_with_its_message(pool: PgPool) {
    let services = spawn_services(pool).await;
    for (line, expected) in [
        (
            "revenue summary --from 2025-05 --to 2025-04",
            "month_from: 2025-05 is after month_to 2025-04 (INVALID_ARGUMENT)",
        ),
        (
            "cohorts churn --month 2999-01",
            "month: 2999-01 is in the future",
        ),
        (
            "revenue summary --from 2010-01 --to 2020-02",
            "month_to: 2020-02 is 121 months after month_from 2010-01",
        ),
    ] {
        assert_refused(&services, line, expected).await;
    }
}

#[tokio::test]
async fn malformed_months_are_refused_naming_the_flag() {
    for (line, flag) in [
        ("revenue summary --from 2025-13", "--from"),
        ("revenue summary --from 2025-01 --to 2025/02", "--to"),
        ("revenue summary", "--from"),
        ("cohorts churn --month march", "--month"),
        ("cohorts churn", "--month"),
        ("cohorts churn --month 2025-02 --output xml", "--output"),
    ] {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_growthctl"));
        command.args(line.split_whitespace());
        let output = run(command, "").await;
        assert_eq!(output.status.code(), Some(2), "{line}");
        assert!(
            stderr(&output).contains(flag),
            "{line}: {}",
            stderr(&output)
        );
    }
}
