//! TLS for outgoing HTTPS (Stripe, Kit, Slack, GitHub): reqwest is built with
//! rustls but no default crypto provider, so each service installs ring once.

/// Installs ring as rustls' crypto provider (the only one this project
/// builds); harmless when already installed.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
