//! The gRPC adapter: each method parses its request into domain types
//! (validating once), calls the repository, and maps errors through
//! [`MetricsError`]. No SQL and no validation rules live here.

use std::pin::Pin;

use chrono::Utc;
use futures::Stream;
use growth_proto::metrics::v1::{self as pb, metrics_service_server::MetricsService};
use growth_runtime::Shutdown;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::domain::{NewEvent, NewPayment, NewUser};
use crate::error::MetricsError;
use crate::repo;
use crate::watch::{self, FeedSignal};

/// The metrics service's gRPC implementation.
#[derive(Clone)]
pub struct MetricsGrpc {
    pool: PgPool,
    feed: FeedSignal,
    shutdown: Shutdown,
}

impl MetricsGrpc {
    /// A service over `pool`; feed streams wake on `feed` and end on `shutdown`.
    pub fn new(pool: PgPool, feed: FeedSignal, shutdown: Shutdown) -> Self {
        Self {
            pool,
            feed,
            shutdown,
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
        let counts = repo::users::upsert(&self.pool, &users)
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
        let outcome = repo::events::track(&self.pool, &events).await?;
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

    async fn get_user_activity(
        &self,
        _: Request<pb::GetUserActivityRequest>,
    ) -> Result<Response<pb::GetUserActivityResponse>, Status> {
        Err(later(
            "GetUserActivity is not implemented yet: per-user activity summaries arrive with the lifecycle service work",
        ))
    }

    async fn run_revenue_audit(
        &self,
        _: Request<pb::RunRevenueAuditRequest>,
    ) -> Result<Response<pb::RunRevenueAuditResponse>, Status> {
        Err(later(
            "RunRevenueAudit is not implemented yet: the revenue audit against Stripe is planned work",
        ))
    }

    async fn get_audit_run(
        &self,
        _: Request<pb::GetAuditRunRequest>,
    ) -> Result<Response<pb::GetAuditRunResponse>, Status> {
        Err(later(
            "GetAuditRun is not implemented yet: the revenue audit against Stripe is planned work",
        ))
    }

    async fn list_audit_runs(
        &self,
        _: Request<pb::ListAuditRunsRequest>,
    ) -> Result<Response<pb::ListAuditRunsResponse>, Status> {
        Err(later(
            "ListAuditRuns is not implemented yet: the revenue audit against Stripe is planned work",
        ))
    }

    async fn refresh_cohorts(
        &self,
        _: Request<pb::RefreshCohortsRequest>,
    ) -> Result<Response<pb::RefreshCohortsResponse>, Status> {
        Err(later(
            "RefreshCohorts is not implemented yet: cohorts and retention are planned work",
        ))
    }

    async fn get_retention_matrix(
        &self,
        _: Request<pb::GetRetentionMatrixRequest>,
    ) -> Result<Response<pb::GetRetentionMatrixResponse>, Status> {
        Err(later(
            "GetRetentionMatrix is not implemented yet: cohorts and retention are planned work",
        ))
    }

    async fn get_cohort_overview(
        &self,
        _: Request<pb::GetCohortOverviewRequest>,
    ) -> Result<Response<pb::GetCohortOverviewResponse>, Status> {
        Err(later(
            "GetCohortOverview is not implemented yet: cohorts and retention are planned work",
        ))
    }

    async fn get_churn_report(
        &self,
        _: Request<pb::GetChurnReportRequest>,
    ) -> Result<Response<pb::GetChurnReportResponse>, Status> {
        Err(later(
            "GetChurnReport is not implemented yet: churn reporting is planned work",
        ))
    }

    async fn get_revenue_summary(
        &self,
        _: Request<pb::GetRevenueSummaryRequest>,
    ) -> Result<Response<pb::GetRevenueSummaryResponse>, Status> {
        Err(later(
            "GetRevenueSummary is not implemented yet: MRR movements are planned work",
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
