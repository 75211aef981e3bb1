//! `lifecycle get`, `stages` and `transitions`: reading stages.

use std::process::ExitCode;

use chrono::{DateTime, Utc};
use growth_proto::common::v1::PageRequest;
use growth_proto::lifecycle::v1 as pb;
use growth_proto::paging::MAX_SIZE;
use growth_proto::timestamp::from_utc;
use serde_json::{Value, json};

use super::TransitionsArgs;
use super::names::{self, stage, time};
use crate::cli::Format;
use crate::clients::Lifecycle;
use crate::output;

fn component_line(c: &pb::ScoreComponent) -> String {
    format!(
        "{} {:.1}/{}: {}",
        c.name, c.points, c.max_points, c.explanation
    )
}

fn lifecycle_json(r: &pb::GetUserLifecycleResponse) -> Value {
    let score = r.score.clone().unwrap_or_default();
    json!({
        "user_id": r.user_id,
        "stage": stage(r.stage),
        "stage_since": output::time_json(r.stage_since.as_ref()),
        "score": {
            "total": score.total,
            "computed_at": output::time_json(score.computed_at.as_ref()),
            "components": score.components.iter().map(|c| json!({
                "name": c.name,
                "points": c.points,
                "max_points": c.max_points,
                "explanation": c.explanation,
            })).collect::<Vec<_>>(),
        },
        "evaluated_at": output::time_json(r.evaluated_at.as_ref()),
        "recent_transitions": r.recent_transitions.iter().map(names::transition_json).collect::<Vec<_>>(),
    })
}

/// `lifecycle get USER`.
pub async fn get(
    client: &mut Lifecycle,
    user_id: &str,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let r = client
        .get_user_lifecycle(pb::GetUserLifecycleRequest {
            user_id: user_id.to_owned(),
        })
        .await?
        .into_inner();
    if format == Format::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&lifecycle_json(&r)).unwrap_or_default()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let score = r.score.clone().unwrap_or_default();
    println!("user       {}", r.user_id);
    println!(
        "stage      {} since {}",
        stage(r.stage).unwrap_or_else(|| "(none)".into()),
        time(r.stage_since.as_ref())
    );
    println!("score      {}/100", score.total);
    for c in &score.components {
        println!("  {}", component_line(c));
    }
    println!("evaluated  {}", time(r.evaluated_at.as_ref()));
    if r.recent_transitions.is_empty() {
        println!("no transitions");
    } else {
        println!("recent transitions:");
        let mut table = output::table(names::TRANSITION_HEADER);
        for t in &r.recent_transitions {
            table.add_row(names::transition_row(t));
        }
        println!("{table}");
    }
    Ok(ExitCode::SUCCESS)
}

/// `lifecycle stages [--as-of]`.
pub async fn stages(
    client: &mut Lifecycle,
    as_of: Option<DateTime<Utc>>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let r = client
        .get_stage_distribution(pb::GetStageDistributionRequest {
            as_of: as_of.map(from_utc),
        })
        .await?
        .into_inner();
    let share = |users: i64| {
        if r.total_users > 0 {
            100.0 * users as f64 / r.total_users as f64
        } else {
            0.0
        }
    };
    let json = json!({
        "as_of": output::time_json(r.as_of.as_ref()),
        "total_users": r.total_users,
        "stages": r.stages.iter().map(|s| json!({
            "stage": stage(s.stage),
            "users": s.users,
            "share_pct": (share(s.users) * 10.0).round() / 10.0,
        })).collect::<Vec<_>>(),
    });
    output::emit(format, json, || {
        let mut table = output::table(["stage", "users", "share %"]);
        for s in &r.stages {
            table.add_row(vec![
                stage(s.stage).unwrap_or_default(),
                s.users.to_string(),
                format!("{:.1}", share(s.users)),
            ]);
        }
        table.add_row(vec![
            "total".to_owned(),
            r.total_users.to_string(),
            if r.total_users > 0 { "100.0" } else { "0.0" }.into(),
        ]);
        table
    });
    if format != Format::Json {
        println!("as of {}", time(r.as_of.as_ref()));
    }
    Ok(ExitCode::SUCCESS)
}

/// `lifecycle transitions`: pages followed until `--limit` rows.
pub async fn transitions(
    client: &mut Lifecycle,
    args: &TransitionsArgs,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let mut rows: Vec<pb::Transition> = Vec::new();
    let mut page_token = String::new();
    let limit = args.limit as usize;
    while rows.len() < limit {
        let want = (limit - rows.len()).min(MAX_SIZE as usize);
        let page = client
            .list_transitions(pb::ListTransitionsRequest {
                user_id: args.user.clone().unwrap_or_default(),
                from_stage: names::stage_filter(args.from),
                to_stage: names::stage_filter(args.to),
                since: args.since.map(from_utc),
                until: args.until.map(from_utc),
                page: Some(PageRequest {
                    page_size: i32::try_from(want).unwrap_or(MAX_SIZE),
                    page_token: page_token.clone(),
                }),
            })
            .await?
            .into_inner();
        rows.extend(page.transitions.into_iter().take(want));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    let json = Value::Array(rows.iter().map(names::transition_json).collect());
    output::emit(format, json, || {
        let mut table = output::table(names::TRANSITION_HEADER);
        for t in &rows {
            table.add_row(names::transition_row(t));
        }
        table
    });
    Ok(ExitCode::SUCCESS)
}
