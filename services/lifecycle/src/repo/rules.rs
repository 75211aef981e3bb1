//! `lifecycle.trigger_rules`.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::Stage;
use crate::domain::trigger::{Action, CustomField, Rule};

/// A stored rule.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RuleRow {
    /// Id.
    pub rule_id: Uuid,
    /// Stage left (proto number); `None` = any.
    pub from_stage: Option<i16>,
    /// Stage entered.
    pub to_stage: i16,
    /// Kit action (proto number).
    pub action: i16,
    /// Kit id.
    pub target_id: String,
    /// Custom fields.
    pub custom_fields: Json<Vec<CustomField>>,
    /// Enabled.
    pub enabled: bool,
    /// Free text.
    pub description: String,
    /// Created.
    pub created_at: DateTime<Utc>,
}

impl RuleRow {
    /// Whether a transition `from` → `to` fires this rule.
    pub fn matches(&self, from: Option<Stage>, to: Stage) -> bool {
        self.enabled
            && self.to_stage == to.code()
            && self
                .from_stage
                .is_none_or(|f| from.is_some_and(|from| from.code() == f))
    }

    /// The action, if the stored number is known.
    pub fn action(&self) -> Option<Action> {
        Action::from_code(self.action)
    }
}

const COLUMNS: &str = "rule_id, from_stage, to_stage, action, target_id, custom_fields, enabled, description, created_at";

/// Every rule, in creation order.
pub async fn list(pool: &PgPool) -> Result<Vec<RuleRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM lifecycle.trigger_rules ORDER BY created_at, rule_id");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await
}

/// The enabled rules, read inside a stage-writing transaction.
pub async fn enabled(tx: &mut PgConnection) -> Result<Vec<RuleRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM lifecycle.trigger_rules WHERE enabled ORDER BY created_at, rule_id"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *tx)
        .await
}

/// Creates `rule` (its id is ignored) under a new id.
pub async fn create(pool: &PgPool, rule: &Rule) -> Result<RuleRow, sqlx::Error> {
    let sql = format!(
        "INSERT INTO lifecycle.trigger_rules
             (rule_id, from_stage, to_stage, action, target_id, custom_fields, enabled, description)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
    );
    bind(
        sqlx::query_as(sqlx::AssertSqlSafe(sql)),
        Uuid::new_v4(),
        rule,
    )
    .fetch_one(pool)
    .await
}

/// Replaces the rule `id`; `None` when there is none.
pub async fn replace(pool: &PgPool, id: Uuid, rule: &Rule) -> Result<Option<RuleRow>, sqlx::Error> {
    let sql = format!(
        "UPDATE lifecycle.trigger_rules SET from_stage = $2, to_stage = $3, action = $4,
             target_id = $5, custom_fields = $6, enabled = $7, description = $8, updated_at = now()
         WHERE rule_id = $1 RETURNING {COLUMNS}"
    );
    bind(sqlx::query_as(sqlx::AssertSqlSafe(sql)), id, rule)
        .fetch_optional(pool)
        .await
}

type RuleQuery<'q> = sqlx::query::QueryAs<'q, sqlx::Postgres, RuleRow, sqlx::postgres::PgArguments>;

fn bind<'q>(query: RuleQuery<'q>, id: Uuid, rule: &Rule) -> RuleQuery<'q> {
    query
        .bind(id)
        .bind(rule.from_stage.map(Stage::code))
        .bind(rule.to_stage.code())
        .bind(rule.action.code())
        .bind(rule.target_id.clone())
        .bind(Json(rule.custom_fields.clone()))
        .bind(rule.enabled)
        .bind(rule.description.clone())
}

/// Deletes the rule `id`; false when there is none.
pub async fn delete(pool: &PgPool, id: Uuid) -> Result<bool, sqlx::Error> {
    let n = sqlx::query("DELETE FROM lifecycle.trigger_rules WHERE rule_id = $1")
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected();
    Ok(n == 1)
}
