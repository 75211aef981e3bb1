//! Evaluating users: plan (score and decide, no I/O), apply (one transaction
//! per batch), and the bulk `EvaluateUsers` run.

pub mod apply;
pub mod bulk;
pub mod plan;
