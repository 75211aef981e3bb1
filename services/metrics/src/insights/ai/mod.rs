//! The optional AI summary of the weekly report: the week's aggregates
//! ([`input`], nothing personal) turned into a short executive summary by
//! one Anthropic Messages API call ([`client`]) with a versioned prompt and
//! one forced tool ([`prompt`]), its answer validated before use
//! ([`answer`]), retried with the shared backoff ([`retry`]). The outcome
//! ([`outcome`]) is used, skipped or failed with a reason; whatever it is,
//! the report is written with its rule-based summary. docs/METRICS.md ("The
//! AI summary") has the rules.

pub mod answer;
pub mod client;
pub mod config;
pub mod input;
pub mod outcome;
pub mod prompt;
pub mod retry;

pub use client::summarize;
pub use config::AiConfig;
pub use input::{AiInput, AiKpi};
pub use outcome::AiOutcome;
