//! The lifecycle service, as metrics calls it: the stage distribution the
//! weekly report shows. The channel connects lazily (metrics starts and
//! serves while lifecycle is down) and each call has a deadline; a failure
//! is a sentence for the report, never an error of the report.

use std::time::Duration;

use chrono::{DateTime, Utc};
use growth_proto::client::Bearer;
use growth_proto::lifecycle::v1::GetStageDistributionRequest;
use growth_proto::lifecycle::v1::lifecycle_service_client::LifecycleServiceClient;
use growth_proto::status::code_name;
use growth_proto::timestamp::from_utc;
use secrecy::SecretString;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

/// How long the report waits for lifecycle.
pub const DEADLINE: Duration = Duration::from_secs(5);

/// A lifecycle client and the address it calls (for messages).
#[derive(Clone)]
pub struct Lifecycle {
    client: LifecycleServiceClient<InterceptedService<Channel, Bearer>>,
    addr: String,
}

impl Lifecycle {
    /// A client for lifecycle at `addr` (connecting lazily).
    pub fn new(addr: &str, token: Option<&SecretString>) -> anyhow::Result<Self> {
        let channel = growth_proto::client::endpoint(addr)?
            .timeout(DEADLINE)
            .connect_lazy();
        Ok(Self {
            client: LifecycleServiceClient::with_interceptor(channel, Bearer::new(token)?),
            addr: addr.to_owned(),
        })
    }

    /// Users per stage as of `as_of` (stage names in lower case, as
    /// lifecycle lists them), or why they could not be had.
    pub async fn stages(&self, as_of: DateTime<Utc>) -> Result<Vec<(String, i64)>, String> {
        self.stages_within(as_of, DEADLINE).await
    }

    /// [`Self::stages`], waiting at most `deadline` (at most [`DEADLINE`]):
    /// a page waits less than a weekly job.
    pub async fn stages_within(
        &self,
        as_of: DateTime<Utc>,
        deadline: Duration,
    ) -> Result<Vec<(String, i64)>, String> {
        let deadline = deadline.min(DEADLINE);
        let mut client = self.client.clone();
        let call = client.get_stage_distribution(GetStageDistributionRequest {
            as_of: Some(from_utc(as_of)),
        });
        let response = match tokio::time::timeout(deadline, call).await {
            Err(_) => {
                return Err(format!(
                    "the lifecycle service at {} did not answer within {} ms",
                    self.addr,
                    deadline.as_millis()
                ));
            }
            Ok(Err(status)) => {
                return Err(format!(
                    "the lifecycle service at {} answered {}: {}",
                    self.addr,
                    code_name(status.code()),
                    status.message()
                ));
            }
            Ok(Ok(response)) => response.into_inner(),
        };
        Ok(response
            .stages
            .iter()
            .map(|s| {
                let name = growth_proto::lifecycle::v1::LifecycleStage::try_from(s.stage)
                    .map(|stage| {
                        stage
                            .as_str_name()
                            .trim_start_matches("LIFECYCLE_STAGE_")
                            .to_ascii_lowercase()
                    })
                    .unwrap_or_else(|_| format!("stage {}", s.stage));
                (name, s.users)
            })
            .collect())
    }
}
