//! The metrics service, as lifecycle calls it: activity summaries for users
//! (explicit ids or a page of all users) and the event feed.

use growth_proto::client::Bearer;
use growth_proto::common::v1::PageRequest;
use growth_proto::metrics::v1::GetUserActivityRequest;
use growth_proto::metrics::v1::metrics_service_client::MetricsServiceClient;
use growth_runtime::status::{FieldViolation, invalid_argument, violations_of};
use secrecy::SecretString;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::domain::Signals;

/// A metrics client with the bearer token attached.
pub type Metrics = MetricsServiceClient<InterceptedService<Channel, Bearer>>;

/// Most users per `GetUserActivity` call (the metrics service's limit).
pub const MAX_USERS_PER_CALL: usize = 1000;

/// A client for metrics at `addr` that connects lazily and reconnects by
/// itself, so lifecycle starts (and stays up) while metrics is down.
pub fn metrics_client(addr: &str, token: Option<&SecretString>) -> anyhow::Result<Metrics> {
    let channel = growth_proto::client::endpoint(addr)?.connect_lazy();
    Ok(
        MetricsServiceClient::with_interceptor(channel, Bearer::new(token)?)
            .max_decoding_message_size(64 * 1024 * 1024),
    )
}

/// One page of all users' signals.
pub struct Page {
    /// The users.
    pub users: Vec<Signals>,
    /// Token of the next page; empty at the end.
    pub next_page_token: String,
    /// Users in all (first page only).
    pub total_users: i64,
}

/// Signals of the given users (any number; asked in chunks). Ids metrics
/// does not know are left out. `first` is the index of `user_ids[0]` in the
/// caller's own `user_ids`: an id metrics refuses is named by its index
/// there (`user_ids[first + i]`), not by its place in one chunk.
pub async fn signals_of(
    client: &mut Metrics,
    user_ids: &[String],
    first: usize,
) -> Result<Vec<Signals>, tonic::Status> {
    let mut out = Vec::with_capacity(user_ids.len());
    for (n, chunk) in user_ids.chunks(MAX_USERS_PER_CALL).enumerate() {
        let response = client
            .get_user_activity(GetUserActivityRequest {
                user_ids: chunk.to_vec(),
                page: None,
            })
            .await
            .map_err(|s| reindexed(s, first + n * MAX_USERS_PER_CALL))?
            .into_inner();
        out.extend(
            response
                .users
                .into_iter()
                .filter_map(Signals::from_activity),
        );
    }
    Ok(out)
}

/// One page of all users, `size` at most, after `page_token`.
pub async fn signals_page(
    client: &mut Metrics,
    page_token: &str,
    size: i32,
) -> Result<Page, tonic::Status> {
    let response = client
        .get_user_activity(GetUserActivityRequest {
            user_ids: vec![],
            page: Some(PageRequest {
                page_size: size,
                page_token: page_token.to_owned(),
            }),
        })
        .await?
        .into_inner();
    Ok(Page {
        users: response
            .users
            .into_iter()
            .filter_map(Signals::from_activity)
            .collect(),
        next_page_token: response.next_page_token,
        total_users: response.total_users,
    })
}

/// Metrics' `INVALID_ARGUMENT` about `user_ids[i]` of a call whose first id
/// is the caller's `user_ids[offset]`, naming `user_ids[offset + i]`; any
/// other status as it is.
fn reindexed(status: tonic::Status, offset: usize) -> tonic::Status {
    let violations = violations_of(&status);
    if status.code() != tonic::Code::InvalidArgument || violations.is_empty() {
        return status;
    }
    let renamed: Vec<FieldViolation> = violations
        .into_iter()
        .map(|v| {
            let index = v
                .field
                .strip_prefix("user_ids[")
                .and_then(|rest| rest.split_once(']'))
                .and_then(|(i, rest)| Some((i.parse::<usize>().ok()?, rest)));
            match index {
                Some((i, rest)) => {
                    FieldViolation::new(format!("user_ids[{}]{rest}", offset + i), v.reason)
                }
                None => v,
            }
        })
        .collect();
    invalid_argument(&renamed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_ids_are_named_by_their_index_in_the_callers_request() {
        let status = invalid_argument(&[
            FieldViolation::new("user_ids[2]", "may contain only letters"),
            FieldViolation::new("page.page_size", "too big"),
        ]);
        let status = reindexed(status, 1000);
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert_eq!(
            status.message(),
            "user_ids[1002]: may contain only letters; page.page_size: too big"
        );
        let unavailable = reindexed(tonic::Status::unavailable("down"), 1000);
        assert_eq!(unavailable.code(), tonic::Code::Unavailable);
    }
}
