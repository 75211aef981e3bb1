//! Conversions between stored rows and wire messages.

use growth_proto::lifecycle::v1 as pb;
use growth_proto::timestamp::from_utc;

use crate::domain::Component;
use crate::repo::deliveries::DeliveryRow;
use crate::repo::rules::RuleRow;
use crate::repo::transitions::TransitionRow;

/// A transition on the wire.
pub fn transition(t: TransitionRow) -> pb::Transition {
    pb::Transition {
        transition_id: t.transition_id,
        user_id: t.user_id,
        from_stage: t.from_stage.map_or(0, i32::from),
        to_stage: i32::from(t.to_stage),
        occurred_at: Some(from_utc(t.occurred_at)),
        reason: t.reason,
        score: i32::from(t.score),
    }
}

/// A score component on the wire.
pub fn component(c: Component) -> pb::ScoreComponent {
    pb::ScoreComponent {
        name: c.name,
        points: c.points,
        max_points: c.max_points,
        explanation: c.explanation,
    }
}

/// A rule on the wire.
pub fn rule(r: RuleRow) -> pb::TriggerRule {
    use crate::domain::trigger::FieldSource;
    pb::TriggerRule {
        rule_id: r.rule_id.to_string(),
        from_stage: r.from_stage.map_or(0, i32::from),
        to_stage: i32::from(r.to_stage),
        action: i32::from(r.action),
        target_id: r.target_id,
        custom_fields: r
            .custom_fields
            .0
            .into_iter()
            .map(|f| pb::CustomField {
                key: f.key,
                value: match f.value {
                    FieldSource::Score => pb::CustomFieldValue::Score,
                    FieldSource::Stage => pb::CustomFieldValue::Stage,
                    FieldSource::PreviousStage => pb::CustomFieldValue::PreviousStage,
                } as i32,
            })
            .collect(),
        enabled: r.enabled,
        description: r.description,
    }
}

/// The wire status of a stored status name (`sending` is shown as pending:
/// an attempt is under way).
pub fn delivery_status(status: &str) -> pb::DeliveryStatus {
    match status {
        "delivered" => pb::DeliveryStatus::Delivered,
        "dead" => pb::DeliveryStatus::Dead,
        "skipped_no_credentials" => pb::DeliveryStatus::SkippedNoCredentials,
        _ => pb::DeliveryStatus::Pending,
    }
}

/// A delivery on the wire.
pub fn delivery(d: DeliveryRow) -> pb::TriggerDelivery {
    pb::TriggerDelivery {
        delivery_id: d.delivery_id.to_string(),
        rule_id: d.rule_id.to_string(),
        user_id: d.user_id,
        transition_id: d.transition_id,
        action: i32::from(d.action),
        target_id: d.target_id,
        status: delivery_status(&d.status) as i32,
        attempts: d.attempts,
        last_error: d.last_error.unwrap_or_default(),
        next_attempt_at: (d.status == "pending").then(|| from_utc(d.next_attempt_at)),
        created_at: Some(from_utc(d.created_at)),
        delivered_at: d.delivered_at.map(from_utc),
        idempotency_key: d.idempotency_key,
    }
}
