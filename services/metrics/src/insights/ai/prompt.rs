//! The request: the versioned prompt file (`services/metrics/prompts/`),
//! the one forced tool whose JSON schema the answer must follow, and the
//! user message rendered from [`AiInput`] (every free text scrubbed).
//!
//! Changing the prompt's meaning means a new file and a new
//! [`PROMPT_VERSION`]; the version is stored with every report's AI part,
//! so a summary can be traced to the words that asked for it.

use serde_json::{Value, json};

use super::super::kpi::Unit;
use super::input::{AiInput, scrub};

/// The version of the prompt file in use (its file name without `.md`).
pub const PROMPT_VERSION: &str = "weekly_summary.v1";
/// The system prompt.
pub const SYSTEM_PROMPT: &str = include_str!("../../../prompts/weekly_summary.v1.md");
/// The one tool the model is made to call.
pub const TOOL_NAME: &str = "record_weekly_summary";
/// Longest summary accepted, in characters.
pub const MAX_SUMMARY_CHARS: usize = 1200;
/// Most highlights, and most recommendations, accepted.
pub const MAX_ITEMS: usize = 5;
/// Longest highlight or recommendation accepted, in characters.
pub const MAX_ITEM_CHARS: usize = 300;
/// Output tokens allowed: the longest valid answer (~4,200 characters of
/// JSON) with room to spare.
pub const MAX_TOKENS: u32 = 2048;

/// The JSON schema of the tool's input.
pub fn input_schema() -> Value {
    let items = json!({
        "type": "array",
        "maxItems": MAX_ITEMS,
        "items": {"type": "string", "minLength": 1, "maxLength": MAX_ITEM_CHARS},
    });
    json!({
        "type": "object",
        "properties": {
            "summary_markdown": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_SUMMARY_CHARS,
                "description": "The executive summary, markdown, no headings or tables.",
            },
            "highlights": items,
            "recommendations": items,
        },
        "required": ["summary_markdown", "highlights", "recommendations"],
        "additionalProperties": false,
    })
}

/// The user message: the aggregates as JSON.
pub fn user_message(input: &AiInput) -> String {
    let kpis: Vec<Value> = input
        .kpis
        .iter()
        .map(|k| {
            json!({
                "kpi": scrub(&k.name),
                "label": scrub(&k.label),
                "unit": match k.unit {
                    Unit::Count => "count",
                    Unit::Ratio => "ratio",
                    Unit::MoneyMinor => "money_minor_units",
                },
                "currency": scrub(&k.currency),
                "this_week": finite(k.value),
                "last_week": finite(k.previous),
                "change": k.change.and_then(finite),
            })
        })
        .collect();
    let texts = |t: &[String]| t.iter().map(|s| scrub(s)).collect::<Vec<_>>();
    json!({
        "week": input.week.label(),
        "time_zone": scrub(&input.time_zone),
        "kpis": kpis,
        "insights": texts(&input.insights),
        "anomalies": texts(&input.anomalies),
    })
    .to_string()
}

/// A number JSON can carry (NaN and infinities become null).
fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// The Messages API request body. Thinking is turned off: it does not mix
/// with a forced tool, and the answer is a short rewrite of given numbers.
pub fn request_body(model: &str, input: &AiInput) -> Value {
    json!({
        "model": model,
        "max_tokens": MAX_TOKENS,
        "system": SYSTEM_PROMPT,
        "thinking": {"type": "disabled"},
        "tools": [{
            "name": TOOL_NAME,
            "description": "Record the executive summary of the weekly growth report.",
            "input_schema": input_schema(),
        }],
        "tool_choice": {"type": "tool", "name": TOOL_NAME},
        "messages": [{"role": "user", "content": user_message(input)}],
    })
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::insights::ai::input::AiKpi;
    use crate::insights::week::Week;

    fn input() -> AiInput {
        AiInput {
            week: Week::of(NaiveDate::from_ymd_opt(2025, 11, 19).expect("date")),
            time_zone: "Europe/Berlin".to_owned(),
            kpis: vec![AiKpi {
                name: "mrr".to_owned(),
                label: "MRR".to_owned(),
                value: 123_450.0,
                previous: 0.0,
                change: None,
                unit: Unit::MoneyMinor,
                currency: "usd".to_owned(),
            }],
            insights: vec!["Refunds went to bob@example.com".to_owned()],
            anomalies: vec![],
        }
    }

    #[test]
    fn the_prompt_file_names_the_tool_and_the_limits() {
        assert!(SYSTEM_PROMPT.contains(&format!("`{TOOL_NAME}`")));
        assert!(SYSTEM_PROMPT.contains("1,200 characters"));
        assert!(SYSTEM_PROMPT.contains(&format!("up to {MAX_ITEMS}")));
    }

    #[test]
    fn the_body_forces_the_one_tool_and_carries_scrubbed_aggregates() {
        let body = request_body("claude-test", &input());
        assert_eq!(
            body["tool_choice"],
            json!({"type": "tool", "name": TOOL_NAME})
        );
        assert_eq!(body["tools"][0]["name"], TOOL_NAME);
        assert_eq!(body["tools"][0]["input_schema"], input_schema());
        let message: Value =
            serde_json::from_str(body["messages"][0]["content"].as_str().expect("text"))
                .expect("json");
        assert_eq!(message["week"], "2025-W47");
        assert_eq!(message["kpis"][0]["this_week"], 123_450.0);
        assert_eq!(message["kpis"][0]["change"], Value::Null);
        assert_eq!(message["insights"][0], "Refunds went to [redacted]");
    }
}
