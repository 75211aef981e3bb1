//! Command-line values of the cohort enums, their short printed names (the
//! protobuf name without its type prefix), dates in and times out.

use chrono::NaiveDate;
use clap::ValueEnum;
use growth_proto::common::v1::Granularity;
pub use growth_proto::export::names::{granularity, mode};
use growth_proto::metrics::v1::{RetentionMetric, RetentionMode};

/// A cohort granularity on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PeriodArg {
    /// Calendar days (offsets 0-30).
    #[value(alias = "daily")]
    Day,
    /// ISO weeks, Monday to Sunday (offsets 0-12).
    #[value(alias = "weekly")]
    Week,
    /// Calendar months (offsets 0-12).
    #[value(alias = "monthly")]
    Month,
}

impl PeriodArg {
    /// The protobuf value.
    pub fn proto(self) -> i32 {
        (match self {
            PeriodArg::Day => Granularity::Day,
            PeriodArg::Week => Granularity::Week,
            PeriodArg::Month => Granularity::Month,
        }) as i32
    }

    /// `day`, `week` or `month`.
    pub fn name(self) -> &'static str {
        match self {
            PeriodArg::Day => "day",
            PeriodArg::Week => "week",
            PeriodArg::Month => "month",
        }
    }
}

/// What the cells count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MetricArg {
    /// Users of the cohort active in the period.
    Retention,
    /// Net revenue of the cohort's users in the period.
    Revenue,
}

impl MetricArg {
    /// The protobuf value.
    pub fn proto(self) -> i32 {
        (match self {
            MetricArg::Retention => RetentionMetric::Users,
            MetricArg::Revenue => RetentionMetric::Revenue,
        }) as i32
    }
}

/// When a user counts as retained in period N.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// Active in period N itself.
    On,
    /// Active in period N or any later period.
    #[value(alias = "on_or_after")]
    OnOrAfter,
}

impl ModeArg {
    /// The protobuf value.
    pub fn proto(self) -> i32 {
        (match self {
            ModeArg::On => RetentionMode::On,
            ModeArg::OnOrAfter => RetentionMode::OnOrAfter,
        }) as i32
    }
}

/// How a report command prints (`cohorts show`, `cohorts churn`, `revenue
/// summary`); each command's `--output` help says what its table and CSV
/// hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputArg {
    /// A table for people.
    Table,
    /// Comma-separated lines with a header, for spreadsheets and scripts.
    Csv,
    /// The response as one JSON document.
    Json,
}

/// Parses a `YYYY-MM-DD` date (clap names the flag in its error).
pub fn date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| format!("{text:?} is not a date (YYYY-MM-DD, e.g. 2025-03-01)"))
}

/// Checks a `YYYY-MM` month (clap names the flag in its error); whether it
/// is in the future is the server's to say, in its reporting time zone.
pub fn month(text: &str) -> Result<String, String> {
    let text = text.trim();
    NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d")
        .ok()
        .filter(|_| text.len() == 7)
        .map(|_| text.to_owned())
        .ok_or_else(|| format!("{text:?} is not a month (YYYY-MM, e.g. 2025-03)"))
}

/// `--output`, or what the global `--format` stands for (json and csv there
/// mean the same here, anything else a table).
pub fn output_for(output: Option<OutputArg>, format: crate::cli::Format) -> OutputArg {
    output.unwrap_or(match format {
        crate::cli::Format::Json => OutputArg::Json,
        crate::cli::Format::Csv => OutputArg::Csv,
        crate::cli::Format::Table | crate::cli::Format::Md => OutputArg::Table,
    })
}

/// A time for tables: `2025-11-24 08:15:02Z`, or `never` when unset.
pub fn time(ts: Option<&prost_types::Timestamp>) -> String {
    crate::output::time(ts).unwrap_or_else(|| "never".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_year_month_day() {
        assert_eq!(
            date("2025-03-01").map(|d| d.to_string()),
            Ok("2025-03-01".into())
        );
        assert!(date("2025-13-01").unwrap_err().contains("YYYY-MM-DD"));
        assert!(date("01.03.2025").is_err());
    }

    #[test]
    fn months_are_year_and_month() {
        assert_eq!(month("2025-03"), Ok("2025-03".into()));
        for bad in ["2025-13", "2025-3", "03/2025", "2025-03-01", ""] {
            assert!(month(bad).unwrap_err().contains("YYYY-MM"), "{bad}");
        }
    }

    #[test]
    fn periods_accept_the_adjectives() {
        for (text, period) in [
            ("daily", PeriodArg::Day),
            ("weekly", PeriodArg::Week),
            ("monthly", PeriodArg::Month),
            ("week", PeriodArg::Week),
        ] {
            assert_eq!(PeriodArg::from_str(text, false), Ok(period));
        }
        assert!(PeriodArg::from_str("yearly", false).is_err());
    }

    #[test]
    fn an_unset_time_reads_never() {
        assert_eq!(time(None), "never");
    }
}
