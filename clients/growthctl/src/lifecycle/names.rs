//! Command-line values of the lifecycle enums, their short printed names
//! (the protobuf name without its type prefix, as `audit` prints them), and
//! times in and out.

use chrono::{DateTime, NaiveDate, Utc};
use clap::ValueEnum;
use growth_proto::lifecycle::v1::{
    self as pb, CustomFieldValue, DeliveryStatus, KitAction, LifecycleStage,
};

use crate::output::{self, enum_name};

/// A lifecycle stage on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StageArg {
    /// In a free trial that has not ended.
    Trial,
    /// Engaged or paying.
    Active,
    /// Engagement dropped below the at-risk threshold.
    #[value(alias = "at_risk")]
    AtRisk,
    /// Inactive past the churn window, or subscription ended.
    Churned,
    /// Came back after having churned.
    Reactivated,
    /// Signed up recently, not engaged yet.
    Onboarding,
}

impl StageArg {
    /// The protobuf value.
    pub fn proto(self) -> i32 {
        (match self {
            StageArg::Trial => LifecycleStage::Trial,
            StageArg::Active => LifecycleStage::Active,
            StageArg::AtRisk => LifecycleStage::AtRisk,
            StageArg::Churned => LifecycleStage::Churned,
            StageArg::Reactivated => LifecycleStage::Reactivated,
            StageArg::Onboarding => LifecycleStage::Onboarding,
        }) as i32
    }
}

/// An optional stage filter as the protobuf value (UNSPECIFIED = any).
pub fn stage_filter(stage: Option<StageArg>) -> i32 {
    stage.map_or(LifecycleStage::Unspecified as i32, StageArg::proto)
}

/// A Kit action on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ActionArg {
    /// Add a tag to the subscriber.
    AddTag,
    /// Remove a tag from the subscriber.
    RemoveTag,
    /// Subscribe the subscriber to a sequence.
    SubscribeSequence,
    /// Subscribe the subscriber to a form.
    SubscribeForm,
}

impl ActionArg {
    /// The protobuf value.
    pub fn proto(self) -> i32 {
        (match self {
            ActionArg::AddTag => KitAction::AddTag,
            ActionArg::RemoveTag => KitAction::RemoveTag,
            ActionArg::SubscribeSequence => KitAction::SubscribeSequence,
            ActionArg::SubscribeForm => KitAction::SubscribeForm,
        }) as i32
    }
}

/// A delivery status on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusArg {
    /// Waiting for (another) attempt.
    Pending,
    /// Kit accepted the action.
    Delivered,
    /// Gave up after the maximum attempts.
    Dead,
    /// Not sent because no Kit API key is configured.
    Skipped,
}

impl StatusArg {
    /// The protobuf value.
    pub fn proto(self) -> i32 {
        (match self {
            StatusArg::Pending => DeliveryStatus::Pending,
            StatusArg::Delivered => DeliveryStatus::Delivered,
            StatusArg::Dead => DeliveryStatus::Dead,
            StatusArg::Skipped => DeliveryStatus::SkippedNoCredentials,
        }) as i32
    }
}

/// Parses `--field KEY=score|stage|previous-stage`.
pub fn custom_field(text: &str) -> Result<pb::CustomField, String> {
    let (key, value) = text.split_once('=').ok_or_else(|| {
        format!("{text:?} is not KEY=VALUE (VALUE: score, stage, previous-stage)")
    })?;
    let key = key.trim();
    if key.is_empty() {
        return Err(format!("{text:?} has an empty KEY"));
    }
    let value = match value.trim().replace('_', "-").as_str() {
        "score" => CustomFieldValue::Score,
        "stage" => CustomFieldValue::Stage,
        "previous-stage" => CustomFieldValue::PreviousStage,
        other => {
            return Err(format!(
                "{other:?} is not a field value (score, stage, previous-stage)"
            ));
        }
    };
    Ok(pb::CustomField {
        key: key.to_owned(),
        value: value as i32,
    })
}

/// Parses an instant: RFC 3339, or a date (`YYYY-MM-DD`, midnight UTC).
pub fn instant(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            format!("{text:?} is neither RFC 3339 (2025-11-24T08:15:02Z) nor a date (2025-11-24)")
        })
}

/// A time for tables: `2025-11-24 08:15:02Z` (empty when unset).
pub fn time(ts: Option<&prost_types::Timestamp>) -> String {
    crate::output::time(ts).unwrap_or_default()
}

