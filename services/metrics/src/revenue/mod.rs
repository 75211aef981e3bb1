//! Revenue from the subscription history: MRR at month boundaries, its
//! movements (new, expansion, contraction, churned, reactivation) and the
//! churn report. `month` validates calendar months; `movements`, `money`
//! and `churn` assemble what `crate::repo::revenue`'s queries return (one
//! set-based pass that values every customer's MRR at a list of instants);
//! `crate::api::revenue` maps the wire requests.
//! docs/METRICS.md ("Revenue") has the definitions and the choices.

pub mod churn;
pub mod money;
pub mod month;
pub mod movements;
