//! The weekly growth insights: ISO weeks of the reporting time zone
//! ([`week`]), KPIs with their trends ([`kpi`]), robust anomalies
//! ([`anomaly`]), rule-based drivers, bottlenecks and recommendations
//! ([`rules`]), the week's report computed from its inputs ([`report`]).
//! Work in progress: the AI summary and the stored reports follow.

pub mod anomaly;
pub mod kpi;
pub mod report;
pub mod rules;
pub mod week;
