//! The metrics service's gRPC adapter: each method hands the request to
//! `api` and maps the error through the one error table.

use growth_proto::metrics::v1::{self as pb, metrics_service_server::MetricsService};
use tonic::{Request, Response, Status};

use crate::api::{
    active_users, activity, audit, cohorts, ingest, insights, revenue, stripe_events, watch,
};
use crate::error::MetricsError;
use crate::state::Metrics;

/// The metrics service's gRPC implementation.
#[derive(Clone)]
pub struct MetricsGrpc {
    state: Metrics,
}

impl MetricsGrpc {
    /// A service over `state`.
    pub fn new(state: Metrics) -> Self {
        Self { state }
    }
}

fn reply<T>(result: Result<T, MetricsError>) -> Result<Response<T>, Status> {
    result.map(Response::new).map_err(Status::from)
}

#[tonic::async_trait]
impl MetricsService for MetricsGrpc {
    #[tracing::instrument(skip_all, fields(rows = request.get_ref().users.len()))]
    async fn upsert_users(
        &self,
        request: Request<pb::UpsertUsersRequest>,
    ) -> Result<Response<pb::UpsertUsersResponse>, Status> {
        reply(ingest::upsert_users(&self.state, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all, fields(rows = request.get_ref().events.len()))]
    async fn track_events(
        &self,
        request: Request<pb::TrackEventsRequest>,
    ) -> Result<Response<pb::TrackEventsResponse>, Status> {
        reply(ingest::track_events(&self.state, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all, fields(rows = request.get_ref().payments.len()))]
    async fn import_payments(
        &self,
        request: Request<pb::ImportPaymentsRequest>,
    ) -> Result<Response<pb::ImportPaymentsResponse>, Status> {
        reply(ingest::import_payments(&self.state, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all, fields(rows = request.get_ref().subscriptions.len()))]
    async fn import_subscriptions(
        &self,
        request: Request<pb::ImportSubscriptionsRequest>,
    ) -> Result<Response<pb::ImportSubscriptionsResponse>, Status> {
        reply(ingest::import_subscriptions(&self.state, request.into_inner()).await)
    }

    type WatchEventsStream = watch::FeedStream;

    #[tracing::instrument(skip_all, fields(after = request.get_ref().after_sequence))]
    async fn watch_events(
        &self,
        request: Request<pb::WatchEventsRequest>,
    ) -> Result<Response<Self::WatchEventsStream>, Status> {
        reply(watch::watch_events(&self.state, request.into_inner()))
    }

    #[tracing::instrument(skip_all, fields(users = request.get_ref().user_ids.len()))]
    async fn get_user_activity(
        &self,
        request: Request<pb::GetUserActivityRequest>,
    ) -> Result<Response<pb::GetUserActivityResponse>, Status> {
        reply(activity::user_activity(&self.state, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all, fields(month = %request.get_ref().month))]
    async fn run_revenue_audit(
        &self,
        request: Request<pb::RunRevenueAuditRequest>,
    ) -> Result<Response<pb::RunRevenueAuditResponse>, Status> {
        reply(audit::run_audit(&self.state, request.into_inner()).await)
    }

    async fn get_audit_run(
        &self,
        request: Request<pb::GetAuditRunRequest>,
    ) -> Result<Response<pb::GetAuditRunResponse>, Status> {
        reply(audit::get_run(&self.state, request.into_inner()).await)
    }

    async fn list_audit_runs(
        &self,
        request: Request<pb::ListAuditRunsRequest>,
    ) -> Result<Response<pb::ListAuditRunsResponse>, Status> {
        reply(audit::list_runs(&self.state, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all, fields(full = request.get_ref().full, dry_run = request.get_ref().dry_run))]
    async fn refresh_cohorts(
        &self,
        request: Request<pb::RefreshCohortsRequest>,
    ) -> Result<Response<pb::RefreshCohortsResponse>, Status> {
        reply(cohorts::refresh(&self.state, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all)]
    async fn get_retention_matrix(
        &self,
        request: Request<pb::GetRetentionMatrixRequest>,
    ) -> Result<Response<pb::GetRetentionMatrixResponse>, Status> {
        reply(cohorts::matrix(&self.state, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all)]
    async fn get_cohort_overview(
        &self,
        request: Request<pb::GetCohortOverviewRequest>,
    ) -> Result<Response<pb::GetCohortOverviewResponse>, Status> {
        reply(cohorts::overview(&self.state, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all, fields(month = %request.get_ref().month))]
    async fn get_churn_report(
        &self,
        request: Request<pb::GetChurnReportRequest>,
    ) -> Result<Response<pb::GetChurnReportResponse>, Status> {
        reply(revenue::churn_report(&self.state, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all, fields(from = %request.get_ref().month_from, to = %request.get_ref().month_to))]
    async fn get_revenue_summary(
        &self,
        request: Request<pb::GetRevenueSummaryRequest>,
    ) -> Result<Response<pb::GetRevenueSummaryResponse>, Status> {
        reply(revenue::summary(&self.state, request.into_inner()).await)
    }

    async fn list_stripe_events(
        &self,
        request: Request<pb::ListStripeEventsRequest>,
    ) -> Result<Response<pb::ListStripeEventsResponse>, Status> {
        reply(stripe_events::list(&self.state, request.into_inner()).await)
    }

    async fn generate_growth_insights(
        &self,
        request: Request<pb::GenerateGrowthInsightsRequest>,
    ) -> Result<Response<pb::GenerateGrowthInsightsResponse>, Status> {
        reply(insights::generate(&self.state, request.into_inner()).await)
    }

    async fn get_growth_report(
        &self,
        request: Request<pb::GetGrowthReportRequest>,
    ) -> Result<Response<pb::GetGrowthReportResponse>, Status> {
        reply(insights::report(&self.state, request.into_inner()).await)
    }

    async fn list_growth_reports(
        &self,
        request: Request<pb::ListGrowthReportsRequest>,
    ) -> Result<Response<pb::ListGrowthReportsResponse>, Status> {
        reply(insights::list(&self.state, request.into_inner()).await)
    }

    async fn get_active_users(
        &self,
        request: Request<pb::GetActiveUsersRequest>,
    ) -> Result<Response<pb::GetActiveUsersResponse>, Status> {
        reply(active_users::get(&self.state, request.into_inner()).await)
    }

    async fn get_cohort_value(
        &self,
        request: Request<pb::GetCohortValueRequest>,
    ) -> Result<Response<pb::GetCohortValueResponse>, Status> {
        reply(cohorts::value::get(&self.state, request.into_inner()).await)
    }
}
