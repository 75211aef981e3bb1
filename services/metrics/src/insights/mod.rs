//! The weekly growth insights: ISO weeks of the reporting time zone
//! ([`week`]), KPIs with their trends ([`kpi`]), robust anomalies
//! ([`anomaly`]), rule-based drivers, bottlenecks and recommendations
//! ([`rules`]), the week's report computed from its inputs ([`report`]), the
//! optional AI summary ([`ai`]), and the whole document as stored and
//! rendered ([`document`]).

pub mod ai;
pub mod anomaly;
pub mod document;
pub mod kpi;
pub mod report;
pub mod rules;
pub mod week;
