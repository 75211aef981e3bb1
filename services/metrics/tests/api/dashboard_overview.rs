//! The overview page over real HTTP: each panel against the RPC that
//! answers the same question (GetRevenueSummary, GetActiveUsers, the stored
//! weekly report, ListAuditRuns / GetAuditRun), the funnel's known answer,
//! stored markdown shown as text (never as HTML), the lifecycle panel when
//! lifecycle is down, the empty states naming what to run, a bad `months`
//! refused naming it, and the headers.

// Test code: a panic with the value is the failure report.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use growth_proto::common::v1::{DateRange, PageRequest};
use growth_proto::metrics::v1 as pb;
use growth_proto::money::{major, percent};
use growth_proto::timestamp::rfc3339;
use metrics_svc::config::MetricsArgs;
use reqwest::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use crate::cohort_fixtures::{active, import, paid};
use crate::dashboard::{
    Answer, DASHBOARD_TOKEN, app, args, assert_secure_headers, get, sign_in, unescape,
};
use crate::helpers::*;
use crate::revenue_fixtures::{self, state};

fn ago(days: i64) -> DateTime<Utc> {
    Utc::now() - Duration::days(days)
}

fn rfc(at: DateTime<Utc>) -> String {
    at.to_rfc3339()
}

/// The `<section>` of panel `id`.
fn panel<'a>(a: &'a Answer, id: &str) -> &'a str {
    let start = a
        .body
        .find(&format!("<section id=\"{id}\""))
        .unwrap_or_else(|| panic!("no panel {id}: {}", a.body));
    let len = a.body[start..].find("</section>").unwrap();
    &a.body[start..start + len]
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn this_month() -> NaiveDate {
    today().with_day(1).unwrap()
}

fn label(m: NaiveDate) -> String {
    m.format("%Y-%m").to_string()
}

/// Users a and b whose trials ended 20 days ago (a paid two days later), c
/// without a trial; a and b active yesterday; MRR in USD and EUR.
async fn seed(app: &mut TestApp) {
    let member = |id: &str, trial: Option<i64>| pb::User {
        signup_at: ts(ago(60)),
        trial_ends_at: trial.and_then(|d| ts(ago(d))),
        ..user(id)
    };
    upsert(
        app,
        vec![
            member("a", Some(20)),
            member("b", Some(20)),
            member("c", None),
        ],
    )
    .await;
    track(
        app,
        vec![
            active("e1", "a", ago(1)),
            active("e2", "b", ago(1)),
            active("e3", "c", ago(3)),
            active("e4", "a", ago(10)),
        ],
    )
    .await;
    import(app, vec![paid("pi_a", "a", 4900, "usd", &rfc(ago(18)))]).await;
    revenue_fixtures::import(
        app,
        vec![
            state("sub_a", "a", 4900, "usd", &rfc(ago(18)), &rfc(ago(18))),
            state("sub_c", "c", 1000, "eur", &rfc(ago(45)), &rfc(ago(45))),
        ],
    )
    .await;
}

/// A stored audit run, as the audit writes it.
async fn audit_run(
    pool: &PgPool,
    month: &str,
    verdict: &str,
    started: DateTime<Utc>,
    report: &str,
) {
    sqlx::query(
        "INSERT INTO metrics.audit_runs (run_id, month, status, verdict, repair, started_at, finished_at, report_markdown)
         VALUES ($1, $2, 'completed', $3, false, $4, $4 + interval '1 minute', $5)",
    )
    .bind(Uuid::new_v4())
    .bind(month)
    .bind(verdict)
    .bind(started)
    .bind(report)
    .execute(pool)
    .await
    .unwrap();
}

const REPORT: &str = "# Revenue audit: PASS\n\n## Executive summary\n\nVerdict **PASS**: 0 finding(s). <script>alert(1)</script>\n\n| currency | rows |\n| --- | ---: |\n| usd | 1 |\n\n## Recommendations\n\n- Nothing to do.\n";

