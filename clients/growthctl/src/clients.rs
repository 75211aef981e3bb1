//! Connections to the services, with the bearer token attached.

use growth_proto::client::{Bearer, connect};
use growth_proto::lifecycle::v1::lifecycle_service_client::LifecycleServiceClient;
use growth_proto::metrics::v1::metrics_service_client::MetricsServiceClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::cli::Cli;

/// A metrics client with the token attached.
pub type Metrics = MetricsServiceClient<InterceptedService<Channel, Bearer>>;

/// A lifecycle client with the token attached.
pub type Lifecycle = LifecycleServiceClient<InterceptedService<Channel, Bearer>>;

/// Largest message the CLI sends or accepts.
const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// Where the services are and how to authenticate.
#[derive(Clone)]
pub struct Target {
    /// Metrics service address.
    pub metrics_addr: String,
    /// Lifecycle service address.
    pub lifecycle_addr: String,
    bearer: Bearer,
}

impl Target {
    /// From the global flags.
    pub fn from_cli(cli: &Cli) -> anyhow::Result<Self> {
        Self::new(&cli.metrics_addr, &cli.lifecycle_addr, cli.token.as_ref())
    }

    /// From addresses and a token.
    pub fn new(
        metrics_addr: &str,
        lifecycle_addr: &str,
        token: Option<&secrecy::SecretString>,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            metrics_addr: metrics_addr.to_owned(),
            lifecycle_addr: lifecycle_addr.to_owned(),
            bearer: Bearer::new(token)?,
        })
    }

    /// Connects to the metrics service.
    pub async fn metrics(&self) -> anyhow::Result<Metrics> {
        let channel = connect(&self.metrics_addr).await?;
        Ok(
            MetricsServiceClient::with_interceptor(channel, self.bearer.clone())
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
    }

    /// Connects to the lifecycle service.
    pub async fn lifecycle(&self) -> anyhow::Result<Lifecycle> {
        let channel = connect(&self.lifecycle_addr).await?;
        Ok(
            LifecycleServiceClient::with_interceptor(channel, self.bearer.clone())
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
    }
}
