//! The weekly growth insights: ISO weeks of the reporting time zone
//! ([`week`]), KPIs with their trends ([`kpi`]), robust anomalies
//! ([`anomaly`]). Work in progress: the rule-based insights, the AI summary
//! and the stored reports follow.

pub mod anomaly;
pub mod kpi;
pub mod week;
