//! What the activity rollup is built with: the reporting time zone and which
//! events count as activity. The stored settings must match the configured
//! ones; when they do not (a changed zone or activity list), the rollup is
//! rebuilt from the raw events before the service serves.

use sqlx::PgPool;

/// The rollup's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupSettings {
    /// IANA name, e.g. `UTC` or `Europe/Berlin`.
    pub time_zone: String,
    /// Event names that count as activity; `None` = every event.
    pub activity_events: Option<Vec<String>>,
}

impl Default for RollupSettings {
    fn default() -> Self {
        Self {
            time_zone: "UTC".to_owned(),
            activity_events: None,
        }
    }
}

impl RollupSettings {
    /// Checks the zone with PostgreSQL (which cuts the days); the error
    /// names the setting.
    pub async fn validate(&self, pool: &PgPool) -> anyhow::Result<()> {
        let ok: Option<bool> =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1)")
                .bind(&self.time_zone)
                .fetch_optional(pool)
                .await?;
        if ok != Some(true) {
            anyhow::bail!(
                "REPORTING_TIME_ZONE: {:?} is not a time zone PostgreSQL knows (use an IANA name such as UTC or Europe/Berlin)",
                self.time_zone
            );
        }
        if let Some(names) = &self.activity_events
            && names.iter().any(|n| n.trim().is_empty())
        {
            anyhow::bail!("ACTIVITY_EVENTS: event names must not be empty");
        }
        Ok(())
    }

    /// The settings the stored rollup was built with.
    pub async fn stored(pool: &PgPool) -> Result<Self, sqlx::Error> {
        let (time_zone, activity_events): (String, Option<Vec<String>>) = sqlx::query_as(
            "SELECT time_zone, activity_events FROM metrics.rollup_settings WHERE singleton",
        )
        .fetch_one(pool)
        .await?;
        Ok(Self {
            time_zone,
            activity_events,
        })
    }
}
