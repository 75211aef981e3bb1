//! The weekly growth insights: ISO weeks of the reporting time zone
//! ([`week`]), KPIs with their trends ([`kpi`]), robust anomalies
//! ([`anomaly`]), rule-based drivers, bottlenecks and recommendations
//! ([`rules`]), the optional AI summary ([`ai`]). Work in progress: the
//! stored reports follow.

pub mod ai;
pub mod anomaly;
pub mod kpi;
pub mod rules;
pub mod week;
