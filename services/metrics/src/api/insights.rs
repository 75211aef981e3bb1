//! The weekly growth insights' RPCs (`GenerateGrowthInsights`,
//! `GetGrowthReport`, `ListGrowthReports`, `GetCohortValue`): their contract is in `insights.proto`; the work is in
//! progress (issue "Weekly growth insights"), and they answer
//! `UNIMPLEMENTED` until it lands.

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

/// `ListGrowthReports`.
pub fn list(
    _: pb::ListGrowthReportsRequest,
) -> Result<pb::ListGrowthReportsResponse, MetricsError> {
    Err(MetricsError::Unimplemented(
        "ListGrowthReports is not implemented yet: weekly growth insights are planned work",
    ))
}

/// `GetCohortValue`.
pub fn cohort_value(
    _: pb::GetCohortValueRequest,
) -> Result<pb::GetCohortValueResponse, MetricsError> {
    Err(MetricsError::Unimplemented(
        "GetCohortValue is not implemented yet: cohort value (LTV) is planned work",
    ))
}
