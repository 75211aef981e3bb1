//! How an audit run's outcome reads, one rule for growthctl and the
//! dashboard: a completed run shows its verdict (PASS, WARNING, FAIL); a run
//! that has none shows its status instead (FAILED, RUNNING), never the
//! verdict enum's UNSPECIFIED. Pure.

use crate::metrics::v1::{AuditRun, AuditRunStatus, AuditVerdict};

/// The run's verdict, or its status when it has no verdict: `PASS`,
/// `WARNING`, `FAIL`, `FAILED`, `RUNNING`, or `UNKNOWN` (a value this client
/// does not know).
pub fn verdict_label(run: &AuditRun) -> &'static str {
    match AuditRunStatus::try_from(run.status) {
        Ok(AuditRunStatus::Completed) => match AuditVerdict::try_from(run.verdict) {
            Ok(AuditVerdict::Pass) => "PASS",
            Ok(AuditVerdict::Warning) => "WARNING",
            Ok(AuditVerdict::Fail) => "FAIL",
            _ => "UNKNOWN",
        },
        Ok(AuditRunStatus::Failed) => "FAILED",
        Ok(AuditRunStatus::Running) => "RUNNING",
        _ => "UNKNOWN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(status: AuditRunStatus, verdict: AuditVerdict) -> AuditRun {
        AuditRun {
            status: status as i32,
            verdict: verdict as i32,
            ..Default::default()
        }
    }

    #[test]
    fn a_run_without_a_verdict_shows_its_status() {
        use AuditRunStatus as S;
        use AuditVerdict as V;
        assert_eq!(verdict_label(&run(S::Completed, V::Warning)), "WARNING");
        assert_eq!(verdict_label(&run(S::Failed, V::Unspecified)), "FAILED");
        assert_eq!(verdict_label(&run(S::Running, V::Unspecified)), "RUNNING");
        assert_eq!(verdict_label(&run(S::Unspecified, V::Pass)), "UNKNOWN");
    }
}
