//! `WatchEvents`: the cursor validated, then the feed stream of `watch`.

use std::pin::Pin;

use futures::Stream;
use growth_proto::metrics::v1 as pb;
use tonic::Status;

use crate::error::MetricsError;
use crate::state::Metrics;
use crate::watch;

/// The stream of one `WatchEvents` call.
pub type FeedStream = Pin<Box<dyn Stream<Item = Result<pb::WatchEventsResponse, Status>> + Send>>;

/// `WatchEvents`.
pub fn watch_events(
    state: &Metrics,
    r: pb::WatchEventsRequest,
) -> Result<FeedStream, MetricsError> {
    if r.after_sequence < 0 {
        return Err(MetricsError::invalid(
            "after_sequence",
            format!("must not be negative, got {}", r.after_sequence),
        ));
    }
    Ok(Box::pin(watch::stream(
        state.pool.clone(),
        state.feed.clone(),
        state.shutdown.clone(),
        r.after_sequence,
        r.max_batch_size,
        r.stop_at_end,
    )))
}
