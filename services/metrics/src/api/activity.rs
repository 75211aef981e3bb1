//! `GetUserActivity`: per-user activity and revenue summaries, for a list
//! of users or a page of all of them.

use std::collections::HashSet;

use chrono::Utc;
use growth_proto::metrics::v1 as pb;

use crate::domain::NewUser;
use crate::error::MetricsError;
use crate::paging;
use crate::repo;
use crate::state::Metrics;

/// `GetUserActivity`.
pub async fn user_activity(
    state: &Metrics,
    r: pb::GetUserActivityRequest,
) -> Result<pb::GetUserActivityResponse, MetricsError> {
    let pool = &state.pool;
    let now = Utc::now();
    let mut total_users = 0;
    let (rows, unknown, next_page_token) = if r.user_ids.is_empty() {
        let (limit, after) = paging::by_key(r.page.as_ref())?;
        if after.is_empty() {
            total_users = repo::users::count(pool).await?;
        }
        let rows = repo::activity::page(pool, after, limit, now).await?;
        let next = match rows.last() {
            Some(last) if rows.len() as i64 == limit => paging::after(&last.user_id),
            _ => String::new(),
        };
        (rows, vec![], next)
    } else {
        let ids = NewUser::parse_ids("user_ids", &r.user_ids)?;
        let rows = repo::activity::for_users(pool, &ids, now).await?;
        let found: HashSet<&str> = rows.iter().map(|r| r.user_id.as_str()).collect();
        let unknown = ids
            .iter()
            .filter(|id| !found.contains(id.as_str()))
            .cloned()
            .collect();
        (rows, unknown, String::new())
    };
    Ok(pb::GetUserActivityResponse {
        users: rows.into_iter().map(Into::into).collect(),
        unknown_user_ids: unknown,
        next_page_token,
        as_of: Some(crate::convert::timestamp(now)),
        total_users,
    })
}
