//! The gRPC adapter: each method parses its request into domain types
//! (validating once), calls the repository, and maps errors through
//! [`MetricsError`]. No SQL and no validation rules live here.

use std::collections::HashSet;
use std::pin::Pin;

use chrono::Utc;
use futures::Stream;
use growth_proto::metrics::v1::{self as pb, metrics_service_server::MetricsService};
use growth_runtime::Shutdown;
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::audit::month::Month;
use crate::audit::run::AuditService;
use crate::cohorts::CohortService;
use crate::domain::{NewEvent, NewPayment, NewSubscription, NewUser};
use crate::error::MetricsError;
use crate::paging;
use crate::repo;
use crate::revenue;
use crate::watch::{self, FeedSignal};

/// The metrics service's gRPC implementation.
#[derive(Clone)]
pub struct MetricsGrpc {
    pool: PgPool,
    feed: FeedSignal,
    shutdown: Shutdown,
    audit: AuditService,
    cohorts: CohortService,
}

impl MetricsGrpc {
    /// A service over `pool`; feed streams wake on `feed` and end on
    /// `shutdown`; audits run through `audit`, cohorts through `cohorts`
    /// (whose rollup settings ingest maintains the rollup with).
    pub fn new(
        pool: PgPool,
        feed: FeedSignal,
        shutdown: Shutdown,
        audit: AuditService,
        cohorts: CohortService,
    ) -> Self {
        Self {
            pool,
            feed,
            shutdown,
            audit,
            cohorts,
        }
    }
}

/// `UNIMPLEMENTED` for an RPC whose behaviour belongs to later work.
fn later(what: &'static str) -> Status {
    MetricsError::Unimplemented(what).into()
}

type FeedStream = Pin<Box<dyn Stream<Item = Result<pb::WatchEventsResponse, Status>> + Send>>;

#[tonic::async_trait]
impl MetricsService for MetricsGrpc {
    #[tracing::instrument(skip_all, fields(rows = request.get_ref().users.len()))]
    async fn upsert_users(
        &self,
        request: Request<pb::UpsertUsersRequest>,
    ) -> Result<Response<pb::UpsertUsersResponse>, Status> {
        let users = NewUser::parse_batch(&request.get_ref().users, Utc::now())
            .map_err(MetricsError::from)?;
        let counts = repo::users::upsert(&self.pool, self.cohorts.settings(), &users)
            .await
            .map_err(MetricsError::from)?;
        Ok(Response::new(pb::UpsertUsersResponse {
            inserted: counts.inserted,
            updated: counts.updated,
            unchanged: counts.unchanged,
        }))
    }

    #[tracing::instrument(skip_all, fields(rows = request.get_ref().events.len()))]
    async fn track_events(
        &self,
        request: Request<pb::TrackEventsRequest>,
    ) -> Result<Response<pb::TrackEventsResponse>, Status> {
        let events = NewEvent::parse_batch(&request.get_ref().events, Utc::now())
            .map_err(MetricsError::from)?;
        let outcome = repo::events::track(&self.pool, self.cohorts.settings(), &events).await?;
        Ok(Response::new(pb::TrackEventsResponse {
            inserted: outcome.inserted,
            duplicates: outcome.duplicates,
            last_sequence: outcome.last_sequence,
        }))
    }

    #[tracing::instrument(skip_all, fields(rows = request.get_ref().payments.len()))]
    async fn import_payments(
        &self,
        request: Request<pb::ImportPaymentsRequest>,
    ) -> Result<Response<pb::ImportPaymentsResponse>, Status> {
        let payments = NewPayment::parse_batch(&request.get_ref().payments, Utc::now())
            .map_err(MetricsError::from)?;
        let counts = repo::payments::import(&self.pool, &payments).await?;
        Ok(Response::new(pb::ImportPaymentsResponse {
            inserted: counts.inserted,
            updated: counts.updated,
            unchanged: counts.unchanged,
        }))
    }

