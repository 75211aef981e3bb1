//! `lifecycle evaluate`: a bulk evaluation with a progress bar (on a
//! terminal), or one JSON line per progress message. The hourly CronJob
//! relies on the exit code: 0 when the final message arrived, 1 otherwise.

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::time::Duration;

use growth_proto::lifecycle::v1 as pb;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use tokio_stream::StreamExt;

use super::EvaluateArgs;
use super::names::{self, stage};
use crate::cli::Format;
use crate::clients::Lifecycle;
use crate::output;

fn progress_json(m: &pb::EvaluateUsersResponse) -> serde_json::Value {
    json!({
        "evaluated": m.evaluated,
        "total": m.total,
        "transitions": m.transitions,
        "deliveries_queued": m.deliveries_queued,
        "elapsed_ms": m.elapsed_ms,
        "done": m.done,
        "sample": m.sample.iter().map(names::transition_json).collect::<Vec<_>>(),
    })
}

/// A spinner until the total is known, then a bar; hidden off a terminal.
fn spinner(show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} evaluating: {pos} users {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn update(bar: &ProgressBar, m: &pb::EvaluateUsersResponse) {
    let total = u64::try_from(m.total).unwrap_or(0);
    if total > 0 && bar.length() != Some(total) {
        bar.set_length(total);
        bar.set_style(
            ProgressStyle::with_template(
                "evaluating [{bar:40}] {pos}/{len} users {msg} ({elapsed}, eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
    }
    bar.set_position(u64::try_from(m.evaluated).unwrap_or(0));
    bar.set_message(format!("{} transitions", m.transitions));
}

fn sample_line(t: &pb::Transition) -> String {
    format!(
        "{}: {} → {} ({}; score {})",
        t.user_id,
        stage(t.from_stage).unwrap_or_else(|| "(none)".into()),
        stage(t.to_stage).unwrap_or_default(),
        t.reason,
        t.score
    )
}

fn summary(last: &pb::EvaluateUsersResponse, dry_run: bool) {
    let transitions = if dry_run {
        "would be made"
    } else {
        "transitions"
    };
    let mut table = output::table(["evaluated", transitions, "deliveries queued", "elapsed"]);
    table.add_row(vec![
        last.evaluated.to_string(),
        last.transitions.to_string(),
        last.deliveries_queued.to_string(),
        format!("{:.1} s", last.elapsed_ms as f64 / 1000.0),
    ]);
    println!("{table}");
    if dry_run {
        println!("dry run: nothing was written and no email action was queued");
    }
}

/// Streams the evaluation to its final message.
/// Runs an evaluation of everyone without showing progress (the demo, the
/// benchmark); returns the final message, or an error when the stream ends
/// without it.
pub async fn to_the_end(client: &mut Lifecycle) -> anyhow::Result<pb::EvaluateUsersResponse> {
    let mut stream = client
        .evaluate_users(pb::EvaluateUsersRequest::default())
        .await?
        .into_inner();
    let mut last = pb::EvaluateUsersResponse::default();
    while let Some(message) = stream.message().await? {
        last = message;
    }
    anyhow::ensure!(
        last.done,
        "the evaluation stream ended without its final message"
    );
    Ok(last)
}

pub async fn run(
    client: &mut Lifecycle,
    args: &EvaluateArgs,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let mut stream = client
        .evaluate_users(pb::EvaluateUsersRequest {
            user_ids: args.users.clone(),
            stage: names::stage_filter(args.stage),
            dry_run: args.dry_run,
        })
        .await?
        .into_inner();
    let json = format == Format::Json;
    let bar = spinner(!json && std::io::stderr().is_terminal());
    let mut last = None;
    let result = loop {
        let message = match stream.next().await {
            None => break Ok(()),
            Some(Err(status)) => break Err(status),
            Some(Ok(message)) => message,
        };
        if json {
            println!("{}", progress_json(&message));
        } else {
            update(&bar, &message);
            if args.verbose {
                bar.suspend(|| {
                    for t in &message.sample {
                        println!("{}", sample_line(t));
                    }
                });
            }
        }
        let done = message.done;
        last = Some(message);
        if done {
            break Ok(());
        }
    };
    bar.finish_and_clear();
    result?;
    match last {
        Some(last) if last.done => {
            if !json {
                summary(&last, args.dry_run);
            }
            Ok(ExitCode::SUCCESS)
        }
        _ => anyhow::bail!("the evaluation stream ended before the evaluation was done"),
    }
}
