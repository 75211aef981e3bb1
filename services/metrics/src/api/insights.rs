//! `GenerateGrowthInsights` and `GetGrowthReport`: planned work, answered
//! with `UNIMPLEMENTED` until then.

use growth_proto::metrics::v1 as pb;

use crate::error::MetricsError;

/// `GenerateGrowthInsights`.
pub fn generate(
    _: pb::GenerateGrowthInsightsRequest,
) -> Result<pb::GenerateGrowthInsightsResponse, MetricsError> {
    Err(MetricsError::Unimplemented(
        "GenerateGrowthInsights is not implemented yet: weekly growth insights are planned work",
    ))
}

/// `GetGrowthReport`.
pub fn report(_: pb::GetGrowthReportRequest) -> Result<pb::GetGrowthReportResponse, MetricsError> {
    Err(MetricsError::Unimplemented(
        "GetGrowthReport is not implemented yet: weekly growth insights are planned work",
    ))
}