    #[tracing::instrument(skip_all, fields(rows = request.get_ref().subscriptions.len()))]
    async fn import_subscriptions(
        &self,
        request: Request<pb::ImportSubscriptionsRequest>,
    ) -> Result<Response<pb::ImportSubscriptionsResponse>, Status> {
        let states = NewSubscription::parse_batch(&request.get_ref().subscriptions, Utc::now())
            .map_err(MetricsError::from)?;
        let counts = repo::subscriptions::import(&self.pool, &states).await?;
        Ok(Response::new(pb::ImportSubscriptionsResponse {
            recorded: counts.recorded,
            unchanged: counts.unchanged,
            stale: counts.stale,
        }))
    }

    type WatchEventsStream = FeedStream;

    #[tracing::instrument(skip_all, fields(after = request.get_ref().after_sequence))]
    async fn watch_events(
        &self,
        request: Request<pb::WatchEventsRequest>,
    ) -> Result<Response<Self::WatchEventsStream>, Status> {
        let request = request.into_inner();
        if request.after_sequence < 0 {
            return Err(MetricsError::invalid(
                "after_sequence",
                format!("must not be negative, got {}", request.after_sequence),
            )
            .into());
        }
        let stream = watch::stream(
            self.pool.clone(),
            self.feed.clone(),
            self.shutdown.clone(),
            request.after_sequence,
            request.max_batch_size,
            request.stop_at_end,
        );
        Ok(Response::new(Box::pin(stream)))
    }

    #[tracing::instrument(skip_all, fields(users = request.get_ref().user_ids.len()))]
    async fn get_user_activity(
        &self,
        request: Request<pb::GetUserActivityRequest>,
    ) -> Result<Response<pb::GetUserActivityResponse>, Status> {
        let request = request.into_inner();
        let now = Utc::now();
        let mut total_users = 0;
        let (rows, unknown, next_page_token) = if request.user_ids.is_empty() {
            let (limit, after) = paging::by_key(request.page.as_ref())?;
            if after.is_empty() {
                total_users = repo::users::count(&self.pool)
                    .await
                    .map_err(MetricsError::from)?;
            }
            let rows = repo::activity::page(&self.pool, after, limit, now)
                .await
                .map_err(MetricsError::from)?;
            let next = match rows.last() {
                Some(last) if rows.len() as i64 == limit => paging::after(&last.user_id),
                _ => String::new(),
            };
            (rows, vec![], next)
        } else {
            let ids =
                NewUser::parse_ids("user_ids", &request.user_ids).map_err(MetricsError::from)?;
            let rows = repo::activity::for_users(&self.pool, &ids, now)
                .await
                .map_err(MetricsError::from)?;
            let found: HashSet<&str> = rows.iter().map(|r| r.user_id.as_str()).collect();
            let unknown = ids
                .iter()
                .filter(|id| !found.contains(id.as_str()))
                .cloned()
                .collect();
            (rows, unknown, String::new())
        };
        Ok(Response::new(pb::GetUserActivityResponse {
            users: rows.into_iter().map(Into::into).collect(),
            unknown_user_ids: unknown,
            next_page_token,
            as_of: Some(crate::convert::timestamp(now)),
            total_users,
        }))
    }

    #[tracing::instrument(skip_all, fields(month = %request.get_ref().month))]
    async fn run_revenue_audit(
        &self,
        request: Request<pb::RunRevenueAuditRequest>,
    ) -> Result<Response<pb::RunRevenueAuditResponse>, Status> {
        let request = request.into_inner();
        let month = Month::parse_required("month", &request.month, Utc::now())
            .map_err(|v| MetricsError::Invalid(vec![v]))?;
        let run = self
            .audit
            .run(month, request.repair, request.dry_run)
            .await?;
        Ok(Response::new(pb::RunRevenueAuditResponse {
            run: Some(run.into()),
        }))
    }

    async fn get_audit_run(
        &self,
        request: Request<pb::GetAuditRunRequest>,
    ) -> Result<Response<pb::GetAuditRunResponse>, Status> {
        let id = &request.get_ref().run_id;
        let run_id = Uuid::parse_str(id).map_err(|_| {
            MetricsError::invalid("run_id", format!("{id:?} is not a run id (a UUID)"))
        })?;
        let run = self.audit.get(run_id).await?;
        Ok(Response::new(pb::GetAuditRunResponse {
            run: Some(run.into()),
        }))
    }

