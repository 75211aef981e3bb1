//! The weekly report on a constructed dataset with known answers, in a
//! non-UTC reporting time zone (Europe/Berlin): KPIs of a week, a week
//! crossing a month, revisions kept on regeneration, reads by week and
//! revision, Slack posts queued, and bad weeks refused naming the input.

// Test code: a panic with the value is the failure report.
#![allow(clippy::unwrap_used)]

use growth_proto::metrics::v1 as pb;
use sqlx::PgPool;
use tonic::Code;

use crate::cohort_fixtures::{active, import, paid, refunded};
use crate::helpers::*;
use crate::revenue_fixtures::{self, state, with_status};

fn member(id: &str, signup: &str, trial_ends: Option<&str>) -> pb::User {
    pb::User {
        signup_at: ts(at(signup)),
        trial_ends_at: trial_ends.and_then(|t| ts(at(t))),
        ..user(id)
    }
}

async fn generate(app: &mut TestApp, week: &str, notify: bool) -> pb::GrowthReport {
    app.client
        .generate_growth_insights(pb::GenerateGrowthInsightsRequest {
            week: week.into(),
            use_llm: false,
            notify,
        })
        .await
        .unwrap()
        .into_inner()
        .report
        .unwrap()
}

fn kpi<'a>(r: &'a pb::GrowthReport, name: &str) -> &'a pb::Kpi {
    r.kpis
        .iter()
        .find(|k| k.name == name)
        .unwrap_or_else(|| panic!("no KPI {name}"))
}

async fn dataset(app: &mut TestApp) {
    // Berlin is UTC+1 in November: 2025-11-16T23:30Z is Monday the 17th.
    upsert(
        app,
        vec![
            member("a", "2025-11-16T23:30:00Z", None),
            member("b", "2025-11-18T10:00:00Z", Some("2025-11-19T10:00:00Z")),
            member("c", "2025-11-19T10:00:00Z", Some("2025-11-21T10:00:00Z")),
            member("d", "2025-11-12T10:00:00Z", None),
            member("e", "2025-11-16T22:30:00Z", None), // Sunday the 16th, W46
            member("f", "2025-10-01T10:00:00Z", None),
            member("g", "2025-08-01T10:00:00Z", None),
        ],
    )
    .await;
    track(
        app,
        vec![
            active("e1", "a", at("2025-11-17T09:00:00Z")),
            active("e2", "b", at("2025-11-20T09:00:00Z")),
            active("e3", "d", at("2025-11-13T09:00:00Z")), // W46 only
            active("e4", "f", at("2025-11-23T22:30:00Z")), // Sunday 23:30 Berlin
            active("e5", "f", at("2025-11-23T23:30:00Z")), // Monday the 24th, W48
            active("e6", "g", at("2025-09-01T10:00:00Z")),
            active("e7", "g", at("2025-11-21T10:00:00Z")), // back after 11 weeks
        ],
    )
    .await;
    // b converts (paid the day after the trial ended), c does not.
    // g pays once and gets a quarter back the next day.
    let g = paid("pi_g", "g", 2000, "usd", "2025-11-21T10:00:00Z");
    import(
        app,
        vec![
            paid("pi_b", "b", 4900, "usd", "2025-11-20T10:00:00Z"),
            refunded(g, 500, Some("2025-11-22T10:00:00Z")),
        ],
    )
    .await;
    let d = state(
        "sub_d",
        "d",
        3000,
        "usd",
        "2025-10-01T00:00:00Z",
        "2025-10-01T00:00:00Z",
    );
    let mut d_canceled = with_status(d.clone(), pb::SubscriptionStatus::Canceled);
    d_canceled.effective_at = ts(at("2025-11-20T12:00:00Z"));
    d_canceled.ended_at = d_canceled.effective_at;
    let a = state(
        "sub_a",
        "a",
        5000,
        "usd",
        "2025-11-18T12:00:00Z",
        "2025-11-18T12:00:00Z",
    );
    // f starts paying at 00:30 on November 1st in Berlin (Oct 31 in UTC):
    // week 44 (Oct 27 to Nov 2) crosses the month.
    let f = state(
        "sub_f",
        "f",
        1000,
        "eur",
        "2025-10-31T23:30:00Z",
        "2025-10-31T23:30:00Z",
    );
    revenue_fixtures::import(app, vec![d, d_canceled, a, f]).await;
}

