//! The weekly growth insights: ISO weeks of the reporting time zone
//! ([`week`]). Work in progress: the KPIs, anomalies, rule-based insights,
//! the AI summary and the stored reports follow.

pub mod week;
