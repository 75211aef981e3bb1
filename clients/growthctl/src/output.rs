//! Printing results and errors.

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use tonic::Code;

use crate::cli::Format;

/// A wire time for tables: `2025-11-24 08:15:02Z`; `None` when unset.
pub fn time(ts: Option<&prost_types::Timestamp>) -> Option<String> {
    ts.and_then(growth_proto::timestamp::to_utc)
        .map(|t| t.format("%Y-%m-%d %H:%M:%SZ").to_string())
}

/// A wire time for JSON: RFC 3339 in UTC to the second, or null when unset.
pub fn time_json(ts: Option<&prost_types::Timestamp>) -> serde_json::Value {
    growth_proto::timestamp::rfc3339(ts).map_or(serde_json::Value::Null, Into::into)
}

/// An enum value's protobuf name without its type prefix
/// (`FINDING_KIND_MISSING_IN_DB`, `FINDING_KIND_` → `MISSING_IN_DB`).
pub fn enum_name(full: &str, prefix: &str) -> String {
    full.strip_prefix(prefix).unwrap_or(full).to_owned()
}

/// A table with the house style.
pub fn table<const N: usize>(header: [&str; N]) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(header);
    table
}

/// Prints `value` as pretty JSON, or `table` for the table format.
pub fn emit(format: Format, value: serde_json::Value, table: impl FnOnce() -> Table) {
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        ),
        Format::Table | Format::Md | Format::Csv => println!("{}", table()),
    }
}

/// An error as a user should read it: a refused RPC shows its code and the
/// server's message (which names the field); a connection failure says how
/// to point the CLI elsewhere.
pub fn describe(error: &anyhow::Error) -> String {
    if let Some(status) = error
        .chain()
        .find_map(|e| e.downcast_ref::<tonic::Status>())
    {
        let context = error.to_string();
        let hint = match status.code() {
            Code::Unauthenticated => "\n  hint: pass --token or set GROWTH_TOKEN",
            Code::Unavailable => "\n  hint: the service or its database is down; retry later",
            _ => "",
        };
        let prefix = if context == status.to_string() {
            String::new()
        } else {
            format!("{context}: ")
        };
        return format!(
            "{prefix}{} ({}){hint}",
            status.message(),
            growth_proto::status::code_name(status.code())
        );
    }
    let mut text = chain_text(error);
    if text.contains("cannot connect to") {
        text.push_str(
            "\n  hint: is the service running? Point the CLI at it with --metrics-addr / \
             --lifecycle-addr (or GROWTH_METRICS_ADDR / GROWTH_LIFECYCLE_ADDR)",
        );
    }
    text
}

/// An error and its causes joined by ": ", without repeating a cause that
/// says the same as the one before it (transport errors often do).
pub fn chain_text(error: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if parts.last().is_some_and(|last| last.ends_with(&text)) {
            continue;
        }
        parts.push(text);
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_rpc_shows_its_code_and_the_field() {
        let status = tonic::Status::invalid_argument("events[3].name: must not be empty");
        let error = anyhow::Error::new(status).context("batch at lines 1-1000 refused");
        assert_eq!(
            describe(&error),
            "batch at lines 1-1000 refused: events[3].name: must not be empty (INVALID_ARGUMENT)"
        );
    }

    #[test]
    fn a_connection_failure_says_how_to_point_elsewhere() {
        let error = anyhow::anyhow!("connection refused").context("cannot connect to 127.0.0.1:1");
        assert!(describe(&error).contains("--metrics-addr"));
    }
}