    async fn list_audit_runs(
        &self,
        request: Request<pb::ListAuditRunsRequest>,
    ) -> Result<Response<pb::ListAuditRunsResponse>, Status> {
        let request = request.into_inner();
        let month = match request.month.trim() {
            "" => None,
            text => Some(
                Month::parse("month", text, Utc::now())
                    .map_err(|v| MetricsError::Invalid(vec![v]))?,
            ),
        };
        let (limit, offset) = paging::by_offset(request.page.as_ref())?;
        let runs = self.audit.list(month, limit + 1, offset).await?;
        let more = runs.len() as i64 > limit;
        Ok(Response::new(pb::ListAuditRunsResponse {
            runs: runs
                .into_iter()
                .take(limit as usize)
                .map(Into::into)
                .collect(),
            next_page_token: if more {
                (offset + limit).to_string()
            } else {
                String::new()
            },
        }))
    }

    #[tracing::instrument(skip_all, fields(full = request.get_ref().full, dry_run = request.get_ref().dry_run))]
    async fn refresh_cohorts(
        &self,
        request: Request<pb::RefreshCohortsRequest>,
    ) -> Result<Response<pb::RefreshCohortsResponse>, Status> {
        Ok(Response::new(
            self.cohorts.refresh(request.into_inner()).await?,
        ))
    }

    #[tracing::instrument(skip_all)]
    async fn get_retention_matrix(
        &self,
        request: Request<pb::GetRetentionMatrixRequest>,
    ) -> Result<Response<pb::GetRetentionMatrixResponse>, Status> {
        Ok(Response::new(
            self.cohorts.matrix(request.into_inner()).await?,
        ))
    }

    #[tracing::instrument(skip_all)]
    async fn get_cohort_overview(
        &self,
        request: Request<pb::GetCohortOverviewRequest>,
    ) -> Result<Response<pb::GetCohortOverviewResponse>, Status> {
        Ok(Response::new(
            self.cohorts.overview(request.into_inner()).await?,
        ))
    }

    #[tracing::instrument(skip_all, fields(month = %request.get_ref().month))]
    async fn get_churn_report(
        &self,
        request: Request<pb::GetChurnReportRequest>,
    ) -> Result<Response<pb::GetChurnReportResponse>, Status> {
        let time_zone = &self.cohorts.settings().time_zone;
        Ok(Response::new(
            revenue::api::churn_report(&self.pool, time_zone, request.get_ref()).await?,
        ))
    }

    #[tracing::instrument(skip_all, fields(from = %request.get_ref().month_from, to = %request.get_ref().month_to))]
    async fn get_revenue_summary(
        &self,
        request: Request<pb::GetRevenueSummaryRequest>,
    ) -> Result<Response<pb::GetRevenueSummaryResponse>, Status> {
        let time_zone = &self.cohorts.settings().time_zone;
        Ok(Response::new(
            revenue::api::summary(&self.pool, time_zone, request.get_ref()).await?,
        ))
    }

    async fn list_stripe_events(
        &self,
        request: Request<pb::ListStripeEventsRequest>,
    ) -> Result<Response<pb::ListStripeEventsResponse>, Status> {
        Ok(Response::new(
            crate::webhook::listing::list(&self.pool, request.get_ref()).await?,
        ))
    }

    async fn generate_growth_insights(
        &self,
        _: Request<pb::GenerateGrowthInsightsRequest>,
    ) -> Result<Response<pb::GenerateGrowthInsightsResponse>, Status> {
        Err(later(
            "GenerateGrowthInsights is not implemented yet: weekly growth insights are planned work",
        ))
    }

    async fn get_growth_report(
        &self,
        _: Request<pb::GetGrowthReportRequest>,
    ) -> Result<Response<pb::GetGrowthReportResponse>, Status> {
        Err(later(
            "GetGrowthReport is not implemented yet: weekly growth insights are planned work",
        ))
    }
}
