//! A shutdown signal shared by every task of a service: fired by SIGTERM,
//! Ctrl-C, or explicitly (tests, the demo).

use std::sync::Arc;

use tokio::sync::watch;

/// Cloneable handle; every clone sees the same signal.
#[derive(Clone, Debug)]
pub struct Shutdown {
    sender: Arc<watch::Sender<bool>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    /// A signal that has not fired.
    pub fn new() -> Self {
        Self {
            sender: Arc::new(watch::channel(false).0),
        }
    }

    /// Fires the signal (idempotent).
    pub fn trigger(&self) {
        self.sender.send_replace(true);
    }

    /// Whether the signal has fired.
    pub fn is_triggered(&self) -> bool {
        *self.sender.borrow()
    }

    /// Resolves once the signal has fired (at once if it already has).
    pub async fn wait(&self) {
        let mut receiver = self.sender.subscribe();
        // An error means the sender is gone, which cannot happen while `self`
        // holds it; either way the wait is over.
        let _ = receiver.wait_for(|fired| *fired).await;
    }

    /// Fires the signal on SIGTERM or Ctrl-C, from a background task.
    pub fn trigger_on_signals(&self) {
        let this = self.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutdown signal received");
            this.trigger();
        });
    }
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops the service");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_clone_sees_the_trigger() {
        let shutdown = Shutdown::new();
        let waiter = {
            let s = shutdown.clone();
            tokio::spawn(async move { s.wait().await })
        };
        assert!(!shutdown.is_triggered());
        shutdown.clone().trigger();
        waiter.await.expect("waiter finishes");
        assert!(shutdown.is_triggered());
        shutdown.wait().await; // already fired: returns at once
    }
}
