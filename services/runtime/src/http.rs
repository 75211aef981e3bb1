//! The HTTP side listener of a service: Prometheus `/metrics`, a plain
//! `/healthz`, and whatever routes the service adds (the Stripe webhook,
//! later the dashboard).

use std::sync::OnceLock;

use axum::{Router, routing::get};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets (seconds) for every `*_seconds` histogram.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide Prometheus recorder (installed on first use; the demo and
/// tests run several services in one process, which then share it).
pub fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .expect("static bucket list is not empty")
                .build_recorder();
            let handle = recorder.handle();
            // Fails only when another recorder is already installed, in which
            // case our handle simply renders what it has.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// `/metrics` and `/healthz`, merged with the service's own `extra` routes.
pub fn router(extra: Router) -> Router {
    let handle = prometheus();
    Router::new()
        .route("/metrics", get(move || std::future::ready(handle.render())))
        .route("/healthz", get(|| std::future::ready("ok\n")))
        .merge(extra)
}
