//! The answer: a Messages API response read and its tool input validated
//! against the schema of [`super::prompt::input_schema`] before anything is
//! used. A reply that breaks the schema is refused with a reason naming
//! what broke, never half-used.

use serde_json::Value;

use super::prompt::{MAX_ITEM_CHARS, MAX_ITEMS, MAX_SUMMARY_CHARS, TOOL_NAME};

/// A validated summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The executive summary, markdown.
    pub summary_markdown: String,
    /// The week's highlights.
    pub highlights: Vec<String>,
    /// What to do next.
    pub recommendations: Vec<String>,
}

/// Token usage as the API reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// Tokens of the request.
    pub input_tokens: i64,
    /// Tokens of the answer.
    pub output_tokens: i64,
}

/// What a successful HTTP response said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The summary, valid.
    pub summary: Summary,
    /// The tokens used.
    pub usage: Usage,
}

/// Reads a 2xx response body; `Err` says why it cannot be used (the usage
/// comes along when the body reported it, so a refused answer still
/// counts its tokens).
pub fn read(body: &[u8]) -> Result<Answer, (String, Usage)> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| (format!("the answer is not JSON: {e}"), Usage::default()))?;
    let usage = Usage {
        input_tokens: value["usage"]["input_tokens"].as_i64().unwrap_or(0),
        output_tokens: value["usage"]["output_tokens"].as_i64().unwrap_or(0),
    };
    let fail = |reason: String| (reason, usage);
    match value["stop_reason"].as_str() {
        Some("refusal") => return Err(fail("the model declined to answer (refusal)".into())),
        Some("max_tokens") => {
            return Err(fail(
                "the answer was cut off at max_tokens before the tool input was complete".into(),
            ));
        }
        _ => {}
    }
    let blocks = value["content"]
        .as_array()
        .ok_or_else(|| fail("the answer has no content".into()))?;
    let call = blocks
        .iter()
        .find(|b| b["type"] == "tool_use")
        .ok_or_else(|| fail(format!("the answer does not call the {TOOL_NAME} tool")))?;
    let name = call["name"].as_str().unwrap_or("");
    if name != TOOL_NAME {
        return Err(fail(format!(
            "the answer calls the tool {:?}, not {TOOL_NAME}",
            clip(name, 60)
        )));
    }
    let summary = validate(&call["input"])
        .map_err(|e| fail(format!("the tool input breaks the schema: {e}")))?;
    Ok(Answer { summary, usage })
}

/// Checks a tool input against the schema: an object with exactly
/// `summary_markdown` (non-blank, at most [`MAX_SUMMARY_CHARS`]),
/// `highlights` and `recommendations` (at most [`MAX_ITEMS`] non-blank
/// strings of at most [`MAX_ITEM_CHARS`] each). Text is trimmed.
pub fn validate(input: &Value) -> Result<Summary, String> {
    let object = input
        .as_object()
        .ok_or_else(|| format!("the input is {}, not an object", kind(input)))?;
    if let Some(extra) = object.keys().find(|k| {
        !matches!(
            k.as_str(),
            "summary_markdown" | "highlights" | "recommendations"
        )
    }) {
        return Err(format!("unexpected field {:?}", clip(extra, 60)));
    }
    let summary_markdown = text(
        object.get("summary_markdown"),
        "summary_markdown",
        MAX_SUMMARY_CHARS,
    )?;
    Ok(Summary {
        summary_markdown,
        highlights: list(object.get("highlights"), "highlights")?,
        recommendations: list(object.get("recommendations"), "recommendations")?,
    })
}

fn text(value: Option<&Value>, field: &str, max: usize) -> Result<String, String> {
    let value = value.ok_or_else(|| format!("{field} is missing"))?;
    let s = value
        .as_str()
        .ok_or_else(|| format!("{field} is {}, not a string", kind(value)))?
        .trim();
    let chars = s.chars().count();
    if chars == 0 {
        return Err(format!("{field} is empty"));
    }
    if chars > max {
        return Err(format!("{field} has {chars} characters, more than {max}"));
    }
    Ok(s.to_owned())
}

