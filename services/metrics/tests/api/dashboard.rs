//! The dashboard over real HTTP: signing in and out (sessions in
//! PostgreSQL), the security headers on every answer, GETs that change
//! nothing, the 400, 404 and 503 pages, the retention page's cells against
//! `GetRetentionMatrix`, and exports byte for byte what growthctl prints.

// Test code: a panic with the value is the failure report.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chrono::Utc;
use growth_proto::common::v1::Granularity;
use growth_proto::export::matrix as export;
use growth_proto::metrics::v1::{self as pb, RetentionMetric, RetentionMode};
use metrics_svc::config::MetricsArgs;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::cohort_fixtures::{active, import, paid, refresh, signup};
use crate::helpers::*;

pub const DASHBOARD_TOKEN: &str = "dash-token-1";

pub fn args(tokens: &str) -> MetricsArgs {
    MetricsArgs {
        dashboard_tokens: tokens.into(),
        ..MetricsArgs::default()
    }
}

pub async fn app(pool: PgPool) -> TestApp {
    spawn_app_with(pool, args(DASHBOARD_TOKEN)).await
}

/// An HTTP client that does not follow redirects.
pub fn http() -> reqwest::Client {
    metrics_svc::stripe::client::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn url(addr: std::net::SocketAddr, path: &str) -> String {
    format!("http://{addr}{path}")
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

async fn read(response: reqwest::Response) -> Answer {
    Answer {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

/// GET `path` with the session `cookie` (or none).
pub async fn get(addr: std::net::SocketAddr, path: &str, cookie: Option<&str>) -> Answer {
    let mut request = http().get(url(addr, path));
    if let Some(c) = cookie {
        request = request.header(header::COOKIE, c);
    }
    read(request.send().await.unwrap()).await
}

/// POST a form to `path` as a dashboard page does (Origin: this host),
/// or with `origin` instead.
async fn post(
    addr: std::net::SocketAddr,
    path: &str,
    form: &[(&str, &str)],
    cookie: Option<&str>,
    origin: Option<&str>,
) -> Answer {
    let mut request = http()
        .post(url(addr, path))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).unwrap());
    let here = format!("http://{addr}");
    if let Some(o) = origin.or(Some(here.as_str())).filter(|o| !o.is_empty()) {
        request = request.header(header::ORIGIN, o);
    }
    if let Some(c) = cookie {
        request = request.header(header::COOKIE, c);
    }
    read(request.send().await.unwrap()).await
}

/// Signs in with `token`; the `name=value` of the session cookie.
pub async fn sign_in(addr: std::net::SocketAddr, token: &str) -> String {
    let answer = post(addr, "/dashboard/sign-in", &[("token", token)], None, None).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    cookie_of(&answer)
}

fn cookie_of(answer: &Answer) -> String {
    let set = answer.header(header::SET_COOKIE);
    set.split(';').next().unwrap().to_owned()
}

async fn sessions(app: &TestApp) -> i64 {
    app.count("dashboard_sessions").await
}

/// HTML text as read: the entities the templates escape with undone.
pub fn unescape(html: &str) -> String {
    html.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&lt;", "<")
        .replace("&#62;", ">")
        .replace("&gt;", ">")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

pub fn assert_secure_headers(a: &Answer, what: &str) {
    let csp = a.header(header::CONTENT_SECURITY_POLICY);
    for part in [
        "default-src 'none'",
        "frame-ancestors 'none'",
        "style-src 'self'",
    ] {
        assert!(csp.contains(part), "{what}: CSP {csp:?}");
    }
    assert!(!csp.contains("unsafe"), "{what}: CSP {csp:?}");
    assert!(!csp.contains("script-src"), "{what}: no script allowed");
    assert_eq!(
        a.header(header::X_CONTENT_TYPE_OPTIONS),
        "nosniff",
        "{what}"
    );
    assert_eq!(a.header(header::REFERRER_POLICY), "same-origin", "{what}");
    let timing = a.header(header::HeaderName::from_static("server-timing"));
    let app = timing.split(',').next().unwrap_or_default();
    let ms = app.strip_prefix("app;dur=").map(str::parse::<f64>);
    assert!(
        matches!(ms, Some(Ok(ms)) if ms >= 0.0),
        "{what}: Server-Timing {timing:?}"
    );
    if a.header(header::CONTENT_TYPE).starts_with("text/html") {
        assert!(!a.body.contains("<script"), "{what}: no script");
        assert!(!a.body.contains(" style="), "{what}: no inline style");
        assert_eq!(a.header(header::CACHE_CONTROL), "no-store", "{what}");
    }
}

#[sqlx::test(migrations = false)]
async fn without_a_session_pages_send_people_to_the_sign_in_form(pool: PgPool) {
    let app = app(pool).await;
    let addr = app.server.http_addr;
    for path in [
        "/dashboard/retention?period=day",
        "/dashboard/retention?format=csv",
    ] {
        let a = get(addr, path, None).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{path}");
        let next = serde_urlencoded::to_string([("next", path)]).unwrap();
        assert_eq!(
            a.header(header::LOCATION),
            format!("/dashboard/sign-in?{next}")
        );
        assert!(a.body.is_empty(), "no data without a session");
    }
    let forged = format!("growth_dashboard={}", "ab".repeat(32));
    let a = get(addr, "/dashboard/retention", Some(&forged)).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "an unknown session id");
    let home = get(addr, "/dashboard", None).await;
    assert_eq!(home.header(header::LOCATION), "/dashboard/overview");

    let form = get(
        addr,
        "/dashboard/sign-in?next=%2Fdashboard%2Fretention%3Fperiod%3Dday",
        None,
    )
    .await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body
            .contains("method=\"post\" action=\"/dashboard/sign-in\"")
    );
    assert!(
        form.body
            .contains("value=\"/dashboard/retention?period=day\""),
        "{}",
        form.body
    );
}

#[sqlx::test(migrations = false)]
async fn a_wrong_token_or_a_form_from_elsewhere_is_refused_and_writes_nothing(pool: PgPool) {
    let app = app(pool).await;
    let addr = app.server.http_addr;
    let wrong = post(addr, "/dashboard/sign-in", &[("token", "nope")], None, None).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("not accepted"), "{}", wrong.body);
    assert!(!wrong.body.contains("nope"), "the token is not echoed");
    assert_eq!(wrong.header(header::SET_COOKIE), "");
    let rpc_token = post(addr, "/dashboard/sign-in", &[("token", TOKEN)], None, None).await;
    assert_eq!(
        rpc_token.status,
        StatusCode::UNAUTHORIZED,
        "RPC tokens do not sign in"
    );
    for origin in ["https://evil.example", "null", ""] {
        let a = post(
            addr,
            "/dashboard/sign-in",
            &[("token", DASHBOARD_TOKEN)],
            None,
            Some(origin),
        )
        .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "Origin {origin:?}");
        assert_eq!(a.header(header::SET_COOKIE), "");
    }
    assert_eq!(sessions(&app).await, 0);
}

