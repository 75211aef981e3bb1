//! What became of the AI part: used, skipped or failed, and the wire's
//! `AiPart` made from it. A reason never holds the API key.

use growth_proto::metrics::v1::{AiPart, AiStatus};

/// The AI part of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AiOutcome {
    /// The model wrote a valid summary.
    Used {
        /// The executive summary, markdown.
        summary_markdown: String,
        /// The week's highlights.
        highlights: Vec<String>,
        /// What to do next.
        recommendations: Vec<String>,
        /// The model asked.
        model: String,
        /// The prompt file's version.
        prompt_version: String,
        /// Tokens of the request, as the API reported them.
        input_tokens: i64,
        /// Tokens of the answer.
        output_tokens: i64,
    },
    /// Not asked.
    Skipped {
        /// Why ("no ANTHROPIC_API_KEY configured", "not requested").
        reason: String,
    },
    /// Asked, and no usable summary came back; the rule-based one stands.
    Failed {
        /// Why: the status and the API's message, the timeout, the host
        /// that could not be reached, or what broke the schema.
        reason: String,
        /// The model asked.
        model: String,
        /// The prompt file's version.
        prompt_version: String,
        /// Tokens the API reported for an answer that was refused (0 when
        /// none came).
        input_tokens: i64,
        /// See `input_tokens`.
        output_tokens: i64,
    },
}

/// The reason of a summary skipped for want of a key.
pub const NO_KEY: &str = "no ANTHROPIC_API_KEY configured";
/// The reason of a summary the caller did not ask for.
pub const NOT_REQUESTED: &str = "not requested";

impl AiOutcome {
    /// Skipped for `reason`.
    pub fn skipped(reason: impl Into<String>) -> Self {
        Self::Skipped {
            reason: reason.into(),
        }
    }

    /// Why it was skipped or failed; `None` when used.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Used { .. } => None,
            Self::Skipped { reason } | Self::Failed { reason, .. } => Some(reason),
        }
    }
}

impl From<&AiOutcome> for AiPart {
    fn from(outcome: &AiOutcome) -> Self {
        match outcome {
            AiOutcome::Used {
                model,
                prompt_version,
                input_tokens,
                output_tokens,
                ..
            } => Self {
                status: AiStatus::Used as i32,
                reason: String::new(),
                model: model.clone(),
                prompt_version: prompt_version.clone(),
                input_tokens: *input_tokens,
                output_tokens: *output_tokens,
            },
            AiOutcome::Skipped { reason } => Self {
                status: AiStatus::Skipped as i32,
                reason: reason.clone(),
                ..Self::default()
            },
            AiOutcome::Failed {
                reason,
                model,
                prompt_version,
                input_tokens,
                output_tokens,
            } => Self {
                status: AiStatus::Failed as i32,
                reason: reason.clone(),
                model: model.clone(),
                prompt_version: prompt_version.clone(),
                input_tokens: *input_tokens,
                output_tokens: *output_tokens,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_outcome_becomes_its_wire_status() {
        let used = AiOutcome::Used {
            summary_markdown: "s".into(),
            highlights: vec![],
            recommendations: vec![],
            model: "m".into(),
            prompt_version: "v1".into(),
            input_tokens: 10,
            output_tokens: 5,
        };
        let part = AiPart::from(&used);
        assert_eq!(part.status, AiStatus::Used as i32);
        assert_eq!((part.input_tokens, part.output_tokens), (10, 5));
        assert_eq!(used.reason(), None);

        let skipped = AiOutcome::skipped(NO_KEY);
        let part = AiPart::from(&skipped);
        assert_eq!(part.status, AiStatus::Skipped as i32);
        assert_eq!(part.reason, NO_KEY);
        assert!(part.model.is_empty());

        let failed = AiOutcome::Failed {
            reason: "timed out".into(),
            model: "m".into(),
            prompt_version: "v1".into(),
            input_tokens: 0,
            output_tokens: 0,
        };
        let part = AiPart::from(&failed);
        assert_eq!(part.status, AiStatus::Failed as i32);
        assert_eq!(
            (part.reason.as_str(), part.model.as_str()),
            ("timed out", "m")
        );
        assert_eq!(failed.reason(), Some("timed out"));
    }
}
