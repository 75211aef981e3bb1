//! Bearer-token authentication for RPCs, as a tower layer in front of every
//! gRPC service. Health checking and reflection stay open so probes and
//! tools work without a token; every other call needs
//! `authorization: Bearer <token>` matching one configured token, compared in
//! constant time.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util_lite::Either;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
use tower_layer::Layer;
use tower_service::Service;

use crate::config::AuthPolicy;

/// Path prefixes that need no token.
const OPEN_PREFIXES: &[&str] = &["/grpc.health.v1.Health/", "/grpc.reflection."];

/// The layer; cheap to clone.
#[derive(Clone)]
pub struct AuthLayer {
    tokens: Option<Arc<[SecretString]>>,
}

impl AuthLayer {
    /// A layer enforcing `policy`. With [`AuthPolicy::Disabled`] it logs a
    /// warning once and lets everything through.
    pub fn new(policy: &AuthPolicy, service: &str) -> Self {
        match policy {
            AuthPolicy::Disabled => {
                tracing::warn!(
                    service,
                    "rpc authentication is disabled (GROWTH_INSECURE_DISABLE_AUTH): anyone who can reach the port can call every rpc"
                );
                Self { tokens: None }
            }
            AuthPolicy::Tokens(tokens) => Self {
                tokens: Some(tokens.clone().into()),
            },
        }
    }

    fn allows(&self, path: &str, headers: &http::HeaderMap) -> bool {
        let Some(tokens) = &self.tokens else {
            return true;
        };
        if OPEN_PREFIXES.iter().any(|p| path.starts_with(p)) {
            return true;
        }
        let Some(presented) = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        else {
            return false;
        };
        matches_any(presented, tokens)
    }
}

/// Whether `presented` equals one of `tokens`: compared in constant time
/// against every token, without stopping early (the RPCs' bearer tokens
/// and the dashboard's sign-in tokens).
pub fn matches_any(presented: &str, tokens: &[SecretString]) -> bool {
    tokens.iter().fold(0u8, |found, token| {
        found
            | presented
                .as_bytes()
                .ct_eq(token.expose_secret().as_bytes())
                .unwrap_u8()
    }) == 1
}

impl<S> Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Auth {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service produced by [`AuthLayer`].
#[derive(Clone)]
pub struct Auth<S> {
    inner: S,
    layer: AuthLayer,
}

impl<S, B> Service<http::Request<B>> for Auth<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = Either<std::future::Ready<Result<Self::Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if self.layer.allows(request.uri().path(), request.headers()) {
            Either::Right(self.inner.call(request))
        } else {
            let status = tonic::Status::unauthenticated(
                "missing or invalid bearer token: send `authorization: Bearer <token>`",
            );
            Either::Left(std::future::ready(Ok(status.into_http())))
        }
    }
}

/// A two-armed future without pulling in `futures-util` for one enum.
mod futures_util_lite {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    pin_project_lite::pin_project! {
        /// One of two futures with the same output.
        #[project = EitherProj]
        pub enum Either<A, B> {
            /// The first.
            Left { #[pin] inner: A },
            /// The second.
            Right { #[pin] inner: B },
        }
    }

    #[allow(non_snake_case)]
    impl<A, B> Either<A, B> {
        pub fn Left(inner: A) -> Self {
            Either::Left { inner }
        }
        pub fn Right(inner: B) -> Self {
            Either::Right { inner }
        }
    }

    impl<A: Future, B: Future<Output = A::Output>> Future for Either<A, B> {
        type Output = A::Output;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            match self.project() {
                EitherProj::Left { inner } => inner.poll(cx),
                EitherProj::Right { inner } => inner.poll(cx),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer() -> AuthLayer {
        AuthLayer::new(
            &AuthPolicy::Tokens(vec![
                SecretString::from("s3cret".to_owned()),
                SecretString::from("other".to_owned()),
            ]),
            "test",
        )
    }

    fn headers(auth: &str) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        h.insert(http::header::AUTHORIZATION, auth.parse().expect("header"));
        h
    }

    #[test]
    fn any_configured_token_is_accepted() {
        let l = layer();
        assert!(l.allows(
            "/growth.metrics.v1.MetricsService/TrackEvents",
            &headers("Bearer s3cret")
        ));
        assert!(l.allows(
            "/growth.metrics.v1.MetricsService/TrackEvents",
            &headers("Bearer other")
        ));
    }

    #[test]
    fn wrong_missing_or_malformed_tokens_are_refused() {
        let l = layer();
        let path = "/growth.metrics.v1.MetricsService/TrackEvents";
        assert!(!l.allows(path, &headers("Bearer s3cre")));
        assert!(!l.allows(path, &headers("s3cret")));
        assert!(!l.allows(path, &headers("Basic s3cret")));
        assert!(!l.allows(path, &http::HeaderMap::new()));
    }

    #[test]
    fn health_and_reflection_need_no_token() {
        let l = layer();
        let none = http::HeaderMap::new();
        assert!(l.allows("/grpc.health.v1.Health/Check", &none));
        assert!(l.allows(
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            &none
        ));
        assert!(l.allows(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
            &none
        ));
    }

    #[test]
    fn disabled_auth_lets_everything_through() {
        let l = AuthLayer::new(&AuthPolicy::Disabled, "test");
        assert!(l.allows(
            "/growth.metrics.v1.MetricsService/TrackEvents",
            &http::HeaderMap::new()
        ));
    }
}
