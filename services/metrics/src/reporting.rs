//! The reporting settings of the whole service: the time zone that cuts
//! days, weeks and months (cohorts, retention, revenue months) and which
//! events count as activity. Ingest maintains the activity rollup with them;
//! the stored rollup must match them, and when it does not (a changed zone
//! or activity list) it is rebuilt from the raw events before the service
//! serves.

/// How the service reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// IANA name, e.g. `UTC` or `Europe/Berlin`.
    pub time_zone: String,
    /// Event names that count as activity; `None` = every event.
    pub activity_events: Option<Vec<String>>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            time_zone: "UTC".to_owned(),
            activity_events: None,
        }
    }
}

impl Settings {
    /// Checks the settings; `zone_known` says whether PostgreSQL (which cuts
    /// the days) knows the time zone. The error names the setting.
    pub fn validate(&self, zone_known: bool) -> anyhow::Result<()> {
        if !zone_known {
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
}
