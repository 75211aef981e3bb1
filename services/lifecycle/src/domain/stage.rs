//! Lifecycle stages, as stored (the proto enum's numbers) and as shown.

use growth_proto::lifecycle::v1::LifecycleStage as Pb;

/// A lifecycle stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    /// In a free trial that has not ended.
    Trial,
    /// Engaged, or paying and not at risk.
    Active,
    /// Engagement dropped below the at-risk threshold.
    AtRisk,
    /// Inactive past the churn window, or payments stopped.
    Churned,
    /// Came back after having churned.
    Reactivated,
    /// Signed up recently without a trial, not engaged yet.
    Onboarding,
}

impl Stage {
    /// Every stage, in proto order.
    pub const ALL: [Stage; 6] = [
        Stage::Trial,
        Stage::Active,
        Stage::AtRisk,
        Stage::Churned,
        Stage::Reactivated,
        Stage::Onboarding,
    ];

    /// The proto enum value (also the stored `smallint`).
    pub fn code(self) -> i16 {
        match self {
            Stage::Trial => 1,
            Stage::Active => 2,
            Stage::AtRisk => 3,
            Stage::Churned => 4,
            Stage::Reactivated => 5,
            Stage::Onboarding => 6,
        }
    }

    /// The stage with proto value `code`.
    pub fn from_code(code: i16) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Lower-case name, as in docs and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Trial => "trial",
            Stage::Active => "active",
            Stage::AtRisk => "at_risk",
            Stage::Churned => "churned",
            Stage::Reactivated => "reactivated",
            Stage::Onboarding => "onboarding",
        }
    }

    /// The wire value.
    pub fn to_proto(self) -> i32 {
        i32::from(self.code())
    }

    /// A stage filter from the wire: `Ok(None)` for UNSPECIFIED ("any"), an
    /// error naming the value for numbers the enum does not have.
    pub fn parse_filter(value: i32) -> Result<Option<Self>, String> {
        match Pb::try_from(value) {
            Ok(Pb::Unspecified) => Ok(None),
            Ok(_) => Ok(i16::try_from(value).ok().and_then(Self::from_code)),
            Err(_) => Err(format!("{value} is not a LifecycleStage")),
        }
    }

    /// A required stage from the wire.
    pub fn parse_required(value: i32) -> Result<Self, String> {
        Self::parse_filter(value)?
            .ok_or_else(|| "is required (LIFECYCLE_STAGE_UNSPECIFIED is not a stage)".to_owned())
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_proto_enum_both_ways() {
        for stage in Stage::ALL {
            assert_eq!(Stage::from_code(stage.code()), Some(stage));
            let pb = Pb::try_from(stage.to_proto()).unwrap();
            assert_eq!(
                pb.as_str_name(),
                format!("LIFECYCLE_STAGE_{}", stage.name().to_uppercase())
            );
        }
    }

    #[test]
    fn filters_accept_unspecified_and_reject_unknown_numbers() {
        assert_eq!(Stage::parse_filter(0), Ok(None));
        assert_eq!(Stage::parse_filter(3), Ok(Some(Stage::AtRisk)));
        assert!(Stage::parse_filter(42).unwrap_err().contains("42"));
        assert!(Stage::parse_required(0).is_err());
    }
}
