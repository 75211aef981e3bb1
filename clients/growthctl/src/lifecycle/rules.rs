//! `lifecycle rules list|add|rm`: the trigger rules. The service validates
//! them; a refused rule comes back as INVALID_ARGUMENT naming the field
//! (`rule.target_id`), which the CLI prints as it is.

use std::process::ExitCode;

use anyhow::Context as _;
use growth_proto::lifecycle::v1 as pb;
use serde_json::{Value, json};

use super::RuleArgs;
use super::names::{self, stage};
use crate::cli::Format;
use crate::clients::Lifecycle;
use crate::output;

fn rule_json(r: &pb::TriggerRule) -> Value {
    json!({
        "rule_id": r.rule_id,
        "from": stage(r.from_stage),
        "to": stage(r.to_stage),
        "action": names::action(r.action),
        "target_id": r.target_id,
        "custom_fields": r.custom_fields.iter().map(|f| json!({
            "key": f.key,
            "value": names::field_value(f.value),
        })).collect::<Vec<_>>(),
        "enabled": r.enabled,
        "description": r.description,
    })
}

fn rules_table(rules: &[pb::TriggerRule]) -> comfy_table::Table {
    let mut table = output::table([
        "rule",
        "from → to",
        "action",
        "target",
        "fields",
        "enabled",
        "description",
    ]);
    for r in rules {
        let fields: Vec<String> = r
            .custom_fields
            .iter()
            .map(|f| format!("{}={}", f.key, names::field_value(f.value)))
            .collect();
        table.add_row(vec![
            r.rule_id.clone(),
            format!(
                "{} → {}",
                stage(r.from_stage).unwrap_or_else(|| "(any)".into()),
                stage(r.to_stage).unwrap_or_default()
            ),
            names::action(r.action),
            r.target_id.clone(),
            fields.join(", "),
            if r.enabled { "yes" } else { "no" }.into(),
            r.description.clone(),
        ]);
    }
    table
}

/// `rules list`.
pub async fn list(client: &mut Lifecycle, format: Format) -> anyhow::Result<ExitCode> {
    let rules = client
        .list_trigger_rules(pb::ListTriggerRulesRequest {})
        .await?
        .into_inner()
        .rules;
    let json = Value::Array(rules.iter().map(rule_json).collect());
    output::emit(format, json, || rules_table(&rules));
    Ok(ExitCode::SUCCESS)
}

/// `rules add`.
pub async fn add(
    client: &mut Lifecycle,
    args: &RuleArgs,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let rule = pb::TriggerRule {
        rule_id: String::new(),
        from_stage: names::stage_filter(args.from),
        to_stage: args.to.proto(),
        action: args.action.proto(),
        target_id: args.target.clone(),
        custom_fields: args.fields.clone(),
        enabled: !args.disabled,
        description: args.description.clone(),
    };
    let stored = client
        .upsert_trigger_rule(pb::UpsertTriggerRuleRequest { rule: Some(rule) })
        .await?
        .into_inner()
        .rule
        .context("the service returned no rule")?;
    output::emit(format, rule_json(&stored), || {
        rules_table(std::slice::from_ref(&stored))
    });
    Ok(ExitCode::SUCCESS)
}

/// `rules rm RULE_ID`.
pub async fn rm(client: &mut Lifecycle, rule_id: &str, format: Format) -> anyhow::Result<ExitCode> {
    client
        .delete_trigger_rule(pb::DeleteTriggerRuleRequest {
            rule_id: rule_id.to_owned(),
        })
        .await?;
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&json!({"deleted": rule_id})).unwrap_or_default()
        ),
        Format::Table | Format::Md | Format::Csv => println!("rule {rule_id} deleted"),
    }
    Ok(ExitCode::SUCCESS)
}
