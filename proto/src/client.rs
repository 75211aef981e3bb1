//! The client side, for the CLI, the tests, and one service calling the
//! other: a channel to an address and an interceptor that adds the bearer
//! token.

use std::time::Duration;

use anyhow::Context as _;
use secrecy::{ExposeSecret, SecretString};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::transport::{Channel, Endpoint};

/// Adds `authorization: Bearer <token>` to every call (nothing when no token).
#[derive(Clone, Default)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

impl Bearer {
    /// An interceptor sending `token`, if any. Fails when the token cannot be
    /// sent as a header (non-ASCII or control characters).
    pub fn new(token: Option<&SecretString>) -> anyhow::Result<Self> {
        let Some(token) = token else {
            return Ok(Self(None));
        };
        let mut value: MetadataValue<Ascii> = format!("Bearer {}", token.expose_secret())
            .parse()
            .map_err(|_| {
            anyhow::anyhow!("the auth token contains characters that cannot be sent in a header")
        })?;
        value.set_sensitive(true);
        Ok(Self(Some(value)))
    }
}

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// An endpoint for `addr` ("host:port" or a full `http://` URL) with sane
/// connect and keep-alive settings.
pub fn endpoint(addr: &str) -> anyhow::Result<Endpoint> {
    let url = if addr.contains("://") {
        addr.to_owned()
    } else {
        format!("http://{addr}")
    };
    Ok(Endpoint::from_shared(url)
        .with_context(|| format!("{addr:?} is not a valid address (expected host:port)"))?
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_while_idle(true))
}

/// Connects now, so that an unreachable service is reported at once.
pub async fn connect(addr: &str) -> anyhow::Result<Channel> {
    endpoint(addr)?
        .connect()
        .await
        .with_context(|| format!("cannot connect to {addr}"))
}