fn list(value: Option<&Value>, field: &str) -> Result<Vec<String>, String> {
    let value = value.ok_or_else(|| format!("{field} is missing"))?;
    let items = value
        .as_array()
        .ok_or_else(|| format!("{field} is {}, not an array", kind(value)))?;
    if items.len() > MAX_ITEMS {
        return Err(format!(
            "{field} has {} items, more than {MAX_ITEMS}",
            items.len()
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| text(Some(item), &format!("{field}[{i}]"), MAX_ITEM_CHARS))
        .collect()
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The first `max` characters of `s`.
fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn good() -> Value {
        json!({
            "summary_markdown": "  MRR grew **12%** to 1,234.50 USD.  ",
            "highlights": ["MRR +12%"],
            "recommendations": [],
        })
    }

    fn with(field: &str, value: Value) -> Value {
        let mut v = good();
        v[field] = value;
        v
    }

    fn response(input: Value) -> Vec<u8> {
        json!({
            "id": "msg_1", "type": "message", "role": "assistant", "model": "m",
            "stop_reason": "tool_use",
            "content": [
                {"type": "thinking", "thinking": "", "signature": "x"},
                {"type": "tool_use", "id": "toolu_1", "name": TOOL_NAME, "input": input},
            ],
            "usage": {"input_tokens": 812, "output_tokens": 143},
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn a_valid_input_is_trimmed_and_kept() {
        let s = validate(&good()).expect("valid");
        assert_eq!(s.summary_markdown, "MRR grew **12%** to 1,234.50 USD.");
        assert_eq!(s.highlights, vec!["MRR +12%"]);
        assert!(s.recommendations.is_empty());
        let most = with(
            "highlights",
            json!(vec!["x".repeat(MAX_ITEM_CHARS); MAX_ITEMS]),
        );
        assert!(validate(&most).is_ok());
        let longest = with("summary_markdown", json!("é".repeat(MAX_SUMMARY_CHARS)));
        assert!(
            validate(&longest).is_ok(),
            "counted in characters, not bytes"
        );
    }

    #[test]
    fn every_schema_break_is_refused_with_its_reason() {
        let mut missing = good();
        missing
            .as_object_mut()
            .expect("object")
            .remove("highlights");
        let cases = [
            (json!("just text"), "not an object"),
            (missing, "highlights is missing"),
            (
                with("summary_markdown", json!("   ")),
                "summary_markdown is empty",
            ),
            (
                with("summary_markdown", json!(42)),
                "summary_markdown is a number",
            ),
            (
                with("summary_markdown", json!("x".repeat(MAX_SUMMARY_CHARS + 1))),
                "1201 characters",
            ),
            (
                with("highlights", json!("one")),
                "highlights is a string, not an array",
            ),
            (
                with("highlights", json!(vec!["a"; MAX_ITEMS + 1])),
                "6 items",
            ),
            (
                with("recommendations", json!(["ok", null])),
                "recommendations[1] is null",
            ),
            (
                with("recommendations", json!(["", "b"])),
                "recommendations[0] is empty",
            ),
            (
                with("highlights", json!(["x".repeat(MAX_ITEM_CHARS + 1)])),
                "highlights[0] has 301 characters",
            ),
            (with("extra", json!(1)), "unexpected field \"extra\""),
        ];
        for (input, reason) in cases {
            let err = validate(&input).expect_err(reason);
            assert!(err.contains(reason), "{err:?} should say {reason:?}");
        }
    }

    #[test]
    fn a_response_is_read_by_block_type_with_its_usage() {
        let answer = read(&response(good())).expect("valid");
        assert_eq!(
            answer.usage,
            Usage {
                input_tokens: 812,
                output_tokens: 143
            }
        );
        assert_eq!(answer.summary.highlights.len(), 1);
    }

    #[test]
    fn unusable_responses_are_refused() {
        let (reason, usage) = read(&response(json!({"summary_markdown": ""}))).expect_err("bad");
        assert!(reason.contains("breaks the schema"), "{reason}");
        assert_eq!(usage.output_tokens, 143);
        let mut other = serde_json::from_slice::<Value>(&response(good())).expect("json");
        other["content"][1]["name"] = json!("something_else");
        let (reason, _) = read(other.to_string().as_bytes()).expect_err("wrong tool");
        assert!(reason.contains("\"something_else\""), "{reason}");
        other["content"] = json!([{"type": "text", "text": "Here is a summary"}]);
        let (reason, _) = read(other.to_string().as_bytes()).expect_err("no tool");
        assert!(reason.contains("does not call"), "{reason}");
        other["stop_reason"] = json!("refusal");
        assert!(
            read(other.to_string().as_bytes())
                .expect_err("refusal")
                .0
                .contains("refusal")
        );
        other["stop_reason"] = json!("max_tokens");
        assert!(
            read(other.to_string().as_bytes())
                .expect_err("cut")
                .0
                .contains("max_tokens")
        );
        assert!(read(b"<html>").expect_err("html").0.contains("not JSON"));
    }
}
