//! Trigger rules: "when a user moves from stage A to stage B, do this Kit
//! action", validated once from the wire.

use growth_proto::lifecycle::v1::{self as pb, CustomFieldValue, KitAction};
use growth_runtime::status::{FieldViolation, no_control_chars};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::stage::Stage;

/// A Kit action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Add a tag.
    AddTag,
    /// Remove a tag.
    RemoveTag,
    /// Subscribe to a sequence.
    SubscribeSequence,
    /// Subscribe to a form.
    SubscribeForm,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 4] = [
        Action::AddTag,
        Action::RemoveTag,
        Action::SubscribeSequence,
        Action::SubscribeForm,
    ];

    /// Proto number, also stored.
    pub fn code(self) -> i16 {
        match self {
            Action::AddTag => 1,
            Action::RemoveTag => 2,
            Action::SubscribeSequence => 3,
            Action::SubscribeForm => 4,
        }
    }

    /// From the stored number.
    pub fn from_code(code: i16) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }

    /// Name in idempotency keys and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Action::AddTag => "add_tag",
            Action::RemoveTag => "remove_tag",
            Action::SubscribeSequence => "subscribe_sequence",
            Action::SubscribeForm => "subscribe_form",
        }
    }
}

/// What goes into a custom field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldSource {
    /// The score at the transition.
    Score,
    /// The stage entered.
    Stage,
    /// The stage left.
    PreviousStage,
}

/// A Kit custom field set with the action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomField {
    /// Kit's field key.
    pub key: String,
    /// Its value's source.
    pub value: FieldSource,
}

/// A validated rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// `None` to create.
    pub rule_id: Option<Uuid>,
    /// Stage left; `None` matches any (including none).
    pub from_stage: Option<Stage>,
    /// Stage entered.
    pub to_stage: Stage,
    /// The action.
    pub action: Action,
    /// Kit id of the tag, sequence or form.
    pub target_id: String,
    /// Custom fields.
    pub custom_fields: Vec<CustomField>,
    /// Disabled rules queue nothing.
    pub enabled: bool,
    /// Free text.
    pub description: String,
}

const MAX_FIELDS: usize = 10;