#[sqlx::test(migrations = false)]
async fn the_right_token_signs_in_with_a_strict_cookie_and_signing_out_ends_the_session(
    pool: PgPool,
) {
    let app = app(pool).await;
    let addr = app.server.http_addr;
    let next = "/dashboard/retention?period=month";
    let a = post(
        addr,
        "/dashboard/sign-in",
        &[("token", DASHBOARD_TOKEN), ("next", next)],
        None,
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.header(header::LOCATION), next);
    let set = a.header(header::SET_COOKIE);
    for part in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/dashboard",
        "Secure",
        "Max-Age=43200",
    ] {
        assert!(set.contains(part), "{set}");
    }
    let cookie = cookie_of(&a);
    assert_eq!(sessions(&app).await, 1);
    let stored: Vec<u8> = sqlx::query_scalar("SELECT id_hash FROM metrics.dashboard_sessions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let id = cookie.split_once('=').unwrap().1;
    assert_ne!(stored, id.as_bytes(), "only a hash of the id is stored");

    let page = get(addr, next, Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);

    let evil = post(
        addr,
        "/dashboard/sign-out",
        &[],
        Some(&cookie),
        Some("https://evil.example"),
    )
    .await;
    assert_eq!(evil.status, StatusCode::FORBIDDEN);
    assert_eq!(
        sessions(&app).await,
        1,
        "a cross-site sign-out does nothing"
    );

    let out = post(addr, "/dashboard/sign-out", &[], Some(&cookie), None).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.header(header::SET_COOKIE).contains("Max-Age=0"));
    assert_eq!(sessions(&app).await, 0, "the session is gone server-side");
    let after = get(addr, next, Some(&cookie)).await;
    assert_eq!(
        after.status,
        StatusCode::SEE_OTHER,
        "the kept cookie is worthless"
    );
}

