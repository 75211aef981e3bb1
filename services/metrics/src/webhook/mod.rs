//! The Stripe webhook endpoint (`POST /stripe/webhook` on the HTTP
//! listener): verifies `Stripe-Signature`, then records and applies the event
//! once. A bad signature or body gets 400 and nothing is written; a database
//! failure gets 503 so that Stripe retries.

pub mod event;
pub mod facts;
pub mod fold;
#[cfg(test)]
mod fold_tests;
pub mod shape;
pub mod signature;
pub mod subscription;

use std::sync::Arc;

use crate::repo::Pool;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

use crate::repo::webhook::{Outcome, Received, apply};

/// Where Stripe posts events.
pub const PATH: &str = "/stripe/webhook";

struct Endpoint {
    pool: Pool,
    secret: Option<SecretString>,
}

/// The webhook route over `pool`, verifying with `secret` (without one the
/// endpoint answers 503 and writes nothing).
pub fn router(pool: Pool, secret: Option<SecretString>) -> axum::Router {
    axum::Router::new()
        .route(PATH, post(receive))
        .with_state(Arc::new(Endpoint { pool, secret }))
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn receive(
    State(endpoint): State<Arc<Endpoint>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(secret) = &endpoint.secret else {
        return reply(
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({"error": "STRIPE_WEBHOOK_SECRET is not configured on the metrics service"}),
        );
    };
    let header = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    if let Err(e) = signature::verify(
        secret.expose_secret(),
        header,
        &body,
        Utc::now().timestamp(),
    ) {
        tracing::warn!(reason = %e, "stripe webhook refused");
        return reply(
            StatusCode::BAD_REQUEST,
            serde_json::json!({"error": e.to_string()}),
        );
    }
    let event: event::Event = match serde_json::from_slice(&body) {
        Ok(event) => event,
        Err(e) => {
            return reply(
                StatusCode::BAD_REQUEST,
                serde_json::json!({"error": format!("not a Stripe event: {e}")}),
            );
        }
    };
    match record(&endpoint.pool, &event).await {
        Ok(outcome) => {
            metrics::counter!("stripe_webhook_events_total", "type" => event.kind.clone(), "outcome" => outcome.as_str()).increment(1);
            reply(
                StatusCode::OK,
                serde_json::json!({"received": true, "outcome": outcome.as_str()}),
            )
        }
        Err(Rejected::Invalid(e)) => {
            reply(StatusCode::BAD_REQUEST, serde_json::json!({"error": e}))
        }
        Err(Rejected::Database(e)) => {
            tracing::error!(error.cause_chain = ?growth_runtime::status::CauseChain(&e), event_id = %event.id, "stripe webhook not applied");
            reply(
                StatusCode::SERVICE_UNAVAILABLE,
                serde_json::json!({"error": "temporarily unable to record the event; retry"}),
            )
        }
    }
}

/// Why an event was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum Rejected {
    /// A handled type whose object lacks what it needs; nothing was written.
    #[error("{0}")]
    Invalid(String),
    /// The database failed; nothing was written, and a retry may succeed.
    #[error("the event could not be recorded")]
    Database(#[source] crate::repo::DbError),
}

/// Records `event` once by its id and applies the change it stands for: what
/// the endpoint does after verifying the signature, and what the audit's
/// replay of missed events does (`audit::missed`). A second call with the same
/// event id changes nothing and answers [`Outcome::Duplicate`].
pub async fn record(pool: &Pool, event: &event::Event) -> Result<Outcome, Rejected> {
    let change = event::change(event).map_err(Rejected::Invalid)?;
    let created = DateTime::from_timestamp(event.created, 0).unwrap_or_else(Utc::now);
    let received = Received {
        event_id: &event.id,
        kind: &event.kind,
        created,
        api_version: event.api_version.as_deref(),
    };
    apply(pool, received, &change)
        .await
        .map_err(Rejected::Database)
}
