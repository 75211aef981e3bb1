//! The dashboard's pages as HTML (askama templates under
//! `services/metrics/templates/dashboard/`, escaped by default), and its
//! error pages: 400 naming each bad parameter and what it accepts, 403 for
//! a form from elsewhere, 404, 503 while the database is down (the page
//! reloads itself every few seconds, so it recovers without anyone
//! clicking) or the dashboard is off, and a generic 500.

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use tonic::Code;

use super::params::BadParam;
use crate::error::MetricsError;

/// Seconds the 503 page waits before reloading, and its `Retry-After`.
pub const RETRY_SECONDS: u32 = 5;

/// A rendered page with `status`; a template that fails to render is a 500.
pub fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error.cause_chain = ?e, "dashboard page did not render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "dashboard/sign_in.html")]
struct SignInPage<'a> {
    next: &'a str,
    error: &'a str,
}

/// The sign-in form, going on to `next`, with `error` when a try failed.
pub fn sign_in(status: StatusCode, next: &str, error: Option<&str>) -> Response {
    html(
        status,
        &SignInPage {
            next,
            error: error.unwrap_or_default(),
        },
    )
}

#[derive(Template)]
#[template(path = "dashboard/error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
    bad: &'a [BadParam],
    refresh: u32,
}

fn error_page(status: StatusCode, title: &str, message: &str, bad: &[BadParam]) -> Response {
    let refresh = if status == StatusCode::SERVICE_UNAVAILABLE {
        RETRY_SECONDS
    } else {
        0
    };
    let mut response = html(
        status,
        &ErrorPage {
            title,
            message,
            bad,
            refresh,
        },
    );
    if refresh > 0 {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, refresh.into());
    }
    response
}

/// 400: every bad parameter, with what it accepts.
pub fn bad_request(bad: &[BadParam]) -> Response {
    error_page(
        StatusCode::BAD_REQUEST,
        "Bad request",
        "This address asks for something the dashboard cannot show. Fix these parameters:",
        bad,
    )
}

/// 404 for any other dashboard path.
pub async fn not_found() -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is no such dashboard page. The overview is at /dashboard/overview, the retention page at /dashboard/retention.",
        &[],
    )
}

/// 403 for a sign-in or sign-out not posted from a dashboard page.
pub fn cross_site() -> Response {
    error_page(
        StatusCode::FORBIDDEN,
        "Refused",
        "This form was not sent from a dashboard page (its Origin is another site or missing), so it was refused.",
        &[],
    )
}

/// 503 while no token is configured.
pub fn dashboard_off() -> Response {
    error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Dashboard off",
        "The dashboard is off: no one can sign in until DASHBOARD_TOKENS is set on the metrics service.",
        &[],
    )
}

/// The page for a failed request, through the service's one error table:
/// invalid input is a 400 (the RPC's fields named by their parameters), a
/// database that does not answer a 503, anything else a 500 that leaks
/// nothing (the cause is logged by the error table).
pub fn failure(error: MetricsError) -> Response {
    if let MetricsError::Invalid(violations) = error {
        return bad_request(&super::params::from_violations(violations));
    }
    let status = tonic::Status::from(error);
    match status.code() {
        Code::Unavailable => error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Database unavailable",
            "The metrics database does not answer right now. This page reloads by itself every few seconds and shows the data again when the database is back.",
            &[],
        ),
        Code::NotFound => error_page(StatusCode::NOT_FOUND, "Not found", status.message(), &[]),
        _ => error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal error",
            "Something went wrong on the server; the cause is in the service log.",
            &[],
        ),
    }
}
