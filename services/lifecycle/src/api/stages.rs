//! Stage RPCs: one user's lifecycle, transitions, the distribution, and
//! bulk evaluation.

use chrono::Utc;
use growth_proto::lifecycle::v1 as pb;
use growth_proto::paging::Page;
use growth_proto::timestamp::{from_utc, to_utc};

use crate::convert;
use crate::domain::Stage;
use crate::error::LifecycleError;
use crate::evaluate::bulk::{self, Progress, Selection};
use crate::repo::transitions::Filter;
use crate::repo::{profiles, transitions};
use crate::state::Lifecycle;

/// Most explicit ids one `EvaluateUsers` call takes.
const MAX_IDS: usize = 100_000;

/// The token kind of a transitions page: `t:<id of the last transition>`.
const TRANSITIONS_AFTER: &str = "t";

fn stage_filter(field: &str, value: i32) -> Result<Option<Stage>, LifecycleError> {
    Stage::parse_filter(value).map_err(|e| LifecycleError::invalid(field, e))
}

fn time(
    field: &str,
    ts: Option<&prost_types::Timestamp>,
) -> Result<Option<chrono::DateTime<Utc>>, LifecycleError> {
    ts.map(|t| to_utc(t).ok_or_else(|| LifecycleError::invalid(field, "is not a valid timestamp")))
        .transpose()
}

/// `GetUserLifecycle`.
pub async fn get_user(
    state: &Lifecycle,
    r: pb::GetUserLifecycleRequest,
) -> Result<pb::GetUserLifecycleResponse, LifecycleError> {
    let id = super::user_id("user_id", &r.user_id)?;
    let profile = profiles::get(&state.pool, &id).await?.ok_or_else(|| {
        LifecycleError::NotFound(format!(
            "user {id:?} has not been evaluated yet (is it known to the metrics service?)"
        ))
    })?;
    let filter = Filter {
        user_id: Some(id.clone()),
        ..Filter::default()
    };
    let recent = transitions::list(&state.pool, &filter, i64::MAX, 20).await?;
    Ok(pb::GetUserLifecycleResponse {
        user_id: id,
        stage: i32::from(profile.stage),
        stage_since: Some(from_utc(profile.stage_since)),
        score: Some(pb::EngagementScore {
            total: i32::from(profile.score),
            components: profile
                .components
                .0
                .into_iter()
                .map(convert::component)
                .collect(),
            computed_at: Some(from_utc(profile.evaluated_at)),
        }),
        recent_transitions: recent.into_iter().map(convert::transition).collect(),
        evaluated_at: Some(from_utc(profile.evaluated_at)),
    })
}

/// `ListTransitions`.
pub async fn list_transitions(
    state: &Lifecycle,
    r: pb::ListTransitionsRequest,
) -> Result<pb::ListTransitionsResponse, LifecycleError> {
    let filter = Filter {
        user_id: super::user_filter("user_id", &r.user_id)?,
        from: stage_filter("from_stage", r.from_stage)?,
        to: stage_filter("to_stage", r.to_stage)?,
        since: time("since", r.since.as_ref())?,
        until: time("until", r.until.as_ref())?,
    };
    if let (Some(since), Some(until)) = (filter.since, filter.until)
        && since >= until
    {
        return Err(LifecycleError::invalid(
            "until",
            format!("must be after since ({since})"),
        ));
    }
    let page = Page::read(r.page.as_ref())?;
    let before = page
        .key(TRANSITIONS_AFTER, |id| id.parse::<i64>().ok())?
        .unwrap_or(i64::MAX);
    let rows = transitions::list(&state.pool, &filter, before, page.size).await?;
    let next_page_token = page.next_key(TRANSITIONS_AFTER, &rows, |t| t.transition_id);
    Ok(pb::ListTransitionsResponse {
        transitions: rows.into_iter().map(convert::transition).collect(),
        next_page_token,
    })
}

/// `GetStageDistribution`.
pub async fn distribution(
    state: &Lifecycle,
    r: pb::GetStageDistributionRequest,
) -> Result<pb::GetStageDistributionResponse, LifecycleError> {
    let now = Utc::now();
    let as_of = time("as_of", r.as_of.as_ref())?;
    if as_of.is_some_and(|t| t > now) {
        return Err(LifecycleError::invalid(
            "as_of",
            "is in the future; the distribution is known up to now",
        ));
    }
    let counts = match as_of {
        None => profiles::distribution(&state.pool).await?,
        Some(at) => transitions::distribution_at(&state.pool, at).await?,
    };
    let stages: Vec<pb::StageCount> = Stage::ALL
        .into_iter()
        .map(|stage| pb::StageCount {
            stage: stage.to_proto(),
            users: counts
                .iter()
                .find(|(s, _)| *s == stage.code())
                .map_or(0, |(_, n)| *n),
        })
        .collect();
    Ok(pb::GetStageDistributionResponse {
        total_users: stages.iter().map(|s| s.users).sum(),
        stages,
        as_of: Some(from_utc(as_of.unwrap_or(now))),
    })
}

/// `EvaluateUsers`.
pub async fn evaluate(
    state: &Lifecycle,
    r: pb::EvaluateUsersRequest,
) -> Result<Progress, LifecycleError> {
    let stage = stage_filter("stage", r.stage)?;
    if r.user_ids.len() > MAX_IDS {
        return Err(LifecycleError::invalid(
            "user_ids",
            format!("at most {MAX_IDS} ids per call, got {}", r.user_ids.len()),
        ));
    }
    let mut ids = Vec::with_capacity(r.user_ids.len());
    let mut violations = Vec::new();
    for (i, id) in r.user_ids.iter().enumerate() {
        match super::user_id(&format!("user_ids[{i}]"), id) {
            Ok(id) => ids.push(id),
            Err(v) => violations.push(v),
        }
    }
    if !violations.is_empty() {
        return Err(violations.into());
    }
    let selection = match (ids.is_empty(), stage) {
        (true, None) => Selection::All,
        (true, Some(stage)) => Selection::InStage(stage),
        (false, None) => Selection::Ids(ids),
        (false, Some(_)) => {
            return Err(LifecycleError::invalid(
                "stage",
                "cannot be combined with user_ids; give one or the other",
            ));
        }
    };
    bulk::evaluate(state.clone(), selection, r.dry_run).await
}
