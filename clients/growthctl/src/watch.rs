//! `events watch`: print the event feed from a cursor, following new events.

use std::process::ExitCode;

use std::io::Write;
use std::time::Duration;

use growth_proto::backoff::Backoff;
use growth_proto::metrics::v1 as pb;
use growth_proto::status::code_name;
use tokio_stream::StreamExt;
use tonic::Code;

use crate::cli::{Format, WatchArgs};
use crate::clients::Target;

fn time(ts: Option<&prost_types::Timestamp>) -> String {
    growth_proto::timestamp::rfc3339(ts).unwrap_or_default()
}

/// The waits between attempts to resume a broken feed.
const RESUME: Backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));

/// Whether a broken stream is worth resuming: the service or its database
/// is restarting, or the connection broke.
fn resumable(status: &tonic::Status) -> bool {
    matches!(
        status.code(),
        Code::Unavailable
            | Code::Unknown
            | Code::Cancelled
            | Code::DeadlineExceeded
            | Code::Aborted
    )
}

/// Streams until the end (with `--stop-at-end`), the limit, or Ctrl-C. Once
/// the first call is answered, a feed broken by a restart (of the service or
/// its database) is resumed from the last cursor received, with the shared
/// backoff, for as long as it takes; each attempt is said on stderr.
pub async fn run(target: &Target, args: &WatchArgs, format: Format) -> anyhow::Result<ExitCode> {
    follow(target, args, format, &mut std::io::stdout()).await
}

/// [`run`], printing to `out`.
pub async fn follow(
    target: &Target,
    args: &WatchArgs,
    format: Format,
    out: &mut (dyn Write + Send),
) -> anyhow::Result<ExitCode> {
    let mut client = target.metrics().await?;
    let request = |after: i64| pb::WatchEventsRequest {
        after_sequence: after,
        stop_at_end: args.stop_at_end,
        max_batch_size: 0,
    };
    let mut stream = client.watch_events(request(args.after)).await?.into_inner();
    let mut cursor = args.after;
    let mut printed = 0u64;
    if args.limit == Some(0) {
        return Ok(ExitCode::SUCCESS);
    }
    if format != Format::Json {
        writeln!(
            out,
            "{:>10}  {:<20}  {:<16}  {:<20}  properties",
            "sequence", "occurred_at", "user_id", "name"
        )?;
    }
    let mut failures = 0u32;
    loop {
        let message = tokio::select! {
            message = stream.next() => message,
            _ = tokio::signal::ctrl_c() => None,
        };
        let message = match message {
            None => break,
            Some(Ok(message)) => message,
            Some(Err(status)) if resumable(&status) => {
                let mut status = status;
                loop {
                    let wait = RESUME.delay(failures, None);
                    failures += 1;
                    eprintln!(
                        "growthctl: the feed broke ({}: {}); resuming from cursor {cursor} in {:.1} s",
                        code_name(status.code()),
                        status.message(),
                        wait.as_secs_f64()
                    );
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = tokio::signal::ctrl_c() => return Ok(ExitCode::SUCCESS),
                    }
                    match client.watch_events(request(cursor)).await {
                        Ok(resumed) => {
                            stream = resumed.into_inner();
                            break;
                        }
                        Err(again) if resumable(&again) => status = again,
                        Err(other) => return Err(other.into()),
                    }
                }
                continue;
            }
            Some(Err(status)) => return Err(status.into()),
        };
        failures = 0;
        cursor = cursor.max(message.cursor);
        for fe in message.events {
            let event = fe.event.unwrap_or_default();
            match format {
                Format::Json => writeln!(
                    out,
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
                Format::Table | Format::Md | Format::Csv => writeln!(
                    out,
                    "{:>10}  {:<20}  {:<16}  {:<20}  {}",
                    fe.sequence,
                    time(event.occurred_at.as_ref()),
                    event.user_id,
                    event.name,
                    event.properties_json
                ),
            }?;
            printed += 1;
            if args.limit == Some(printed) {
                return Ok(ExitCode::SUCCESS);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
