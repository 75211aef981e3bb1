//! The dashboard: server-rendered pages on the service's HTTP listener under
//! `/dashboard` (see docs/DASHBOARD.md). Pages read through the same `api`
//! functions as the RPCs (the retention page is `GetRetentionMatrix`), so
//! there is no second copy of any query or validation; the dashboard is an
//! adapter like `grpc.rs`, for browsers.
//!
//! `auth` (sessions, same-origin forms), `sign_in` (sign-in and sign-out),
//! `headers` (the security headers every answer carries), `compress` (gzip,
//! inside the timed part), `params` (query strings into requests, bad ones
//! named), `overview` (the KPI overview page), `retention` (the retention
//! page and its exports), `view` (what the pages show, computed: pure),
//! `pages` (the templates, and the error pages), `timing` (a page's reads in
//! `Server-Timing`). Every answer says its server time (`Server-Timing`).

pub mod auth;
pub mod compress;
pub mod headers;
pub mod memo;
pub mod overview;
pub mod pages;
pub mod params;
pub mod retention;
pub mod session;
mod sign_in;
pub mod timing;
pub mod view;

use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{any, get, post};
use secrecy::{ExposeSecret, SecretString};

use crate::state::Metrics;

/// The dashboard's stylesheet, built into the binary.
pub const CSS: &str = include_str!("../../static/dashboard.css");
/// The page `/dashboard` leads to, and where a sign-in lands by default.
pub const HOME: &str = "/dashboard/overview";
/// Where the stylesheet is served.
pub const CSS_PATH: &str = "/dashboard/static/dashboard.css";

/// How people sign in.
#[derive(Clone)]
pub struct Settings {
    /// `DASHBOARD_TOKENS`; none: the dashboard is off (pages answer 503).
    pub tokens: Vec<SecretString>,
    /// How long a sign-in lasts.
    pub session_ttl: chrono::Duration,
    /// Whether the session cookie is `Secure`.
    pub secure_cookie: bool,
    /// How long the overview shows its slow reads before reading them
    /// again (zero: on every load).
    pub remember: std::time::Duration,
}

/// What the dashboard's handlers share; cheap to clone.
#[derive(Clone)]
pub struct Dashboard {
    /// The service's state: what the RPCs run on.
    pub state: Metrics,
    /// Sign-in settings.
    pub settings: Arc<Settings>,
    /// The SHA-256 of each token, to check a session's token is still
    /// configured.
    pub token_hashes: Arc<[Vec<u8>]>,
    /// The overview's remembered slow reads.
    pub overview: overview::Memos,
}

/// The dashboard's routes, each answer with the security headers.
pub fn router(state: Metrics, settings: Settings) -> Router {
    let token_hashes = settings
        .tokens
        .iter()
        .map(|t| session::digest(t.expose_secret()))
        .collect();
    let overview = overview::Memos::new(settings.remember);
    let dashboard = Dashboard {
        state,
        settings: Arc::new(settings),
        token_hashes,
        overview,
    };
    Router::new()
        .route("/dashboard", get(home))
        .route("/dashboard/", get(home))
        .route(
            "/dashboard/sign-in",
            get(sign_in::form).post(sign_in::submit),
        )
        .route("/dashboard/sign-out", post(sign_in::sign_out))
        .route("/dashboard/overview", get(overview::page))
        .route("/dashboard/retention", get(retention::page))
        .route(CSS_PATH, get(css))
        .route("/dashboard/{*rest}", any(pages::not_found))
        .layer(axum::middleware::from_fn(compress::gzip))
        .layer(axum::middleware::from_fn(headers::secure))
        .with_state(dashboard)
}

async fn home() -> Redirect {
    Redirect::to(HOME)
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}