#[sqlx::test(migrations = false)]
async fn a_weeks_report_has_the_known_answers_and_keeps_its_revisions(pool: PgPool) {
    let args = metrics_svc::config::MetricsArgs {
        reporting_time_zone: "Europe/Berlin".into(),
        ..metrics_svc::config::MetricsArgs::default()
    };
    let mut app = spawn_app_with(pool.clone(), args).await;
    dataset(&mut app).await;

    let r = generate(&mut app, "2025-W47", false).await;
    assert_eq!(
        (r.week.as_str(), r.revision, r.time_zone.as_str()),
        ("2025-W47", 1, "Europe/Berlin")
    );
    let signups = kpi(&r, "signups");
    assert_eq!(
        (signups.value, signups.previous),
        (3.0, 2.0),
        "a, b, c against d, e"
    );
    assert_eq!(signups.history.len(), 12);
    // Active in W47 (Berlin days): a on Monday the 17th, b on Thursday, g
    // on Friday, f on Sunday at 23:30; d only in W46 (the 13th).
    assert_eq!((kpi(&r, "wau").value, kpi(&r, "wau").previous), (4.0, 1.0));
    assert_eq!(kpi(&r, "dau").value, 4.0 / 7.0, "the week's mean DAU");
    // The 28 days to Sunday the 23rd: a, b, d, f, g.
    assert_eq!(kpi(&r, "mau").value, 5.0);
    // DAU/MAU of each day (MAU 2, 2, 2, 3, 4, 4, 5), averaged over the week.
    let sticky = (1.0 / 2.0 + 1.0 / 3.0 + 1.0 / 4.0 + 1.0 / 5.0) / 7.0;
    assert!((kpi(&r, "stickiness").value - sticky).abs() < 1e-12);
    // a, b and f for the first time; g after more than 28 days away.
    assert_eq!(kpi(&r, "new_actives").value, 3.0);
    assert_eq!(kpi(&r, "resurrected").value, 1.0);
    // Of the trials ending in W47 (b, c), b paid.
    assert!((kpi(&r, "trial_conversion").value - 0.5).abs() < 1e-12);
    let mrr = kpi(&r, "mrr_usd");
    assert_eq!(
        (mrr.value, mrr.previous, mrr.currency.as_str()),
        (5000.0, 3000.0, "usd")
    );
    assert_eq!(kpi(&r, "churned_customers_usd").value, 1.0);
    let usd = r.mrr.iter().find(|m| m.currency == "usd").unwrap();
    assert_eq!(
        (
            usd.mrr_at_start_minor,
            usd.new_minor,
            usd.churned_minor,
            usd.mrr_minor
        ),
        (3000, 5000, 3000, 5000)
    );
    assert_eq!(usd.quick_ratio, Some(5000.0 / 3000.0));
    assert_eq!(usd.arr_minor, 60_000);
    // a is the one paying customer at the week's end.
    assert_eq!(usd.arpa_minor, 5000.0);
    assert_eq!((usd.gross_revenue_minor, usd.refunds_minor), (6900, 500));
    assert_eq!(usd.refund_share, Some(500.0 / 6900.0));
    assert!(
        r.plans
            .iter()
            .any(|p| p.plan == "plan-5000" && p.new_customers == 1)
    );
    assert!(!r.lifecycle_reachable);
    assert_eq!(r.ai.as_ref().unwrap().status, pb::AiStatus::Skipped as i32);
    assert!(
        r.report_markdown
            .starts_with("# Weekly growth report 2025-W47")
    );
    for section in [
        "## Summary",
        "## KPIs",
        "## Drivers",
        "## Bottlenecks",
        "## Anomalies",
        "## Recommendations",
        "## Lifecycle stages",
    ] {
        assert!(r.report_markdown.contains(section), "{section}");
    }
    assert!(r.insights.iter().any(|i| i.rule == "mrr_growth"));
    assert_eq!(
        r.week_start.as_ref().unwrap().seconds,
        at("2025-11-16T23:00:00Z").timestamp()
    );

    // A week crossing a month: f's November 1st (Berlin) start is in W44.
    let w44 = generate(&mut app, "2025-W44", false).await;
    let eur = w44.mrr.iter().find(|m| m.currency == "eur").unwrap();
    assert_eq!((eur.mrr_at_start_minor, eur.new_minor), (0, 1000));

    // Regenerating keeps history.
    let again = generate(&mut app, "2025-W47", false).await;
    assert_eq!(again.revision, 2);
    let list = app
        .client
        .list_growth_reports(pb::ListGrowthReportsRequest {
            week: "2025-W47".into(),
            page: None,
        })
        .await
        .unwrap()
        .into_inner();
    let revisions: Vec<i32> = list.reports.iter().map(|r| r.revision).collect();
    assert_eq!(revisions, [2, 1]);
    assert!(
        list.reports
            .iter()
            .all(|r| r.kpis.is_empty() && r.report_markdown.is_empty())
    );
    let first = app
        .client
        .get_growth_report(pb::GetGrowthReportRequest {
            week: "2025-W47".into(),
            revision: 1,
        })
        .await
        .unwrap()
        .into_inner()
        .report
        .unwrap();
    assert_eq!(
        (first.report_id.as_str(), first.report_markdown.as_str()),
        (r.report_id.as_str(), r.report_markdown.as_str())
    );
    let latest = app
        .client
        .get_growth_report(pb::GetGrowthReportRequest::default())
        .await
        .unwrap()
        .into_inner()
        .report
        .unwrap();
    assert_eq!((latest.week.as_str(), latest.revision), ("2025-W47", 2));
}

