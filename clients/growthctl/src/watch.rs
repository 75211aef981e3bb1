//! `events watch`: print the event feed from a cursor, following new events.

use std::process::ExitCode;

use growth_proto::metrics::v1 as pb;
use tokio_stream::StreamExt;

use crate::cli::{Format, WatchArgs};
use crate::clients::Target;

fn time(ts: Option<&prost_types::Timestamp>) -> String {
    growth_proto::timestamp::rfc3339(ts).unwrap_or_default()
}

/// Streams until the end (with `--stop-at-end`), the limit, or Ctrl-C.
pub async fn run(target: &Target, args: &WatchArgs, format: Format) -> anyhow::Result<ExitCode> {
    let mut client = target.metrics().await?;
    let mut stream = client
        .watch_events(pb::WatchEventsRequest {
            after_sequence: args.after,
            stop_at_end: args.stop_at_end,
            max_batch_size: 0,
        })
        .await?
        .into_inner();
    let mut printed = 0u64;
    if args.limit == Some(0) {
        return Ok(ExitCode::SUCCESS);
    }
    if format != Format::Json {
        println!(
            "{:>10}  {:<20}  {:<16}  {:<20}  properties",
            "sequence", "occurred_at", "user_id", "name"
        );
    }
    loop {
        let message = tokio::select! {
            message = stream.next() => message,
            _ = tokio::signal::ctrl_c() => None,
        };
        let Some(message) = message else { break };
        for fe in message?.events {
            let event = fe.event.unwrap_or_default();
            match format {
                Format::Json => println!(
                    "{}",
                    serde_json::json!({
                        "sequence": fe.sequence,
                        "event_id": event.event_id,
                        "user_id": event.user_id,
                        "name": event.name,
                        "occurred_at": time(event.occurred_at.as_ref()),
                        "properties": serde_json::from_str::<serde_json::Value>(&event.properties_json).unwrap_or_default(),
                    })
                ),
                Format::Table | Format::Md | Format::Csv => println!(
                    "{:>10}  {:<20}  {:<16}  {:<20}  {}",
                    fe.sequence,
                    time(event.occurred_at.as_ref()),
                    event.user_id,
                    event.name,
                    event.properties_json
                ),
            }
            printed += 1;
            if args.limit == Some(printed) {
                return Ok(ExitCode::SUCCESS);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
