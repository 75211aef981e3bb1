//! A fake Anthropic Messages API on 127.0.0.1: `POST /v1/messages` answers
//! what each test mounts (wiremock), and the tests read back what it was
//! sent.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use metrics_svc::insights::ai::prompt::TOOL_NAME;

/// The key the tests configure.
pub const KEY: &str = "sk-ant-api03-fake-KEY-0123456789";

/// A valid tool input.
pub fn good_input() -> Value {
    json!({
        "summary_markdown": "MRR grew **4.2%** to 12,400.00 USD; weekly actives held at 1,180.",
        "highlights": ["MRR +4.2% to 12,400.00 USD", "Signups 96 (+12.9%)"],
        "recommendations": ["Follow up on the 3 failed trial conversions."],
    })
}

/// A Messages API answer calling the tool with `input`.
pub fn reply(input: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-5-5",
        "stop_reason": "tool_use",
        "content": [{"type": "tool_use", "id": "toolu_fake", "name": TOOL_NAME, "input": input}],
        "usage": {"input_tokens": 640, "output_tokens": 120},
    }))
}

/// An API error in Anthropic's shape.
pub fn error(status: u16, kind: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "type": "error",
        "error": {"type": kind, "message": message},
    }))
}

/// Mounts `template` for the next `times` requests (earlier mounts first).
pub async fn answer(server: &MockServer, template: ResponseTemplate, times: u64) {
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(template)
        .up_to_n_times(times)
        .mount(server)
        .await;
}

/// The bodies the fake received.
pub async fn bodies(server: &MockServer) -> Vec<Vec<u8>> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.body)
        .collect()
}
