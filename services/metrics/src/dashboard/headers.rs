//! The security headers on every dashboard answer: a strict
//! Content-Security-Policy (no script at all, styles only from the
//! dashboard's own stylesheet, no framing, forms only to this site),
//! `nosniff`, a referrer policy that keeps `Origin` on same-site forms, and
//! no caching of pages (they hold data behind a sign-in); and the
//! `Server-Timing` of every answer (`app;dur=<ms>`: the time from the request
//! reaching the dashboard to its answer, body rendered and compressed),
//! first, before the reads a page timed itself (`super::timing`).

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The Content-Security-Policy of every dashboard answer.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
                       form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the headers to the answer of `next`. A `Cache-Control` the handler
/// set (the stylesheet's) is kept.
pub async fn secure(request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let mut response = next.run(request).await;
    // Pages render their body in the handler, so this is the server's time.
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let reads = response
        .headers()
        .get("server-timing")
        .and_then(|v| v.to_str().ok())
        .map(|v| format!(", {v}"))
        .unwrap_or_default();
    if let Ok(value) = HeaderValue::from_str(&format!("app;dur={ms:.1}{reads}")) {
        response.headers_mut().insert("server-timing", value);
    }
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // `same-origin`, not `no-referrer`: with no-referrer browsers send
    // `Origin: null` on form posts, which the same-origin check refuses.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}
