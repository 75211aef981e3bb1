//! `GetUserActivity`: per-user activity and revenue summaries, for a list
//! of users or a page of all of them (keyset tokens `after:<user id>`).

use std::collections::{BTreeMap, HashSet};

use chrono::Utc;
use growth_proto::common::v1::Money;
use growth_proto::metrics::v1 as pb;
use growth_proto::paging::Page;
use growth_proto::timestamp::from_utc;
use growth_proto::user_id;

use crate::domain::NewUser;
use crate::error::MetricsError;
use crate::repo;
use crate::repo::activity::ActivityRow;
use crate::state::Metrics;

/// The token kind of a page of all users.
const AFTER: &str = "after";

/// `GetUserActivity`.
pub async fn user_activity(
    state: &Metrics,
    r: pb::GetUserActivityRequest,
) -> Result<pb::GetUserActivityResponse, MetricsError> {
    let pool = &state.pool;
    let now = Utc::now();
    let mut total_users = 0;
    let (rows, unknown, next_page_token) = if r.user_ids.is_empty() {
        let page = Page::read(r.page.as_ref())?;
        let after = page.key(AFTER, |id| user_id::check(id).is_ok().then_some(id))?;
        if after.is_none() {
            total_users = repo::users::count(pool).await?;
        }
        let rows = repo::activity::page(pool, after.unwrap_or(""), page.size, now).await?;
        let next = page.next_key(AFTER, &rows, |last| last.user_id.clone());
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
        users: rows.into_iter().map(wire).collect(),
        unknown_user_ids: unknown,
        next_page_token,
        as_of: Some(from_utc(now)),
        total_users,
    })
}

/// One user's summary on the wire.
fn wire(row: ActivityRow) -> pb::UserActivity {
    let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
    let money = |amounts: BTreeMap<String, i64>| {
        amounts
            .into_iter()
            .map(|(currency, amount_minor)| Money {
                amount_minor,
                currency,
            })
            .collect()
    };
    pb::UserActivity {
        user_id: row.user_id,
        email: row.email,
        signup_at: Some(from_utc(row.signup_at)),
        plan: row.plan,
        trial_ends_at: row.trial_ends_at.map(from_utc),
        last_seen_at: row.last_seen_at.map(from_utc),
        events_1d: count(row.events_1d),
        events_7d: count(row.events_7d),
        events_30d: count(row.events_30d),
        active_days_30d: count(row.active_days_30d),
        distinct_events_30d: count(row.distinct_events_30d),
        paying: row.paying,
        mrr: money(row.mrr.0),
        lifetime_revenue: money(row.lifetime_revenue.0),
    }
}
