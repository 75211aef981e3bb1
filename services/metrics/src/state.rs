//! What the RPCs and the service's background tasks share.

use std::sync::Arc;

use growth_runtime::Shutdown;

use crate::alerts::AlertQueue;
use crate::audit::verdict::Thresholds;
use crate::repo::Pool;
use crate::reporting;
use crate::stripe::StripeClient;
use crate::watch::FeedSignal;

/// The metrics service's shared state; cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    /// The `metrics` schema.
    pub pool: Pool,
    /// Time zone and activity events (the rollup is already ensured).
    pub reporting: Arc<reporting::Settings>,
    /// Wakes feed streams when events are committed.
    pub feed: FeedSignal,
    /// Ends feed streams when the service stops.
    pub shutdown: Shutdown,
    /// The audit's Stripe client; `None` refuses audits.
    pub stripe: Option<StripeClient>,
    /// What makes an audit WARNING or FAIL.
    pub thresholds: Thresholds,
    /// The audit's price → plan map and stale-money limit.
    pub drift: Arc<crate::audit::settings::DriftSettings>,
    /// Where an audit's alerts go.
    pub alerts: AlertQueue,
    /// The lifecycle service, when `LIFECYCLE_ADDR` is set (the weekly
    /// report's stage distribution).
    pub lifecycle: Option<crate::lifecycle::Lifecycle>,
    /// The Anthropic settings, when `ANTHROPIC_API_KEY` is set (the weekly
    /// report's AI summary).
    pub ai: Option<crate::insights::ai::AiConfig>,
}