fn field_key_ok(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 64
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl Rule {
    /// Validates a rule from the wire; every problem is reported, with the
    /// field path under `rule`.
    pub fn parse(rule: &pb::TriggerRule) -> Result<Self, Vec<FieldViolation>> {
        let mut bad = Vec::new();
        let mut violation = |field: &str, reason: String| {
            bad.push(FieldViolation::new(format!("rule.{field}"), reason));
        };
        let rule_id = match rule.rule_id.trim() {
            "" => None,
            id => Uuid::parse_str(id)
                .map_err(|_| violation("rule_id", format!("{id:?} is not a UUID")))
                .ok(),
        };
        let from_stage = Stage::parse_filter(rule.from_stage)
            .map_err(|e| violation("from_stage", e))
            .ok()
            .flatten();
        let to_stage = Stage::parse_required(rule.to_stage)
            .map_err(|e| violation("to_stage", e))
            .ok();
        if from_stage.is_some() && from_stage == to_stage {
            violation(
                "to_stage",
                "must differ from from_stage: a transition changes the stage".into(),
            );
        }
        let action = match KitAction::try_from(rule.action) {
            Ok(KitAction::Unspecified) => {
                violation(
                    "action",
                    "is required (KIT_ACTION_UNSPECIFIED is not an action)".into(),
                );
                None
            }
            Ok(_) => i16::try_from(rule.action).ok().and_then(Action::from_code),
            Err(_) => {
                violation("action", format!("{} is not a KitAction", rule.action));
                None
            }
        };
        let target_id = rule.target_id.trim().to_owned();
        if target_id.is_empty() {
            violation(
                "target_id",
                "is required: the Kit id of the tag, sequence or form".into(),
            );
        } else if target_id.len() > 32 || !target_id.chars().all(|c| c.is_ascii_digit()) {
            violation(
                "target_id",
                format!("{target_id:?} is not a Kit id (digits only)"),
            );
        }
        if rule.custom_fields.len() > MAX_FIELDS {
            violation(
                "custom_fields",
                format!(
                    "at most {MAX_FIELDS} fields, got {}",
                    rule.custom_fields.len()
                ),
            );
        }
        let mut custom_fields: Vec<CustomField> = Vec::new();
        for (i, field) in rule.custom_fields.iter().enumerate() {
            let key = field.key.trim();
            if !field_key_ok(key) {
                violation(
                    &format!("custom_fields[{i}].key"),
                    format!("{key:?} must be 1 to 64 characters of a-z, 0-9 and _"),
                );
            } else if custom_fields.iter().any(|f| f.key == key) {
                violation(
                    &format!("custom_fields[{i}].key"),
                    format!("{key:?} appears twice"),
                );
            }
            let value = match CustomFieldValue::try_from(field.value) {
                Ok(CustomFieldValue::Score) => Some(FieldSource::Score),
                Ok(CustomFieldValue::Stage) => Some(FieldSource::Stage),
                Ok(CustomFieldValue::PreviousStage) => Some(FieldSource::PreviousStage),
                _ => {
                    violation(
                        &format!("custom_fields[{i}].value"),
                        format!(
                            "{} is not a value source (SCORE, STAGE or PREVIOUS_STAGE)",
                            field.value
                        ),
                    );
                    None
                }
            };
            if let Some(value) = value {
                custom_fields.push(CustomField {
                    key: key.to_owned(),
                    value,
                });
            }
        }
        if rule.description.chars().count() > 500 {
            violation("description", "at most 500 characters".into());
        } else if let Err(v) = no_control_chars("description", &rule.description, true) {
            violation("description", v.reason);
        }
        match (to_stage, action) {
            (Some(to_stage), Some(action)) if bad.is_empty() => Ok(Self {
                rule_id,
                from_stage,
                to_stage,
                action,
                target_id,
                custom_fields,
                enabled: rule.enabled,
                description: rule.description.trim().to_owned(),
            }),
            _ => Err(bad),
        }
    }
}

/// The outbox key of one action for one transition: the same transition
/// never queues the same action on the same target twice.
pub fn idempotency_key(transition_id: i64, action: Action, target_id: &str) -> String {
    format!("t{transition_id}:{}:{target_id}", action.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> pb::TriggerRule {
        pb::TriggerRule {
            from_stage: pb::LifecycleStage::Active as i32,
            to_stage: pb::LifecycleStage::AtRisk as i32,
            action: KitAction::AddTag as i32,
            target_id: "4242".into(),
            custom_fields: vec![pb::CustomField {
                key: "engagement_score".into(),
                value: CustomFieldValue::Score as i32,
            }],
            enabled: true,
            ..Default::default()
        }
    }

    #[test]
    fn a_valid_rule_parses() {
        let rule = Rule::parse(&valid()).unwrap();
        assert_eq!(rule.to_stage, Stage::AtRisk);
        assert_eq!(rule.action, Action::AddTag);
        assert_eq!(rule.custom_fields[0].value, FieldSource::Score);
    }

    #[test]
    fn a_description_with_a_nul_or_escape_is_refused_but_lines_are_fine() {
        let mut rule = valid();
        rule.description = "welcome\n\tsequence".into();
        assert!(Rule::parse(&rule).is_ok());
        for bad in ["a\0b", "\u{1b}[31m"] {
            rule.description = bad.into();
            let violations = Rule::parse(&rule).unwrap_err();
            assert_eq!(violations.len(), 1);
            assert_eq!(violations[0].field, "rule.description");
            assert!(violations[0].reason.contains("control characters"));
        }
    }

    #[test]
    fn every_problem_is_named() {
        let mut rule = valid();
        rule.to_stage = 0;
        rule.action = 9;
        rule.target_id = " ".into();
        rule.rule_id = "nope".into();
        rule.custom_fields.push(pb::CustomField {
            key: "Bad Key".into(),
            value: 0,
        });
        let fields: Vec<String> = Rule::parse(&rule)
            .unwrap_err()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(
            fields,
            [
                "rule.rule_id",
                "rule.to_stage",
                "rule.action",
                "rule.target_id",
                "rule.custom_fields[1].key",
                "rule.custom_fields[1].value"
            ]
        );
    }

    #[test]
    fn unknown_stages_and_same_stage_rules_are_refused() {
        let mut rule = valid();
        rule.from_stage = 17;
        let err = Rule::parse(&rule).unwrap_err();
        assert_eq!(
            err[0].to_string(),
            "rule.from_stage: 17 is not a LifecycleStage"
        );
        let mut rule = valid();
        rule.from_stage = rule.to_stage;
        assert_eq!(Rule::parse(&rule).unwrap_err()[0].field, "rule.to_stage");
    }
}
