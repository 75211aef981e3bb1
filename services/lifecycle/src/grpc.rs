//! The lifecycle service's gRPC adapter. Stage evaluation, scoring, trigger
//! rules and the Kit outbox are planned work: until then every RPC answers
//! `UNIMPLEMENTED` and says so, rather than pretending.

use std::pin::Pin;

use futures::Stream;
use growth_proto::lifecycle::v1::{self as pb, lifecycle_service_server::LifecycleService};
use sqlx::PgPool;
use tonic::{Request, Response, Status};

/// The lifecycle service's gRPC implementation.
#[derive(Clone)]
pub struct LifecycleGrpc {
    #[allow(dead_code)] // read by the stage evaluation work
    pool: PgPool,
}

impl LifecycleGrpc {
    /// A service over `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

fn later(rpc: &str, what: &str) -> Status {
    Status::unimplemented(format!(
        "{rpc} is not implemented yet: {what} are planned work"
    ))
}

const STAGES: &str = "lifecycle stages and engagement scores";
const TRIGGERS: &str = "Kit trigger rules and their delivery outbox";

type ProgressStream = Pin<Box<dyn Stream<Item = Result<pb::EvaluateUsersResponse, Status>> + Send>>;

#[tonic::async_trait]
impl LifecycleService for LifecycleGrpc {
    async fn get_user_lifecycle(
        &self,
        _: Request<pb::GetUserLifecycleRequest>,
    ) -> Result<Response<pb::GetUserLifecycleResponse>, Status> {
        Err(later("GetUserLifecycle", STAGES))
    }

    async fn list_transitions(
        &self,
        _: Request<pb::ListTransitionsRequest>,
    ) -> Result<Response<pb::ListTransitionsResponse>, Status> {
        Err(later("ListTransitions", STAGES))
    }

    async fn get_stage_distribution(
        &self,
        _: Request<pb::GetStageDistributionRequest>,
    ) -> Result<Response<pb::GetStageDistributionResponse>, Status> {
        Err(later("GetStageDistribution", STAGES))
    }

    type EvaluateUsersStream = ProgressStream;

    async fn evaluate_users(
        &self,
        _: Request<pb::EvaluateUsersRequest>,
    ) -> Result<Response<Self::EvaluateUsersStream>, Status> {
        Err(later("EvaluateUsers", STAGES))
    }

    async fn list_trigger_rules(
        &self,
        _: Request<pb::ListTriggerRulesRequest>,
    ) -> Result<Response<pb::ListTriggerRulesResponse>, Status> {
        Err(later("ListTriggerRules", TRIGGERS))
    }

    async fn upsert_trigger_rule(
        &self,
        _: Request<pb::UpsertTriggerRuleRequest>,
    ) -> Result<Response<pb::UpsertTriggerRuleResponse>, Status> {
        Err(later("UpsertTriggerRule", TRIGGERS))
    }

    async fn delete_trigger_rule(
        &self,
        _: Request<pb::DeleteTriggerRuleRequest>,
    ) -> Result<Response<pb::DeleteTriggerRuleResponse>, Status> {
        Err(later("DeleteTriggerRule", TRIGGERS))
    }

    async fn list_trigger_deliveries(
        &self,
        _: Request<pb::ListTriggerDeliveriesRequest>,
    ) -> Result<Response<pb::ListTriggerDeliveriesResponse>, Status> {
        Err(later("ListTriggerDeliveries", TRIGGERS))
    }

    async fn retry_delivery(
        &self,
        _: Request<pb::RetryDeliveryRequest>,
    ) -> Result<Response<pb::RetryDeliveryResponse>, Status> {
        Err(later("RetryDelivery", TRIGGERS))
    }
}
