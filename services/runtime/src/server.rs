//! Server bootstrap, written once for both services: binds the gRPC and HTTP
//! listeners (port 0 works; the bound addresses are exposed), registers
//! `grpc.health.v1` and reflection (v1 and v1alpha), puts the auth and
//! observability layers in front of every RPC, and shuts down gracefully:
//! health flips to NOT_SERVING first, then in-flight calls drain for up to the
//! grace period.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::service::RoutesBuilder;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tower::ServiceBuilder;
use tower_service::Service;

use crate::auth::AuthLayer;
use crate::config::AuthPolicy;
use crate::observe::ObserveLayer;
use crate::shutdown::Shutdown;

/// A gRPC service ready to be served: what `add_service` accepts.
pub trait GrpcService:
    Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
    + NamedService
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<S> GrpcService for S
where
    S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
        + NamedService
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
}

/// Collects a service's parts before binding.
pub struct ServerBuilder {
    name: &'static str,
    descriptor_set: &'static [u8],
    auth: AuthPolicy,
    shutdown: Shutdown,
    grace: Duration,
    routes: RoutesBuilder,
    service_names: Vec<&'static str>,
    http_routes: axum::Router,
    components: Vec<(&'static str, tokio::sync::watch::Receiver<bool>)>,
}

impl ServerBuilder {
    /// A server called `name` (in logs and metrics) whose reflection serves
    /// `descriptor_set`, guarded by `auth`, that stops when `shutdown` fires,
    /// giving in-flight calls `grace` to finish.
    pub fn new(
        name: &'static str,
        descriptor_set: &'static [u8],
        auth: AuthPolicy,
        shutdown: Shutdown,
        grace: Duration,
    ) -> Self {
        Self {
            name,
            descriptor_set,
            auth,
            shutdown,
            grace,
            routes: RoutesBuilder::default(),
            service_names: Vec::new(),
            http_routes: axum::Router::new(),
            components: Vec::new(),
        }
    }

    /// Reports a background component's health under its own `name` in
    /// `grpc.health.v1` (SERVING while `healthy` holds true), apart from the
    /// service's: a degraded component shows without failing the probes of
    /// the whole service. It reads NOT_SERVING after shutdown like the rest.
    pub fn health_component(
        mut self,
        name: &'static str,
        healthy: tokio::sync::watch::Receiver<bool>,
    ) -> Self {
        self.components.push((name, healthy));
        self
    }

    /// Adds a gRPC service; its health status is reported under its name.
    pub fn add_service<S>(mut self, service: S) -> Self
    where
        S: GrpcService,
        S::Future: Send + 'static,
    {
        self.service_names.push(S::NAME);
        self.routes.add_service(service);
        self
    }

    /// Adds routes to the HTTP side listener.
    pub fn http_routes(mut self, routes: axum::Router) -> Self {
        self.http_routes = self.http_routes.merge(routes);
        self
    }

    /// Binds both listeners and starts serving in the background.
    pub async fn start(
        self,
        grpc_addr: SocketAddr,
        http_addr: SocketAddr,
    ) -> anyhow::Result<RunningServer> {
        let grpc_listener = TcpListener::bind(grpc_addr)
            .await
            .with_context(|| format!("cannot listen for gRPC on {grpc_addr}"))?;
        let http_listener = TcpListener::bind(http_addr)
            .await
            .with_context(|| format!("cannot listen for HTTP on {http_addr}"))?;
        let grpc_addr = grpc_listener.local_addr()?;
        let http_addr = http_listener.local_addr()?;

        let (health, health_service) = tonic_health::server::health_reporter();
        for name in std::iter::once("").chain(self.service_names.iter().copied()) {
            health
                .set_service_status(name, ServingStatus::Serving)
                .await;
        }
        for (component, mut healthy) in self.components {
            let health = health.clone();
            let shutdown = self.shutdown.clone();
            tokio::spawn(async move {
                loop {
                    let status = if *healthy.borrow_and_update() && !shutdown.is_triggered() {
                        ServingStatus::Serving
                    } else {
                        ServingStatus::NotServing
                    };
                    health.set_service_status(component, status).await;
                    tokio::select! {
                        changed = healthy.changed() => if changed.is_err() { break },
                        _ = shutdown.wait() => {
                            health.set_service_status(component, ServingStatus::NotServing).await;
                            break;
                        }
                    }
                }
            });
        }
        // Both reflection versions describe everything served, each other included.
        let reflection = || {
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(self.descriptor_set)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(
                    tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
                )
        };
        let reflection_v1 = reflection()
            .build_v1()
            .context("building the reflection service")?;
        let reflection_v1alpha = reflection()
            .build_v1alpha()
            .context("building the reflection service")?;

        let mut routes = self.routes;
        routes
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha);

        let layers = ServiceBuilder::new()
            .layer(ObserveLayer::new(self.name))
            .layer(AuthLayer::new(&self.auth, self.name));

        let name = self.name;
        let shutdown = self.shutdown.clone();
        let service_names = self.service_names.clone();
        let drain_started = {
            let shutdown = shutdown.clone();
            let health = health.clone();
            async move {
                shutdown.wait().await;
                for service in std::iter::once("").chain(service_names.iter().copied()) {
                    health
                        .set_service_status(service, ServingStatus::NotServing)
                        .await;
                }
                tracing::info!(
                    service = name,
                    "health is NOT_SERVING; draining in-flight calls"
                );
            }
        };
        let incoming = TcpIncoming::from(grpc_listener).with_nodelay(Some(true));
        let grpc = tonic::transport::Server::builder()
            .layer(layers)
            .add_routes(routes.routes())
            .serve_with_incoming_shutdown(incoming, drain_started);

        let http = axum::serve(http_listener, crate::http::router(self.http_routes))
            .with_graceful_shutdown({
                let shutdown = shutdown.clone();
                async move { shutdown.wait().await }
            });

        let grace = self.grace;
        let task = tokio::spawn(async move {
            let drained = async {
                let (grpc, http) = tokio::join!(grpc, http);
                grpc.context("gRPC server failed")?;
                http.context("HTTP listener failed")?;
                anyhow::Ok(())
            };
            tokio::pin!(drained);
            tokio::select! {
                result = &mut drained => result,
                _ = async { shutdown.wait().await; tokio::time::sleep(grace).await } => {
                    tracing::warn!(service = name, grace_seconds = grace.as_secs(), "calls still running after the grace period; stopping anyway");
                    Ok(())
                }
            }
        });
        tracing::info!(service = name, %grpc_addr, %http_addr, "serving");
        Ok(RunningServer {
            grpc_addr,
            http_addr,
            shutdown: self.shutdown,
            task,
        })
    }
}

/// A started server.
pub struct RunningServer {
    /// Where gRPC listens.
    pub grpc_addr: SocketAddr,
    /// Where the HTTP side listener listens.
    pub http_addr: SocketAddr,
    shutdown: Shutdown,
    task: JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    /// Waits until the server has stopped (after the shutdown signal fired and
    /// calls drained).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await.context("server task panicked")?
    }

    /// Fires the shutdown signal and waits for the server to stop.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.trigger();
        self.wait().await
    }

    /// The shutdown signal this server obeys.
    pub fn shutdown(&self) -> &Shutdown {
        &self.shutdown
    }
}
