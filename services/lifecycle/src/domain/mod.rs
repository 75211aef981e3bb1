//! The lifecycle model, free of I/O: stages, the signals metrics provides,
//! the tunable weights and thresholds, the engagement score, the transition
//! rules, and trigger rules.

pub mod rules;
pub mod score;
pub mod signals;
pub mod stage;
pub mod trigger;
pub mod tuning;

pub use rules::{Current, Decision, next_stage};
pub use score::{Component, Score, score};
pub use signals::Signals;
pub use stage::Stage;
pub use tuning::Tuning;
