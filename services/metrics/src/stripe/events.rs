//! Stripe's Events API (`GET /v1/events`): the events of the types the
//! webhook handles, created in a period, for the audit's missed-webhook
//! check (`audit::missed`), and one event in full, to replay it.
//!
//! Which types: the webhook's own list, [`HANDLED`], read as filters. Stripe
//! takes either `type` (one name, or a wildcard such as `charge.*`) or
//! `types[]` (up to 20 exact names), not both. A wildcard stays a `type`
//! filter of its own, so that a type Stripe adds under it is listed as the
//! webhook would handle it; the exact names go together in `types[]` lists of
//! at most 20. With today's list that is three filters (`payment_intent.*`,
//! `charge.*`, eight exact names), each listed like every listing (`fetch`):
//! far fewer pages than every event of the account, and no list of Stripe's
//! payment and charge type names to keep up to date by hand. `charge.*` also
//! lists `charge.refund.*`, which the webhook does not handle: [`handled`]
//! drops those.

use futures::future::try_join_all;
use serde::Deserialize;

use super::client::StripeClient;
use super::error::StripeError;
use super::types::Listed;
use crate::webhook::event::{Event, HANDLED, handled};

/// Exact names Stripe accepts in one `types[]` filter.
pub const TYPES_PER_FILTER: usize = 20;

/// An event as listed: its envelope and the id of its object, not the
/// object (a month of events in full would be held in memory for nothing;
/// the few that were missed are retrieved in full to be replayed).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ListedEvent {
    /// `evt_…`.
    pub id: String,
    /// E.g. `charge.refunded`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Unix seconds.
    pub created: i64,
    /// The object's id.
    #[serde(rename = "data", deserialize_with = "object_id")]
    pub object_id: Option<String>,
}

fn object_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    struct Data {
        object: Object,
    }
    #[derive(Deserialize)]
    struct Object {
        #[serde(default)]
        id: Option<String>,
    }
    Ok(Data::deserialize(d)?.object.id)
}

impl Listed for ListedEvent {
    const PATH: &'static str = "/v1/events";
    fn id(&self) -> &str {
        &self.id
    }
    fn created(&self) -> i64 {
        self.created
    }
}

/// The query parameters of each list call: one `type` per wildcard of
/// [`HANDLED`], and its exact names in `types[]` lists of at most
/// [`TYPES_PER_FILTER`].
pub fn filters() -> Vec<Vec<(&'static str, String)>> {
    let (wildcards, names): (Vec<&str>, Vec<&str>) = HANDLED.iter().partition(|p| p.ends_with('*'));
    let mut filters: Vec<Vec<(&'static str, String)>> = wildcards
        .into_iter()
        .map(|w| vec![("type", w.to_owned())])
        .collect();
    filters.extend(
        names
            .chunks(TYPES_PER_FILTER)
            .map(|chunk| chunk.iter().map(|n| ("types[]", (*n).to_owned())).collect()),
    );
    filters
}

impl StripeClient {
    /// Every event of a handled type created in `[from, to)`, oldest first.
    pub async fn handled_events(
        &self,
        from: i64,
        to: i64,
    ) -> Result<Vec<ListedEvent>, StripeError> {
        let filters = filters();
        let parts = try_join_all(
            filters
                .iter()
                .map(|f| self.list_filtered::<ListedEvent>(from, to, f)),
        )
        .await?;
        let mut events: Vec<ListedEvent> = parts
            .into_iter()
            .flatten()
            .filter(|e| handled(&e.kind))
            .collect();
        events.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.id.cmp(&b.id)));
        events.dedup_by(|a, b| a.id == b.id);
        Ok(events)
    }

    /// One event in full, as the webhook would have received it.
    pub async fn event(&self, id: &str) -> Result<Event, StripeError> {
        self.retrieve("/v1/events", id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_are_one_filter_each_and_exact_names_share_one() {
        let f = filters();
        assert_eq!(f[0], [("type", "payment_intent.*".to_owned())]);
        assert_eq!(f[1], [("type", "charge.*".to_owned())]);
        assert_eq!(f.len(), 3);
        assert_eq!(f[2].len(), 8);
        assert!(f[2].iter().all(|(k, v)| *k == "types[]" && handled(v)));
    }

    #[test]
    fn a_listed_event_keeps_the_id_of_its_object_only() {
        let e: ListedEvent = serde_json::from_str(
            r#"{"id":"evt_1","type":"charge.refunded","created":5,"data":{"object":{"id":"ch_1","amount":1}}}"#,
        )
        .expect("an event");
        assert_eq!(e.object_id.as_deref(), Some("ch_1"));
    }
}
