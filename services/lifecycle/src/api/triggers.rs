//! Trigger rule and delivery RPCs.

use chrono::DateTime;
use growth_proto::lifecycle::v1::{self as pb, DeliveryStatus};
use growth_proto::paging::Page;
use uuid::Uuid;

use crate::convert;
use crate::domain::trigger::Rule;
use crate::error::LifecycleError;
use crate::repo::{deliveries, rules};
use crate::state::Lifecycle;

/// The token kind of a deliveries page: `d:<created_at in µs>:<delivery
/// id>` of the last row.
const DELIVERIES_AFTER: &str = "d";

fn uuid(field: &str, id: &str) -> Result<Uuid, LifecycleError> {
    match id.trim() {
        "" => Err(LifecycleError::invalid(field, "is required")),
        id => Uuid::parse_str(id)
            .map_err(|_| LifecycleError::invalid(field, format!("{id:?} is not a UUID"))),
    }
}

/// `ListTriggerRules`.
pub async fn list_rules(state: &Lifecycle) -> Result<pb::ListTriggerRulesResponse, LifecycleError> {
    let rows = rules::list(&state.pool).await?;
    Ok(pb::ListTriggerRulesResponse {
        rules: rows.into_iter().map(convert::rule).collect(),
    })
}

/// `UpsertTriggerRule`.
pub async fn upsert_rule(
    state: &Lifecycle,
    r: pb::UpsertTriggerRuleRequest,
) -> Result<pb::UpsertTriggerRuleResponse, LifecycleError> {
    let rule = r
        .rule
        .ok_or_else(|| LifecycleError::invalid("rule", "is required"))?;
    let rule = Rule::parse(&rule)?;
    let stored = match rule.rule_id {
        None => rules::create(&state.pool, &rule).await?,
        Some(id) => rules::replace(&state.pool, id, &rule)
            .await?
            .ok_or_else(|| {
                LifecycleError::NotFound(format!(
                    "no trigger rule {id} (leave rule_id empty to create one)"
                ))
            })?,
    };
    tracing::info!(rule_id = %stored.rule_id, created = rule.rule_id.is_none(), "trigger rule stored");
    Ok(pb::UpsertTriggerRuleResponse {
        rule: Some(convert::rule(stored)),
    })
}

/// `DeleteTriggerRule`.
pub async fn delete_rule(
    state: &Lifecycle,
    r: pb::DeleteTriggerRuleRequest,
) -> Result<pb::DeleteTriggerRuleResponse, LifecycleError> {
    let id = uuid("rule_id", &r.rule_id)?;
    if !rules::delete(&state.pool, id).await? {
        return Err(LifecycleError::NotFound(format!("no trigger rule {id}")));
    }
    tracing::info!(rule_id = %id, "trigger rule deleted");
    Ok(pb::DeleteTriggerRuleResponse {})
}

fn status_filter(value: i32) -> Result<Option<&'static str>, LifecycleError> {
    match DeliveryStatus::try_from(value) {
        Ok(DeliveryStatus::Unspecified) => Ok(None),
        Ok(DeliveryStatus::Pending) => Ok(Some("pending")),
        Ok(DeliveryStatus::Delivered) => Ok(Some("delivered")),
        Ok(DeliveryStatus::Dead) => Ok(Some("dead")),
        Ok(DeliveryStatus::SkippedNoCredentials) => Ok(Some("skipped_no_credentials")),
        Err(_) => Err(LifecycleError::invalid(
            "status",
            format!("{value} is not a DeliveryStatus"),
        )),
    }
}

/// `ListTriggerDeliveries`.
pub async fn list_deliveries(
    state: &Lifecycle,
    r: pb::ListTriggerDeliveriesRequest,
) -> Result<pb::ListTriggerDeliveriesResponse, LifecycleError> {
    let status = status_filter(r.status)?;
    let user = super::user_filter("user_id", &r.user_id)?;
    let page = Page::read(r.page.as_ref())?;
    let after = page.key(DELIVERIES_AFTER, |key| {
        let (micros, id) = key.split_once(':')?;
        let at = DateTime::from_timestamp_micros(micros.parse().ok()?)?;
        Some((at, Uuid::parse_str(id).ok()?))
    })?;
    // A row being sent is shown as pending, so the pending filter includes it.
    let statuses: Option<Vec<&str>> = status.map(|s| match s {
        "pending" => vec!["pending", "sending"],
        s => vec![s],
    });
    let rows = deliveries::list(
        &state.pool,
        statuses.as_deref(),
        user.as_deref(),
        after,
        page.size,
    )
    .await?;
    let next_page_token = page.next_key(DELIVERIES_AFTER, &rows, |last| {
        format!(
            "{}:{}",
            last.created_at.timestamp_micros(),
            last.delivery_id
        )
    });
    Ok(pb::ListTriggerDeliveriesResponse {
        deliveries: rows.into_iter().map(convert::delivery).collect(),
        next_page_token,
    })
}

/// `RetryDelivery`.
pub async fn retry_delivery(
    state: &Lifecycle,
    r: pb::RetryDeliveryRequest,
) -> Result<pb::RetryDeliveryResponse, LifecycleError> {
    let id = uuid("delivery_id", &r.delivery_id)?;
    let row = deliveries::retry(&state.pool, id)
        .await?
        .ok_or_else(|| LifecycleError::NotFound(format!("no delivery {id}")))?;
    match row.status.as_str() {
        "delivered" => Err(LifecycleError::Precondition(format!(
            "delivery {id} was already delivered; it is never sent twice"
        ))),
        "sending" => Err(LifecycleError::Precondition(format!(
            "delivery {id} is being sent right now"
        ))),
        _ => {
            state.queued(1);
            tracing::info!(delivery_id = %id, "delivery queued again");
            Ok(pb::RetryDeliveryResponse {
                delivery: Some(convert::delivery(row)),
            })
        }
    }
}
