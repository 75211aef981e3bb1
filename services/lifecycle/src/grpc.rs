//! The lifecycle service's gRPC adapter: each method hands the request to
//! `api` and maps the error through the one error table.

use growth_proto::lifecycle::v1::{self as pb, lifecycle_service_server::LifecycleService};
use tonic::{Request, Response, Status};

use crate::api::{stages, triggers};
use crate::evaluate::bulk::Progress;
use crate::state::Lifecycle;

/// The lifecycle service's gRPC implementation.
#[derive(Clone)]
pub struct LifecycleGrpc {
    state: Lifecycle,
}

impl LifecycleGrpc {
    /// A service over `state`.
    pub fn new(state: Lifecycle) -> Self {
        Self { state }
    }
}

fn reply<T>(result: Result<T, crate::error::LifecycleError>) -> Result<Response<T>, Status> {
    result.map(Response::new).map_err(Status::from)
}

#[tonic::async_trait]
impl LifecycleService for LifecycleGrpc {
    #[tracing::instrument(skip_all, fields(user_id = %request.get_ref().user_id))]
    async fn get_user_lifecycle(
        &self,
        request: Request<pb::GetUserLifecycleRequest>,
    ) -> Result<Response<pb::GetUserLifecycleResponse>, Status> {
        reply(stages::get_user(&self.state, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all)]
    async fn list_transitions(
        &self,
        request: Request<pb::ListTransitionsRequest>,
    ) -> Result<Response<pb::ListTransitionsResponse>, Status> {
        reply(stages::list_transitions(&self.state, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all)]
    async fn get_stage_distribution(
        &self,
        request: Request<pb::GetStageDistributionRequest>,
    ) -> Result<Response<pb::GetStageDistributionResponse>, Status> {
        reply(stages::distribution(&self.state, request.into_inner()).await)
    }

    type EvaluateUsersStream = Progress;

    #[tracing::instrument(skip_all, fields(dry_run = request.get_ref().dry_run))]
    async fn evaluate_users(
        &self,
        request: Request<pb::EvaluateUsersRequest>,
    ) -> Result<Response<Self::EvaluateUsersStream>, Status> {
        reply(stages::evaluate(&self.state, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all)]
    async fn list_trigger_rules(
        &self,
        _: Request<pb::ListTriggerRulesRequest>,
    ) -> Result<Response<pb::ListTriggerRulesResponse>, Status> {
        reply(triggers::list_rules(&self.state).await)
    }

    #[tracing::instrument(skip_all)]
    async fn upsert_trigger_rule(
        &self,
        request: Request<pb::UpsertTriggerRuleRequest>,
    ) -> Result<Response<pb::UpsertTriggerRuleResponse>, Status> {
        reply(triggers::upsert_rule(&self.state, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all, fields(rule_id = %request.get_ref().rule_id))]
    async fn delete_trigger_rule(
        &self,
        request: Request<pb::DeleteTriggerRuleRequest>,
    ) -> Result<Response<pb::DeleteTriggerRuleResponse>, Status> {
        reply(triggers::delete_rule(&self.state, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all)]
    async fn list_trigger_deliveries(
        &self,
        request: Request<pb::ListTriggerDeliveriesRequest>,
    ) -> Result<Response<pb::ListTriggerDeliveriesResponse>, Status> {
        reply(triggers::list_deliveries(&self.state, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all, fields(delivery_id = %request.get_ref().delivery_id))]
    async fn retry_delivery(
        &self,
        request: Request<pb::RetryDeliveryRequest>,
    ) -> Result<Response<pb::RetryDeliveryResponse>, Status> {
        reply(triggers::retry_delivery(&self.state, request.into_inner()).await)
    }
}