#[sqlx::test(migrations = false)]
async fn bad_weeks_are_refused_and_missing_reports_are_not_found(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    for (week, says) in [
        ("2025-W54", "2025 has weeks 01 to 52, not 54"),
        ("2025-47", "is not an ISO week"),
        ("2999-W01", "is not over yet"),
    ] {
        let refused = app
            .client
            .generate_growth_insights(pb::GenerateGrowthInsightsRequest {
                week: week.into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{week}");
        assert!(
            refused.message().contains("week") && refused.message().contains(says),
            "{week}: {}",
            refused.message()
        );
    }
    let missing = app
        .client
        .get_growth_report(pb::GetGrowthReportRequest {
            week: "2025-W47".into(),
            revision: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
}

#[sqlx::test(migrations = false)]
async fn a_slack_outage_delays_the_reports_post_but_it_is_posted_once(pool: PgPool) {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/T/B/X"))
        .respond_with(ResponseTemplate::new(503).set_body_string("service unavailable"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&slack)
        .await;
    Mock::given(method("POST"))
        .and(path("/services/T/B/X"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&slack)
        .await;
    let url = format!("{}/services/T/B/X", slack.uri());
    let args = metrics_svc::config::MetricsArgs {
        slack_webhook_url: url.as_str().into(),
        alert_poll_interval_ms: 50,
        alert_retry_base_ms: 50,
        ..metrics_svc::config::MetricsArgs::default()
    };
    let mut app = spawn_app_with(pool.clone(), args).await;
    let r = generate(&mut app, "2025-W47", true).await;
    let mut settled = Vec::new();
    for _ in 0..200 {
        settled = sqlx::query_as::<_, (String, String, i32)>(
            "SELECT channel, status, attempts FROM metrics.alert_outbox WHERE report_id = $1::uuid",
        )
        .bind(&r.report_id)
        .fetch_all(&pool)
        .await
        .unwrap();
        if settled.iter().all(|(_, status, _)| status != "pending") && !settled.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(settled, [("slack".to_owned(), "delivered".to_owned(), 3)]);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let posts = slack.received_requests().await.unwrap();
    assert_eq!(posts.len(), 3, "two refused, one accepted, none after");
    let text = String::from_utf8_lossy(&posts[2].body).into_owned();
    assert!(text.contains("Weekly growth report 2025-W47"), "{text}");
}

#[sqlx::test(migrations = false)]
async fn a_report_is_written_when_lifecycle_is_down_and_says_so(pool: PgPool) {
    let args = metrics_svc::config::MetricsArgs {
        lifecycle_addr: "127.0.0.1:1".into(),
        ..metrics_svc::config::MetricsArgs::default()
    };
    let mut app = spawn_app_with(pool, args).await;
    let r = generate(&mut app, "", false).await;
    assert!(!r.lifecycle_reachable);
    assert!(r.stages.is_empty());
    assert!(
        r.lifecycle_error.contains("127.0.0.1:1"),
        "{}",
        r.lifecycle_error
    );
    assert!(
        r.report_markdown
            .contains("Not available: the lifecycle service at 127.0.0.1:1")
    );
    assert!(r.insights.iter().any(|i| i.rule == "lifecycle_unreachable"));
}

async fn with_ai(pool: PgPool, server: &wiremock::MockServer) -> TestApp {
    let args = metrics_svc::config::MetricsArgs {
        anthropic_api_key: crate::fake_anthropic::KEY.into(),
        anthropic_api_base: server.uri(),
        ..metrics_svc::config::MetricsArgs::default()
    };
    spawn_app_with(pool, args).await
}

#[sqlx::test(migrations = false)]
async fn the_ai_writes_the_summary_when_it_answers(pool: PgPool) {
    use crate::fake_anthropic::{answer, bodies, good_input, reply};
    let server = wiremock::MockServer::start().await;
    answer(&server, reply(good_input()), 1).await;
    let mut app = with_ai(pool, &server).await;
    dataset(&mut app).await;
    let r = app
        .client
        .generate_growth_insights(pb::GenerateGrowthInsightsRequest {
            week: "2025-W47".into(),
            use_llm: true,
            notify: false,
        })
        .await
        .unwrap()
        .into_inner()
        .report
        .unwrap();
    let ai = r.ai.as_ref().unwrap();
    assert_eq!(ai.status, pb::AiStatus::Used as i32, "{}", ai.reason);
    assert_eq!((ai.input_tokens, ai.output_tokens), (640, 120));
    assert_eq!(r.summary_source, pb::SummarySource::Llm as i32);
    assert!(r.summary_markdown.starts_with("MRR grew **4.2%**"));
    assert!(
        r.summary_markdown
            .contains("- Follow up on the 3 failed trial conversions.")
    );
    // Only aggregates went out: no user id or e-mail of the dataset.
    let sent = String::from_utf8(bodies(&server).await.concat()).unwrap();
    for personal in ["a@example.com", "\"b\"", "sub_d", "cus_"] {
        assert!(!sent.contains(personal), "{personal} was sent");
    }
}

#[sqlx::test(migrations = false)]
async fn a_failed_ai_still_writes_the_report_and_says_why(pool: PgPool) {
    use crate::fake_anthropic::{answer, error};
    let server = wiremock::MockServer::start().await;
    answer(
        &server,
        error(400, "invalid_request_error", "bad request"),
        1,
    )
    .await;
    let mut app = with_ai(pool, &server).await;
    let r = app
        .client
        .generate_growth_insights(pb::GenerateGrowthInsightsRequest {
            week: "2025-W47".into(),
            use_llm: true,
            notify: false,
        })
        .await
        .unwrap()
        .into_inner()
        .report
        .unwrap();
    let ai = r.ai.as_ref().unwrap();
    assert_eq!(ai.status, pb::AiStatus::Failed as i32);
    assert!(ai.reason.contains("400"), "{}", ai.reason);
    assert_eq!(r.summary_source, pb::SummarySource::Rules as i32);
    assert!(r.summary_markdown.starts_with("Week 2025-W47:"));
    assert!(r.report_markdown.contains("AI failed"));
    assert!(!r.report_markdown.contains(crate::fake_anthropic::KEY));
}
