//! A lifecycle service that answers `GetStageDistribution` with fixed
//! counts (every other RPC: `UNIMPLEMENTED`), for metrics' calls to
//! lifecycle without the lifecycle crate.

// Test code: a panic with the value is the failure report.
#![allow(clippy::unwrap_used)]

use std::pin::Pin;

use growth_proto::lifecycle::v1::lifecycle_service_server::{
    LifecycleService, LifecycleServiceServer,
};
use growth_proto::lifecycle::v1::{self as lc, LifecycleStage};
use tonic::{Request, Response, Status};

/// The counts it answers: trial 3, active 5, at risk 1, churned 2.
pub const STAGES: [(LifecycleStage, i64); 4] = [
    (LifecycleStage::Trial, 3),
    (LifecycleStage::Active, 5),
    (LifecycleStage::AtRisk, 1),
    (LifecycleStage::Churned, 2),
];

struct Fake;

type Answer<T> = Result<Response<T>, Status>;

fn no<T>() -> Answer<T> {
    Err(Status::unimplemented("not in the fake"))
}

#[tonic::async_trait]
impl LifecycleService for Fake {
    async fn get_user_lifecycle(
        &self,
        _: Request<lc::GetUserLifecycleRequest>,
    ) -> Answer<lc::GetUserLifecycleResponse> {
        no()
    }

    async fn list_transitions(
        &self,
        _: Request<lc::ListTransitionsRequest>,
    ) -> Answer<lc::ListTransitionsResponse> {
        no()
    }

    async fn get_stage_distribution(
        &self,
        r: Request<lc::GetStageDistributionRequest>,
    ) -> Answer<lc::GetStageDistributionResponse> {
        Ok(Response::new(lc::GetStageDistributionResponse {
            stages: STAGES
                .iter()
                .map(|(stage, users)| lc::StageCount {
                    stage: *stage as i32,
                    users: *users,
                })
                .collect(),
            total_users: STAGES.iter().map(|(_, n)| n).sum(),
            as_of: r.into_inner().as_of,
        }))
    }

    type EvaluateUsersStream =
        Pin<Box<dyn tokio_stream::Stream<Item = Result<lc::EvaluateUsersResponse, Status>> + Send>>;

    async fn evaluate_users(
        &self,
        _: Request<lc::EvaluateUsersRequest>,
    ) -> Answer<Self::EvaluateUsersStream> {
        no()
    }

    async fn list_trigger_rules(
        &self,
        _: Request<lc::ListTriggerRulesRequest>,
    ) -> Answer<lc::ListTriggerRulesResponse> {
        no()
    }

    async fn upsert_trigger_rule(
        &self,
        _: Request<lc::UpsertTriggerRuleRequest>,
    ) -> Answer<lc::UpsertTriggerRuleResponse> {
        no()
    }

    async fn delete_trigger_rule(
        &self,
        _: Request<lc::DeleteTriggerRuleRequest>,
    ) -> Answer<lc::DeleteTriggerRuleResponse> {
        no()
    }

    async fn list_trigger_deliveries(
        &self,
        _: Request<lc::ListTriggerDeliveriesRequest>,
    ) -> Answer<lc::ListTriggerDeliveriesResponse> {
        no()
    }

    async fn retry_delivery(
        &self,
        _: Request<lc::RetryDeliveryRequest>,
    ) -> Answer<lc::RetryDeliveryResponse> {
        no()
    }
}

/// Starts the fake on a free port; its address.
pub async fn spawn() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(LifecycleServiceServer::new(Fake))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    addr
}
