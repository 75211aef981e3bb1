//! The numbers of one matrix on the page: per row and offset, the value
//! (retained users, or net revenue in one currency) and whether its period
//! has finished; the mean per offset over finished cells, weighted by
//! cohort size.

use growth_proto::export::matrix as export;
use growth_proto::metrics::v1 as pb;

/// What a matrix's values count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Retained users.
    Users,
    /// Net revenue in this currency (minor units).
    Revenue(String),
}

/// One cell's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Value {
    /// Retained users or minor units.
    pub amount: i64,
    /// The period has not finished: the value is partial.
    pub incomplete: bool,
}

/// One row: a cohort (and segment), its size and a value per offset
/// (`None`: the period has not begun).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The cohort's first day.
    pub cohort: String,
    /// The breakdown's segment; empty without one.
    pub segment: String,
    /// Users in the cohort (segment).
    pub size: i64,
    /// Index = offset.
    pub values: Vec<Option<Value>>,
}

impl Row {
    /// `2025-03-03` or `2025-03-03 · pro`.
    pub fn label(&self) -> String {
        if self.segment.is_empty() {
            self.cohort.clone()
        } else {
            format!("{} · {}", self.cohort, self.segment)
        }
    }

    /// Value per member at `offset`, for a finished period.
    pub fn per_member(&self, offset: usize) -> Option<f64> {
        match self.values.get(offset).copied().flatten() {
            Some(v) if !v.incomplete && self.size > 0 => Some(v.amount as f64 / self.size as f64),
            _ => None,
        }
    }
}

/// One matrix of the page.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    /// What it counts.
    pub kind: Kind,
    /// `D`, `W` or `M`.
    pub prefix: &'static str,
    /// Offsets 0..=max.
    pub offsets: usize,
    /// Its rows, in the answer's order.
    pub rows: Vec<Row>,
}

/// `D`, `W` or `M` for the answer's granularity.
fn prefix(r: &pb::GetRetentionMatrixResponse) -> &'static str {
    match growth_proto::export::names::granularity(r.granularity).as_str() {
        "DAY" => "D",
        "MONTH" => "M",
        _ => "W",
    }
}

/// The matrices of an answer: the users matrix, or one revenue matrix per
/// currency (rows with revenue in it only, as growthctl prints them).
pub fn matrices(r: &pb::GetRetentionMatrixResponse) -> Vec<Matrix> {
    let offsets = export::max_offset(r) as usize + 1;
    let build = |kind: Kind| {
        let rows = r
            .rows
            .iter()
            .filter(|row| match &kind {
                Kind::Users => true,
                Kind::Revenue(c) => export::has_currency(row, c),
            })
            .map(|row| {
                let mut values = vec![None; offsets];
                for c in &row.cells {
                    let amount = match &kind {
                        Kind::Users => c.retained_users,
                        Kind::Revenue(currency) => export::revenue_of(c, currency),
                    };
                    if let Some(slot) = usize::try_from(c.offset)
                        .ok()
                        .and_then(|o| values.get_mut(o))
                    {
                        *slot = Some(Value {
                            amount,
                            incomplete: c.incomplete,
                        });
                    }
                }
                Row {
                    cohort: row.cohort.clone(),
                    segment: row.segment.clone(),
                    size: row.cohort_size,
                    values,
                }
            })
            .collect();
        Matrix {
            kind,
            prefix: prefix(r),
            offsets,
            rows,
        }
    };
    if export::is_revenue(r) {
        export::currencies(r)
            .into_iter()
            .map(|c| build(Kind::Revenue(c)))
            .collect()
    } else {
        vec![build(Kind::Users)]
    }
}

impl Matrix {
    /// Per offset, Σ value / Σ size over the rows whose period has
    /// finished (a rate for users, revenue per member for money); `None`
    /// where no row has finished it.
    pub fn mean(&self) -> Vec<Option<f64>> {
        (0..self.offsets)
            .map(|o| {
                let (sum, size) = self
                    .rows
                    .iter()
                    .filter_map(|row| match row.values.get(o).copied().flatten() {
                        Some(v) if !v.incomplete => Some((v.amount, row.size)),
                        _ => None,
                    })
                    .fold((0i64, 0i64), |(a, s), (v, n)| (a + v, s + n));
                (size > 0).then(|| sum as f64 / size as f64)
            })
            .collect()
    }

    /// The currency of a revenue matrix.
    pub fn currency(&self) -> Option<&str> {
        match &self.kind {
            Kind::Users => None,
            Kind::Revenue(c) => Some(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use growth_proto::common::v1::Money;

    fn cell(offset: i32, retained: i64, incomplete: bool) -> pb::RetentionCell {
        pb::RetentionCell {
            offset,
            retained_users: retained,
            incomplete,
            ..Default::default()
        }
    }

    fn answer() -> pb::GetRetentionMatrixResponse {
        pb::GetRetentionMatrixResponse {
            max_offset: 2,
            rows: vec![
                pb::CohortRow {
                    cohort: "a".into(),
                    cohort_size: 10,
                    cells: vec![cell(0, 10, false), cell(1, 5, false), cell(2, 1, true)],
                    ..Default::default()
                },
                pb::CohortRow {
                    cohort: "b".into(),
                    cohort_size: 30,
                    cells: vec![cell(0, 30, false), cell(1, 3, true)],
                    ..Default::default()
                },
            ],
            ..Default::default()
        }
    }

    #[test]
    fn the_mean_is_weighted_by_size_and_leaves_out_unfinished_periods() {
        let m = &matrices(&answer())[0];
        assert_eq!(m.offsets, 3);
        assert_eq!(m.rows[1].values[2], None, "not begun");
        // offset 1: only a has finished it (5 of 10); b's 3 of 30 is partial.
        assert_eq!(m.mean(), [Some(1.0), Some(0.5), None]);
        assert_eq!(m.rows[0].per_member(1), Some(0.5));
        assert_eq!(m.rows[0].per_member(2), None);
    }

    #[test]
    fn revenue_gives_a_matrix_per_currency() {
        let mut r = answer();
        r.metric = pb::RetentionMetric::Revenue as i32;
        r.rows[0].cells[0].revenue = vec![Money {
            amount_minor: 900,
            currency: "eur".into(),
        }];
        r.rows[1].cells[0].revenue = vec![Money {
            amount_minor: 3000,
            currency: "usd".into(),
        }];
        let m = matrices(&r);
        assert_eq!(m.len(), 2);
        assert_eq!((m[0].currency(), m[0].rows.len()), (Some("eur"), 1));
        assert_eq!(m[1].mean()[0], Some(100.0), "3000 cents over 30 members");
    }
}
