//! Trigger rules: created, replaced, listed and deleted; bad ones refused
//! with every violation named, and nothing written.

use growth_proto::lifecycle::v1::{self as lc, KitAction, LifecycleStage as S};
use sqlx::PgPool;

use crate::helpers::*;
use crate::outbox::{add_rule, rule};

#[sqlx::test(migrations = false)]
async fn rules_are_created_replaced_listed_and_deleted_and_bad_ones_refused(pool: PgPool) {
    let mut c = spawn_with(pool, |a| a.feed_disabled = true).await;
    let created = add_rule(&mut c, rule(S::AtRisk, KitAction::AddTag, "111")).await;
    assert!(uuid::Uuid::parse_str(&created.rule_id).is_ok());
    let mut changed = created.clone();
    changed.target_id = "999".into();
    changed.from_stage = S::Active as i32;
    let replaced = add_rule(&mut c, changed).await;
    assert_eq!(
        (replaced.rule_id.as_str(), replaced.target_id.as_str()),
        (created.rule_id.as_str(), "999")
    );
    let listed = c
        .lifecycle
        .list_trigger_rules(lc::ListTriggerRulesRequest {})
        .await
        .unwrap()
        .into_inner()
        .rules;
    assert_eq!(listed, vec![replaced.clone()]);

    let mut bad = rule(S::Unspecified, KitAction::AddTag, "");
    bad.from_stage = 77;
    let s = c
        .lifecycle
        .upsert_trigger_rule(lc::UpsertTriggerRuleRequest { rule: Some(bad) })
        .await
        .unwrap_err();
    assert_eq!(s.code(), tonic::Code::InvalidArgument);
    assert_eq!(
        s.message(),
        "rule.from_stage: 77 is not a LifecycleStage; rule.to_stage: is required (LIFECYCLE_STAGE_UNSPECIFIED is not a stage); rule.target_id: is required: the Kit id of the tag, sequence or form"
    );
    let mut unknown = rule(S::Active, KitAction::AddTag, "1");
    unknown.rule_id = uuid::Uuid::new_v4().to_string();
    let s = c
        .lifecycle
        .upsert_trigger_rule(lc::UpsertTriggerRuleRequest {
            rule: Some(unknown),
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), tonic::Code::NotFound);
    assert_eq!(
        c.count("SELECT count(*) FROM lifecycle.trigger_rules")
            .await,
        1,
        "nothing written"
    );

    c.lifecycle
        .delete_trigger_rule(lc::DeleteTriggerRuleRequest {
            rule_id: replaced.rule_id.clone(),
        })
        .await
        .unwrap();
    let s = c
        .lifecycle
        .delete_trigger_rule(lc::DeleteTriggerRuleRequest {
            rule_id: replaced.rule_id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), tonic::Code::NotFound);
}