#[sqlx::test(migrations = false)]
async fn each_panel_shows_what_its_rpc_answers(pool: PgPool) {
    let mut app = app(pool.clone()).await;
    seed(&mut app).await;
    let this = label(this_month());
    let previous = label(this_month().checked_sub_months(Months::new(1)).unwrap());
    audit_run(&pool, &this, "FAIL", ago(2), "# old").await;
    audit_run(&pool, &this, "PASS", ago(1), REPORT).await;
    audit_run(&pool, &previous, "WARNING", ago(5), "# earlier").await;
    let report = app
        .client
        .generate_growth_insights(pb::GenerateGrowthInsightsRequest {
            week: String::new(),
            use_llm: false,
            notify: false,
        })
        .await
        .unwrap()
        .into_inner()
        .report
        .unwrap();

    let addr = app.server.http_addr;
    let cookie = sign_in(addr, DASHBOARD_TOKEN).await;
    let page = get(addr, "/dashboard/overview", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_secure_headers(&page, "overview");
    assert!(page.body.contains("href=\"/dashboard/retention\""), "nav");

    // Revenue: every month and currency of the window, as GetRevenueSummary says.
    let first = this_month().checked_sub_months(Months::new(11)).unwrap();
    let revenue = app
        .client
        .get_revenue_summary(pb::GetRevenueSummaryRequest {
            month_from: label(first),
            month_to: this.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let mrr = panel(&page, "panel-mrr");
    let mut rows = 0;
    for m in &revenue.months {
        for c in &m.currencies {
            let money = |minor| major(minor, &c.currency, false);
            let month = if m.partial {
                format!("{} (to date)", m.month)
            } else {
                m.month.clone()
            };
            let row = format!(
                "<tr><th scope=\"row\">{month}</th><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                c.currency.to_ascii_uppercase(),
                money(c.mrr_minor),
                money(c.arr_minor),
                money(c.new_minor),
                money(c.expansion_minor),
                money(c.contraction_minor),
                money(c.churned_minor),
                money(c.reactivation_minor),
            );
            assert!(mrr.contains(&row), "{row}\n{mrr}");
            rows += 1;
        }
    }
    assert!(rows >= 2, "USD and EUR months: {revenue:?}");
    assert!(
        mrr.contains("49.00 USD") && mrr.contains("588.00 USD"),
        "{mrr}"
    );
    assert!(
        mrr.contains("<svg") && mrr.contains("<title>MRR "),
        "a chart"
    );
    assert!(mrr.contains("churned"), "the movements' legend");

    // Active users: the latest complete day, as GetActiveUsers says.
    let yesterday = today().pred_opt().unwrap();
    let active_users = app
        .client
        .get_active_users(pb::GetActiveUsersRequest {
            days: Some(DateRange {
                from: (yesterday - Duration::days(89)).to_string(),
                to: yesterday.to_string(),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    let last = active_users.days.last().unwrap();
    assert_eq!((last.dau, last.mau), (2, 3));
    let row = format!(
        "<tr><th scope=\"row\">{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
        last.day,
        last.dau,
        last.wau,
        last.mau,
        percent(last.stickiness)
    );
    let active_panel = panel(&page, "panel-active");
    assert!(active_panel.contains(&row), "{row}\n{active_panel}");
    assert!(active_panel.contains("<svg"), "a chart");

    // The funnel: a and b's trials ended, a paid.
    let funnel = panel(&page, "panel-funnel");
    assert!(
        funnel.contains("<tr id=\"funnel-total\"><th scope=\"row\">all</th><td class=\"num\">2</td><td class=\"num\">1</td><td class=\"num\">50.0%</td></tr>"),
        "{funnel}"
    );

    // The stored weekly report.
    let insights = unescape(panel(&page, "panel-insights"));
    assert!(insights.contains(&report.week), "{insights}");
    assert!(insights.contains(&report.summary_markdown), "{insights}");
    for a in &report.anomalies {
        assert!(insights.contains(&a.description), "{}", a.description);
    }

    // The audit: each month's latest run, as ListAuditRuns says, and the
    // latest run's report shown as text.
    let audit = panel(&page, "panel-audit");
    for (month, verdict, class) in [
        (&this, "PASS", "v-pass"),
        (&previous, "WARNING", "v-warning"),
    ] {
        let runs = app
            .client
            .list_audit_runs(pb::ListAuditRunsRequest {
                month: month.clone(),
                page: Some(PageRequest {
                    page_size: 1,
                    page_token: String::new(),
                }),
            })
            .await
            .unwrap()
            .into_inner()
            .runs;
        let run_at = rfc3339(runs[0].finished_at.as_ref()).unwrap();
        let row = format!(
            "<tr><th scope=\"row\">{month}</th><td><span class=\"verdict {class}\">{verdict}</span></td><td>{run_at}</td></tr>"
        );
        assert!(audit.contains(&row), "{row}\n{audit}");
    }
    assert!(
        audit.contains(&format!("<h3>Latest run: {this}, PASS</h3>")),
        "{audit}"
    );
    assert!(audit.contains("<h4>Executive summary</h4>"), "{audit}");
    assert!(audit.contains("<strong>PASS</strong>"), "{audit}");
    assert!(audit.contains("<td>usd</td><td>1</td>"), "{audit}");
    assert!(
        audit.contains("&#60;script&#62;") || audit.contains("&lt;script&gt;"),
        "{audit}"
    );
    assert!(
        !page.body.contains("<script"),
        "stored markdown is never HTML"
    );

    // No lifecycle configured: the panel says so.
    let stages = panel(&page, "panel-stages");
    assert!(
        stages.contains("lifecycle service is unreachable"),
        "{stages}"
    );
}

#[sqlx::test(migrations = false)]
async fn with_lifecycle_down_the_page_still_renders_and_the_panel_says_so(pool: PgPool) {
    let args = MetricsArgs {
        lifecycle_addr: "127.0.0.1:1".into(),
        ..args(DASHBOARD_TOKEN)
    };
    let app = spawn_app_with(pool, args).await;
    let addr = app.server.http_addr;
    let cookie = sign_in(addr, DASHBOARD_TOKEN).await;
    let page = get(addr, "/dashboard/overview", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let stages = panel(&page, "panel-stages");
    assert!(
        stages
            .contains("The lifecycle service is unreachable: the lifecycle service at 127.0.0.1:1"),
        "{stages}"
    );
}

#[sqlx::test(migrations = false)]
async fn with_lifecycle_up_the_panel_shows_users_per_stage(pool: PgPool) {
    let lifecycle = crate::fake_lifecycle::spawn().await;
    let args = MetricsArgs {
        lifecycle_addr: format!("http://{lifecycle}"),
        ..args(DASHBOARD_TOKEN)
    };
    let app = spawn_app_with(pool, args).await;
    let addr = app.server.http_addr;
    let cookie = sign_in(addr, DASHBOARD_TOKEN).await;
    let page = get(addr, "/dashboard/overview", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let stages = panel(&page, "panel-stages");
    for (stage, users) in [("trial", 3), ("active", 5), ("at_risk", 1), ("churned", 2)] {
        let row = format!("<tr><th scope=\"row\">{stage}</th><td class=\"num\">{users}</td></tr>");
        assert!(stages.contains(&row), "{row}\n{stages}");
    }
    assert!(!stages.contains("unreachable"), "{stages}");
}

#[sqlx::test(migrations = false)]
async fn with_no_data_each_panel_says_what_to_run(pool: PgPool) {
    let app = app(pool).await;
    let addr = app.server.http_addr;
    let cookie = sign_in(addr, DASHBOARD_TOKEN).await;
    let page = get(addr, "/dashboard/overview", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for (id, says) in [
        ("panel-mrr", "growthctl subscriptions import"),
        ("panel-active", "growthctl events track"),
        ("panel-funnel", "growthctl users upsert"),
        (
            "panel-insights",
            "No weekly report yet: run <code>growthctl insights weekly</code>",
        ),
        ("panel-audit", "growthctl audit run --month"),
        ("panel-stages", "lifecycle service is unreachable"),
    ] {
        let p = panel(&page, id);
        assert!(p.contains(says), "{id}: {p}");
    }
}

#[sqlx::test(migrations = false)]
async fn a_bad_months_parameter_gets_a_400_naming_it(pool: PgPool) {
    let app = app(pool).await;
    let addr = app.server.http_addr;
    let cookie = sign_in(addr, DASHBOARD_TOKEN).await;
    for (query, name) in [
        ("months=0", "months"),
        ("months=121", "months"),
        ("months=twelve", "months"),
        ("period=week", "period"),
    ] {
        let a = get(addr, &format!("/dashboard/overview?{query}"), Some(&cookie)).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{query}");
        assert_secure_headers(&a, query);
        assert!(
            a.body.contains(&format!("<code>{name}</code>")),
            "{query}: {}",
            a.body
        );
    }
    let a = get(addr, "/dashboard/overview?months=x", Some(&cookie)).await;
    assert!(a.body.contains("from 1 to 120"), "{}", a.body);
    let ok = get(addr, "/dashboard/overview?months=3", Some(&cookie)).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert!(ok.body.contains("value=\"3\""), "the form keeps the window");
}

#[sqlx::test(migrations = false)]
async fn the_overview_and_retention_pages_say_their_server_time(pool: PgPool) {
    let app = app(pool).await;
    let addr = app.server.http_addr;
    let home = get(addr, "/dashboard", None).await;
    assert_eq!(
        home.header(reqwest::header::LOCATION),
        "/dashboard/overview"
    );
    let cookie = sign_in(addr, DASHBOARD_TOKEN).await;
    for path in ["/dashboard/overview", "/dashboard/retention"] {
        let a = get(addr, path, Some(&cookie)).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        // assert_secure_headers checks `Server-Timing: app;dur=<ms>`.
        assert_secure_headers(&a, path);
    }
}

#[sqlx::test(migrations = false)]
async fn slow_reads_are_remembered_unless_told_to_read_on_every_load(pool: PgPool) {
    let mut remembers = app(pool.clone()).await;
    let every_load = MetricsArgs {
        dashboard_remember_seconds: 0,
        ..args(DASHBOARD_TOKEN)
    };
    let reads = spawn_app_with(pool, every_load).await;
    let (a, b) = (remembers.server.http_addr, reads.server.http_addr);
    let (ca, cb) = (
        sign_in(a, DASHBOARD_TOKEN).await,
        sign_in(b, DASHBOARD_TOKEN).await,
    );
    let none = "No one was active in the last 28 days";
    for (addr, cookie) in [(a, &ca), (b, &cb)] {
        let page = get(addr, "/dashboard/overview", Some(cookie)).await;
        assert!(panel(&page, "panel-active").contains(none));
    }
    upsert(
        &mut remembers,
        vec![pb::User {
            trial_ends_at: None,
            ..user("a")
        }],
    )
    .await;
    track(&mut remembers, vec![active("e1", "a", ago(1))]).await;
    let remembered = get(a, "/dashboard/overview", Some(&ca)).await;
    assert!(
        panel(&remembered, "panel-active").contains(none),
        "read a minute ago"
    );
    let read = get(b, "/dashboard/overview", Some(&cb)).await;
    let active_panel = panel(&read, "panel-active");
    assert!(!active_panel.contains(none), "{active_panel}");
    assert!(
        active_panel.contains("<td class=\"num\">1</td>"),
        "{active_panel}"
    );
}