/// `LIFECYCLE_STAGE_AT_RISK` → `AT_RISK`; `None` for UNSPECIFIED.
pub fn stage(v: i32) -> Option<String> {
    match LifecycleStage::try_from(v) {
        Ok(LifecycleStage::Unspecified) => None,
        Ok(s) => Some(enum_name(s.as_str_name(), "LIFECYCLE_STAGE_")),
        Err(_) => Some("UNKNOWN".into()),
    }
}

/// `KIT_ACTION_ADD_TAG` → `ADD_TAG`.
pub fn action(v: i32) -> String {
    KitAction::try_from(v).map_or("UNKNOWN".into(), |v| {
        enum_name(v.as_str_name(), "KIT_ACTION_")
    })
}

/// `DELIVERY_STATUS_PENDING` → `PENDING`.
pub fn status(v: i32) -> String {
    DeliveryStatus::try_from(v).map_or("UNKNOWN".into(), |v| {
        enum_name(v.as_str_name(), "DELIVERY_STATUS_")
    })
}

/// `CUSTOM_FIELD_VALUE_PREVIOUS_STAGE` → `PREVIOUS_STAGE`.
pub fn field_value(v: i32) -> String {
    CustomFieldValue::try_from(v).map_or("UNKNOWN".into(), |v| {
        enum_name(v.as_str_name(), "CUSTOM_FIELD_VALUE_")
    })
}

/// A transition as JSON (`from` is null for a user's first stage).
pub fn transition_json(t: &pb::Transition) -> serde_json::Value {
    serde_json::json!({
        "transition_id": t.transition_id,
        "user_id": t.user_id,
        "from": stage(t.from_stage),
        "to": stage(t.to_stage),
        "occurred_at": output::time_json(t.occurred_at.as_ref()),
        "reason": t.reason,
        "score": t.score,
    })
}

/// A transition's table row: user, from → to, when, reason, score.
pub fn transition_row(t: &pb::Transition) -> Vec<String> {
    vec![
        t.user_id.clone(),
        format!(
            "{} → {}",
            stage(t.from_stage).unwrap_or_else(|| "(none)".into()),
            stage(t.to_stage).unwrap_or_default()
        ),
        time(t.occurred_at.as_ref()),
        t.reason.clone(),
        t.score.to_string(),
    ]
}

/// The header that goes with [`transition_row`].
pub const TRANSITION_HEADER: [&str; 5] = ["user", "from → to", "when", "reason", "score"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_rfc3339_or_a_date_at_midnight_utc() {
        assert_eq!(
            instant("2025-11-24T09:15:02+01:00").map(|t| t.to_rfc3339()),
            Ok("2025-11-24T08:15:02+00:00".into())
        );
        assert_eq!(
            instant("2025-11-24").map(|t| t.to_rfc3339()),
            Ok("2025-11-24T00:00:00+00:00".into())
        );
        assert!(instant("24.11.2025").is_err());
    }

    #[test]
    fn times_print_in_utc_with_seconds() {
        let ts = prost_types::Timestamp {
            seconds: 1_795_508_102,
            nanos: 0,
        };
        assert_eq!(time(Some(&ts)), "2026-11-24 08:15:02Z");
        assert_eq!(time(None), "");
    }

    #[test]
    fn a_field_needs_a_key_an_equals_sign_and_a_known_value() {
        let field = custom_field("engagement_score=score").expect("valid");
        assert_eq!(
            (field.key.as_str(), field.value),
            ("engagement_score", CustomFieldValue::Score as i32)
        );
        assert_eq!(
            custom_field("last=previous_stage").map(|f| f.value),
            Ok(CustomFieldValue::PreviousStage as i32)
        );
        assert!(custom_field("score").unwrap_err().contains("KEY=VALUE"));
        assert!(custom_field("=stage").is_err());
        assert!(custom_field("k=mood").unwrap_err().contains("mood"));
    }

    #[test]
    fn names_drop_the_proto_prefix() {
        assert_eq!(
            stage(LifecycleStage::AtRisk as i32).as_deref(),
            Some("AT_RISK")
        );
        assert_eq!(stage(0), None);
        assert_eq!(status(4), "SKIPPED_NO_CREDENTIALS");
        assert_eq!(action(3), "SUBSCRIBE_SEQUENCE");
    }
}