#[sqlx::test(migrations = false)]
async fn removing_a_token_ends_the_sessions_signed_in_with_it(pool: PgPool) {
    let app = app(pool.clone()).await;
    let cookie = sign_in(app.server.http_addr, DASHBOARD_TOKEN).await;
    let other = spawn_app_with(pool, args("another-token")).await;
    let a = get(
        other.server.http_addr,
        "/dashboard/retention",
        Some(&cookie),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let still = get(app.server.http_addr, "/dashboard/retention", Some(&cookie)).await;
    assert_eq!(
        still.status,
        StatusCode::OK,
        "where the token is configured"
    );
}

#[sqlx::test(migrations = false)]
async fn every_answer_carries_the_security_headers(pool: PgPool) {
    let app = app(pool).await;
    let addr = app.server.http_addr;
    let cookie = sign_in(addr, DASHBOARD_TOKEN).await;
    for (path, status) in [
        ("/dashboard/sign-in", StatusCode::OK),
        ("/dashboard/retention", StatusCode::OK),
        ("/dashboard/overview", StatusCode::OK),
        ("/dashboard/overview?months=0", StatusCode::BAD_REQUEST),
        ("/dashboard/retention?period=year", StatusCode::BAD_REQUEST),
        ("/dashboard/retention?format=csv", StatusCode::OK),
        ("/dashboard/nowhere", StatusCode::NOT_FOUND),
        ("/dashboard/static/dashboard.css", StatusCode::OK),
        ("/dashboard", StatusCode::SEE_OTHER),
        ("/dashboard/sign-out", StatusCode::METHOD_NOT_ALLOWED),
    ] {
        let a = get(addr, path, Some(&cookie)).await;
        assert_eq!(a.status, status, "{path}: {}", a.body);
        assert_secure_headers(&a, path);
    }
    let refused = post(addr, "/dashboard/sign-in", &[("token", "x")], None, None).await;
    assert_secure_headers(&refused, "refused sign-in");
    let css = get(addr, "/dashboard/static/dashboard.css", None).await;
    assert_eq!(css.header(header::CONTENT_TYPE), "text/css; charset=utf-8");
}

#[sqlx::test(migrations = false)]
async fn gets_change_nothing(pool: PgPool) {
    let mut app = app(pool).await;
    seed(&mut app).await;
    let addr = app.server.http_addr;
    let cookie = sign_in(addr, DASHBOARD_TOKEN).await;
    let snapshot = async |app: &TestApp| {
        let mut counts = Vec::new();
        for table in ["dashboard_sessions", "retention_rows", "users", "events"] {
            counts.push(app.count(table).await);
        }
        let sessions: Vec<(Vec<u8>, chrono::DateTime<Utc>)> = sqlx::query_as(
            "SELECT id_hash, expires_at FROM metrics.dashboard_sessions ORDER BY id_hash",
        )
        .fetch_all(&app.pool)
        .await
        .unwrap();
        (counts, sessions)
    };
    let before = snapshot(&app).await;
    for path in [
        "/dashboard/retention?period=week&mode=on-or-after",
        "/dashboard/retention?format=json",
        "/dashboard/sign-in?token=dash-token-1",
        "/dashboard/sign-out",
        "/dashboard/retention?period=nope",
    ] {
        get(addr, path, Some(&cookie)).await;
    }
    assert_eq!(snapshot(&app).await, before);
    let still = get(addr, "/dashboard/retention", Some(&cookie)).await;
    assert_eq!(
        still.status,
        StatusCode::OK,
        "a GET of sign-out signs nobody out"
    );
}

#[sqlx::test(migrations = false)]
async fn bad_parameters_get_a_400_naming_each_and_what_it_accepts(pool: PgPool) {
    let mut app = app(pool).await;
    seed(&mut app).await;
    let addr = app.server.http_addr;
    let cookie = sign_in(addr, DASHBOARD_TOKEN).await;
    for (query, names) in [
        (
            "period=year&mode=sometimes",
            vec![
                ("period", "\"year\" is not accepted", "day, week or month"),
                ("mode", "\"sometimes\" is not accepted", "on or on-or-after"),
            ],
        ),
        (
            "to=2999-01-01",
            vec![("to", "2999-01-01 is in the future", "a date YYYY-MM-DD")],
        ),
        (
            "from=2025-13-01",
            vec![("from", "is not a date (YYYY-MM-DD)", "a date YYYY-MM-DD")],
        ),
        (
            "breakdown=attributes.shoe_size",
            vec![("breakdown", "no user has the attribute", "attributes.<key>")],
        ),
        (
            "compare=1999-01-04",
            vec![(
                "compare",
                "is not a cohort of the matrix shown",
                "up to 20 cohorts",
            )],
        ),
        (
            "colour=red",
            vec![(
                "colour",
                "is not a parameter of this page",
                "period, metric, mode",
            )],
        ),
    ] {
        let a = get(
            addr,
            &format!("/dashboard/retention?{query}"),
            Some(&cookie),
        )
        .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{query}");
        let body = unescape(&a.body);
        for (name, reason, accepts) in names {
            assert!(
                body.contains(&format!("<code>{name}</code>")),
                "{query}: {body}"
            );
            assert!(body.contains(reason), "{query}: {reason}: {body}");
            assert!(body.contains(accepts), "{query}: {accepts}: {body}");
        }
    }
}

#[sqlx::test(migrations = false)]
async fn a_database_that_does_not_answer_gets_a_503_page_that_reloads_itself(pool: PgPool) {
    let app = app(pool).await;
    let down = PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(500))
        .connect_lazy("postgres://postgres@127.0.0.1:1/none")
        .unwrap();
    let auth = growth_runtime::config::AuthPolicy::Disabled;
    let server = metrics_svc::start_with(
        down,
        growth_runtime::Serve::loopback(auth, growth_runtime::Shutdown::new()),
        args(DASHBOARD_TOKEN),
    )
    .await
    .unwrap();
    let addr = server.http_addr;
    let some_session = format!("growth_dashboard={}", "ab".repeat(32));
    let page = get(addr, "/dashboard/retention?period=day", Some(&some_session)).await;
    assert_eq!(
        page.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        page.body
    );
    assert_eq!(page.header(header::RETRY_AFTER), "5");
    assert!(
        page.body
            .contains("<meta http-equiv=\"refresh\" content=\"5\">"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("database does not answer"),
        "{}",
        page.body
    );
    assert_secure_headers(&page, "503");
    let sign_in = post(
        addr,
        "/dashboard/sign-in",
        &[("token", DASHBOARD_TOKEN)],
        None,
        None,
    )
    .await;
    assert_eq!(sign_in.status, StatusCode::SERVICE_UNAVAILABLE);
    server.stop().await.unwrap();
    drop(app);
}

#[sqlx::test(migrations = false)]
async fn without_tokens_the_dashboard_is_off(pool: PgPool) {
    let app = spawn_app(pool).await;
    let a = get(app.server.http_addr, "/dashboard/sign-in", None).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(a.body.contains("DASHBOARD_TOKENS"), "{}", a.body);
    let p = post(
        app.server.http_addr,
        "/dashboard/sign-in",
        &[("token", "")],
        None,
        None,
    )
    .await;
    assert_eq!(p.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(sessions(&app).await, 0);
}

#[sqlx::test(migrations = false)]
async fn an_empty_database_says_what_to_run(pool: PgPool) {
    let app = app(pool).await;
    let cookie = sign_in(app.server.http_addr, DASHBOARD_TOKEN).await;
    let a = get(app.server.http_addr, "/dashboard/retention", Some(&cookie)).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.contains("growthctl cohorts refresh"), "{}", a.body);
    assert!(
        !a.body.contains("<table class=\"heatmap\""),
        "no empty table"
    );
}

/// Four users in the weeks of 2025-03-03 and 2025-03-10, active by hand,
/// one of them paying; and one user who signed up a minute ago, whose
/// periods have not finished.
pub async fn seed(app: &mut TestApp) {
    let now = Utc::now() - chrono::Duration::minutes(1);
    upsert(
        app,
        vec![
            signup("a", at("2025-03-03T09:00:00Z")),
            signup("b", at("2025-03-04T09:00:00Z")),
            signup("c", at("2025-03-05T09:00:00Z")),
            signup("d", at("2025-03-11T09:00:00Z")),
            signup("n", now),
        ],
    )
    .await;
    track(
        app,
        vec![
            active("a1", "a", at("2025-03-11T10:00:00Z")),
            active("a2", "a", at("2025-03-18T10:00:00Z")),
            active("b1", "b", at("2025-03-12T10:00:00Z")),
            active("d1", "d", at("2025-03-19T10:00:00Z")),
            active("n0", "n", now),
        ],
    )
    .await;
    import(
        app,
        vec![paid("pi_1", "a", 4900, "usd", "2025-03-12T10:00:00Z")],
    )
    .await;
    refresh(app, true).await;
}

async fn rpc(
    app: &mut TestApp,
    r: pb::GetRetentionMatrixRequest,
) -> pb::GetRetentionMatrixResponse {
    app.client
        .get_retention_matrix(r)
        .await
        .unwrap()
        .into_inner()
}

fn weekly(metric: RetentionMetric, mode: RetentionMode) -> pb::GetRetentionMatrixRequest {
    pb::GetRetentionMatrixRequest {
        granularity: Granularity::Week as i32,
        metric: metric as i32,
        mode: mode as i32,
        ..Default::default()
    }
}

#[sqlx::test(migrations = false)]
async fn the_heatmap_shows_what_get_retention_matrix_answers(pool: PgPool) {
    let mut app = app(pool).await;
    seed(&mut app).await;
    let addr = app.server.http_addr;
    let cookie = sign_in(addr, DASHBOARD_TOKEN).await;
    let page = get(
        addr,
        "/dashboard/retention?period=week&mode=on&compare=2025-03-03",
        Some(&cookie),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    let r = rpc(&mut app, weekly(RetentionMetric::Users, RetentionMode::On)).await;
    assert_eq!(r.rows.len(), 3, "two March weeks and this week");
    let mut unfinished = 0;
    for row in &r.rows {
        for c in &row.cells {
            let rate = format!("{:.1}%", c.retention_rate * 100.0);
            let reading = format!(
                "{} of {} active ({rate})",
                c.retained_users, row.cohort_size
            );
            let tip = if c.incomplete {
                unfinished += 1;
                format!(
                    "{} W{}: period not finished; so far {reading}",
                    row.cohort, c.offset
                )
            } else {
                format!("{} W{}: {reading}", row.cohort, c.offset)
            };
            assert!(
                page.body.contains(&format!("aria-label=\"{tip}\"")),
                "{tip}"
            );
        }
    }
    assert!(
        unfinished > 0,
        "this week's cohort has not finished its first week"
    );
    // Week 2025-03-03: a, b, c; W1 a and b active (2 of 3); week 03-10: d,
    // W1 active. The weighted mean of W1 is (2 + 1) / (3 + 1) = 75%.
    assert!(
        page.body.contains("mean W1: 75.0% of members active"),
        "{}",
        page.body
    );
    assert!(page.body.contains("<h3>Comparison</h3>"));
    assert!(
        page.body
            .contains("value=\"2025-03-03\" aria-label=\"compare 2025-03-03\" checked")
    );
    assert!(
        page.body
            .contains("<svg viewBox=\"0 0 640 280\" role=\"img\"")
    );
    assert!(page.body.contains("tabindex=\"0\""), "cells take focus");

    let absolute = get(
        addr,
        "/dashboard/retention?period=week&show=absolute",
        Some(&cookie),
    )
    .await;
    assert!(
        absolute
            .body
            .contains("aria-label=\"2025-03-03 W1: 2 of 3 active (66.7%)\">2</td>"),
        "{}",
        absolute.body
    );
    let revenue = get(
        addr,
        "/dashboard/retention?period=week&metric=revenue",
        Some(&cookie),
    )
    .await;
    assert!(
        revenue.body.contains("Net revenue, USD"),
        "{}",
        revenue.body
    );
    assert!(
        revenue
            .body
            .contains("2025-03-03 W1: 49.00 USD from a cohort of 3"),
        "{}",
        revenue.body
    );
}

#[sqlx::test(migrations = false)]
async fn exports_are_what_growthctl_prints_for_the_same_selection(pool: PgPool) {
    let mut app = app(pool).await;
    seed(&mut app).await;
    let addr = app.server.http_addr;
    let cookie = sign_in(addr, DASHBOARD_TOKEN).await;
    for (query, request) in [
        (
            "period=week",
            weekly(RetentionMetric::Users, RetentionMode::On),
        ),
        (
            "period=week&mode=on-or-after&metric=revenue",
            weekly(RetentionMetric::Revenue, RetentionMode::OnOrAfter),
        ),
        (
            "period=week&breakdown=plan&from=2025-03-01&to=2025-03-31",
            pb::GetRetentionMatrixRequest {
                breakdown: "plan".into(),
                cohorts: Some(growth_proto::common::v1::DateRange {
                    from: "2025-03-01".into(),
                    to: "2025-03-31".into(),
                }),
                ..weekly(RetentionMetric::Users, RetentionMode::On)
            },
        ),
    ] {
        let r = rpc(&mut app, request).await;
        let csv = get(
            addr,
            &format!("/dashboard/retention?{query}&format=csv"),
            Some(&cookie),
        )
        .await;
        assert_eq!(csv.status, StatusCode::OK, "{query}: {}", csv.body);
        assert_eq!(csv.header(header::CONTENT_TYPE), "text/csv; charset=utf-8");
        assert!(
            csv.header(header::CONTENT_DISPOSITION)
                .starts_with("attachment")
        );
        assert_eq!(csv.body, export::csv_text(&r), "{query}");
        let json = get(
            addr,
            &format!("/dashboard/retention?{query}&format=json"),
            Some(&cookie),
        )
        .await;
        assert_eq!(json.body, export::json_text(&r), "{query}");
        let page = get(
            addr,
            &format!("/dashboard/retention?{query}"),
            Some(&cookie),
        )
        .await;
        let csv_link = format!("/dashboard/retention?{query}&format=csv");
        let shown = unescape(&page.body);
        let linked = shown
            .split("href=\"")
            .filter_map(|h| h.split('"').next())
            .find(|h| h.ends_with("format=csv"))
            .expect("an export link");
        let ours: Vec<(String, String)> = serde_urlencoded::from_str(&csv_link[21..]).unwrap();
        let theirs: Vec<(String, String)> = serde_urlencoded::from_str(&linked[21..]).unwrap();
        for pair in ours {
            assert!(theirs.contains(&pair), "{linked} has {pair:?}");
        }
    }
}

#[sqlx::test(migrations = false)]
async fn after_the_databases_connections_are_killed_the_page_comes_back_by_itself(pool: PgPool) {
    let mut app = app(pool).await;
    seed(&mut app).await;
    let addr = app.server.http_addr;
    let cookie = sign_in(addr, DASHBOARD_TOKEN).await;
    crate::lifecycle_of_the_server::terminate_connections(&app.pool).await;
    // What the 503 page's refresh does: ask again a few seconds later.
    let mut answers = Vec::new();
    for _ in 0..20 {
        let a = get(addr, "/dashboard/retention?period=week", Some(&cookie)).await;
        answers.push(a.status);
        if a.status == StatusCode::OK {
            assert!(a.body.contains("<table class=\"heatmap\""));
            break;
        }
        assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.body);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(answers.last(), Some(&StatusCode::OK), "{answers:?}");
}
