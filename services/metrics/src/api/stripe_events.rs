//! `ListStripeEvents`: what arrived at the webhook, with what became of it.

use growth_proto::metrics::v1 as pb;
use growth_proto::paging::Page;
use growth_proto::timestamp::from_utc;
use growth_runtime::status::FieldViolation;

use crate::domain::fields;
use crate::error::MetricsError;
use crate::repo::stripe_events::{self, EventFilter, StoredEvent};
use crate::state::Metrics;

/// The stored name of an outcome; `None` for UNSPECIFIED.
fn outcome_name(outcome: pb::StripeEventOutcome) -> Option<&'static str> {
    use pb::StripeEventOutcome as O;
    Some(match outcome {
        O::Unspecified => return None,
        O::Applied => "applied",
        O::Unchanged => "unchanged",
        O::Stale => "stale",
        O::WaitingForPayment => "waiting",
        O::TypeNotHandled => "not_handled",
        O::UnknownCustomer => "unknown_customer",
    })
}

fn outcome_of(name: &str) -> pb::StripeEventOutcome {
    use pb::StripeEventOutcome as O;
    [
        O::Applied,
        O::Unchanged,
        O::Stale,
        O::WaitingForPayment,
        O::TypeNotHandled,
        O::UnknownCustomer,
    ]
    .into_iter()
    .find(|o| outcome_name(*o) == Some(name))
    .unwrap_or(O::Unspecified)
}

fn filter(r: &pb::ListStripeEventsRequest) -> Result<EventFilter, Vec<FieldViolation>> {
    let mut violations = Vec::new();
    let since = fields::optional_timestamp_any("since", r.since.as_ref())
        .map_err(|v| violations.push(v))
        .unwrap_or_default();
    let kind = r.r#type.trim();
    if kind.len() > 100
        || !kind
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
    {
        violations.push(FieldViolation::new(
            "type",
            format!("{kind:?} is not a Stripe event type (lower case, digits, '_' and '.') or a prefix ending in '.'"),
        ));
    }
    let outcome = match pb::StripeEventOutcome::try_from(r.outcome) {
        Ok(o) => outcome_name(o),
        Err(_) => {
            violations.push(FieldViolation::new(
                "outcome",
                format!("{} is not a StripeEventOutcome", r.outcome),
            ));
            None
        }
    };
    if !violations.is_empty() {
        return Err(violations);
    }
    Ok(EventFilter {
        since,
        kind: (!kind.is_empty()).then(|| kind.to_owned()),
        outcome,
    })
}

fn wire(e: StoredEvent) -> pb::StripeEvent {
    pb::StripeEvent {
        event_id: e.event_id,
        r#type: e.kind,
        created_at: Some(from_utc(e.created_at)),
        received_at: Some(from_utc(e.received_at)),
        outcome: outcome_of(&e.outcome) as i32,
        api_version: e.api_version.unwrap_or_default(),
        payment: e.payment.unwrap_or_default(),
    }
}

/// `ListStripeEvents`.
pub async fn list(
    state: &Metrics,
    r: pb::ListStripeEventsRequest,
) -> Result<pb::ListStripeEventsResponse, MetricsError> {
    let filter = filter(&r)?;
    let page = Page::read(r.page.as_ref())?;
    let offset = page.offset()?;
    let mut events = stripe_events::list(&state.pool, &filter, page.size + 1, offset).await?;
    let more = events.len() as i64 > page.size;
    events.truncate(page.size as usize);
    Ok(pb::ListStripeEventsResponse {
        events: events.into_iter().map(wire).collect(),
        next_page_token: page.next_offset(offset, more),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_maps_to_a_stored_name_and_back() {
        for n in 1..=6 {
            let o = pb::StripeEventOutcome::try_from(n).expect("defined");
            let name = outcome_name(o).expect("a stored name");
            assert_eq!(outcome_of(name), o);
        }
    }

    #[test]
    fn bad_filters_name_their_fields() {
        let r = pb::ListStripeEventsRequest {
            r#type: "Charge Refunded".into(),
            outcome: 42,
            ..Default::default()
        };
        let fields: Vec<String> = filter(&r)
            .expect_err("invalid")
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, ["type", "outcome"]);
    }
}
