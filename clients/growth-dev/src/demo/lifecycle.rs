//! The demo's lifecycle steps: one example trigger rule before seeding (on a
//! fresh database), and after seeding a full evaluation so every seeded user
//! has a stage, not only those the event feed has reached.

use growth_proto::lifecycle::v1 as lc;

use growthctl::clients::Target;

/// Adds the example rule if there are no rules yet.
pub async fn add_example_rule(target: &Target) -> anyhow::Result<()> {
    let mut client = target.lifecycle().await?;
    let rules = client
        .list_trigger_rules(lc::ListTriggerRulesRequest {})
        .await?
        .into_inner()
        .rules;
    if rules.is_empty() {
        client
            .upsert_trigger_rule(lc::UpsertTriggerRuleRequest {
                rule: Some(lc::TriggerRule {
                    to_stage: lc::LifecycleStage::AtRisk as i32,
                    action: lc::KitAction::AddTag as i32,
                    target_id: "1001".into(),
                    custom_fields: vec![lc::CustomField {
                        key: "engagement_score".into(),
                        value: lc::CustomFieldValue::Score as i32,
                    }],
                    enabled: true,
                    description: "demo: tag users who become at risk".into(),
                    ..Default::default()
                }),
            })
            .await?;
    }
    Ok(())
}

/// Evaluates everyone; returns the final progress message.
pub async fn evaluate(target: &Target) -> anyhow::Result<lc::EvaluateUsersResponse> {
    growthctl::lifecycle::evaluate::to_the_end(&mut target.lifecycle().await?).await
}
