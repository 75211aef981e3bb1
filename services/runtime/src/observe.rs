//! A tower layer that gives every RPC a tracing span and records Prometheus
//! metrics: `grpc_server_requests_total` and
//! `grpc_server_request_duration_seconds`, labelled by service, method and
//! gRPC code. For streaming RPCs the code and duration are those of the
//! stream's start (the response headers), not of its end.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use growth_proto::status::code_name;
use tower_layer::Layer;
use tower_service::Service;
use tracing::Instrument;

/// The layer; `service` labels every metric.
#[derive(Clone)]
pub struct ObserveLayer {
    service: &'static str,
}

impl ObserveLayer {
    /// A layer labelling metrics with `service`.
    pub fn new(service: &'static str) -> Self {
        Self { service }
    }
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Observe {
            inner,
            service: self.service,
        }
    }
}

/// The service produced by [`ObserveLayer`].
#[derive(Clone)]
pub struct Observe<S> {
    inner: S,
    service: &'static str,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, R> Service<http::Request<B>> for Observe<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let method = request.uri().path().to_owned();
        let span = tracing::info_span!(
            "rpc",
            service = self.service,
            rpc.method = %method,
            rpc.code = tracing::field::Empty,
        );
        let service = self.service;
        let response = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        let start = Instant::now();
        Box::pin(
            async move {
                let result = response.await;
                let code = match &result {
                    Ok(response) => code_of(response.headers()),
                    Err(_) => tonic::Code::Internal,
                };
                let elapsed = start.elapsed().as_secs_f64();
                let code_name = code_name(code);
                tracing::Span::current().record("rpc.code", code_name);
                tracing::debug!(elapsed_ms = elapsed * 1000.0, "rpc finished");
                let labels = [
                    ("service", service.to_owned()),
                    ("method", method),
                    ("code", code_name.to_owned()),
                ];
                metrics::counter!("grpc_server_requests_total", &labels).increment(1);
                metrics::histogram!("grpc_server_request_duration_seconds", &labels)
                    .record(elapsed);
                result
            }
            .instrument(span),
        )
    }
}

/// The gRPC code in response headers (a trailers-only error response); OK
/// when absent, since the status then comes in the trailers of a response
/// that started successfully.
fn code_of(headers: &http::HeaderMap) -> tonic::Code {
    headers
        .get("grpc-status")
        .map(|v| tonic::Code::from_bytes(v.as_bytes()))
        .unwrap_or(tonic::Code::Ok)
}
