//! Batch-level validation: size limits, duplicate keys within a batch, and
//! collecting every row's violations under its index.

use std::collections::HashMap;

use growth_runtime::status::FieldViolation;

/// Most rows one ingest call accepts.
pub const MAX_BATCH_ROWS: usize = 10_000;

/// Parses every row of a batch named `name` (e.g. "events"), returning all
/// rows or every violation, each prefixed with `name[index]`. `key` gives the
/// row's unique key (and its field name) to reject duplicates within a batch.
pub fn parse_rows<P, T>(
    name: &str,
    rows: &[P],
    key: impl Fn(&P) -> (&'static str, &str),
    parse: impl Fn(&P) -> Result<T, Vec<FieldViolation>>,
) -> Result<Vec<T>, Vec<FieldViolation>> {
    if rows.is_empty() {
        return Err(vec![FieldViolation::new(
            name,
            "must contain at least one row",
        )]);
    }
    if rows.len() > MAX_BATCH_ROWS {
        return Err(vec![FieldViolation::new(
            name,
            format!(
                "must contain at most {MAX_BATCH_ROWS} rows, got {}",
                rows.len()
            ),
        )]);
    }
    let mut violations = Vec::new();
    let mut parsed = Vec::with_capacity(rows.len());
    let mut first_seen: HashMap<&str, usize> = HashMap::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        let prefix = format!("{name}[{index}]");
        let (key_field, key_value) = key(row);
        if !key_value.is_empty()
            && let Some(first) = first_seen.insert(key_value, index)
        {
            violations.push(
                FieldViolation::new(
                    key_field,
                    format!(
                        "duplicates {name}[{first}].{key_field} {key_value:?} in the same batch"
                    ),
                )
                .within(&prefix),
            );
        }
        match parse(row) {
            Ok(value) => parsed.push(value),
            Err(errors) => violations.extend(errors.into_iter().map(|v| v.within(&prefix))),
        }
    }
    if violations.is_empty() {
        Ok(parsed)
    } else {
        Err(violations)
    }
}

/// Collects the violations of one row's field checks into a `Result`.
#[derive(Default)]
pub struct RowErrors(Vec<FieldViolation>);

impl RowErrors {
    /// Keeps the value or records the violation.
    pub fn check<T>(&mut self, result: Result<T, FieldViolation>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(violation) => {
                self.0.push(violation);
                None
            }
        }
    }

    /// Records a violation directly.
    pub fn push(&mut self, violation: FieldViolation) {
        self.0.push(violation);
    }

    /// `Ok(value)` when nothing was recorded, else every violation.
    pub fn finish<T>(self, value: impl FnOnce() -> Option<T>) -> Result<T, Vec<FieldViolation>> {
        if self.0.is_empty() {
            value().ok_or(self.0)
        } else {
            Err(self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_positive(v: &(String, i32)) -> Result<i32, Vec<FieldViolation>> {
        if v.1 > 0 {
            Ok(v.1)
        } else {
            Err(vec![FieldViolation::new("n", "must be positive")])
        }
    }

    #[test]
    fn every_bad_row_is_named_by_index() {
        let rows = vec![("a".into(), 1), ("b".into(), -1), ("a".into(), 0)];
        let err = parse_rows("rows", &rows, |r| ("id", r.0.as_str()), parse_positive).unwrap_err();
        let listed: Vec<String> = err.iter().map(ToString::to_string).collect();
        assert_eq!(
            listed,
            [
                "rows[1].n: must be positive",
                "rows[2].id: duplicates rows[0].id \"a\" in the same batch",
                "rows[2].n: must be positive",
            ]
        );
    }

    #[test]
    fn empty_and_oversized_batches_are_rejected() {
        let none: Vec<(String, i32)> = vec![];
        let err = parse_rows("rows", &none, |r| ("id", r.0.as_str()), parse_positive).unwrap_err();
        assert_eq!(err[0].to_string(), "rows: must contain at least one row");
        let many: Vec<(String, i32)> = (0..=MAX_BATCH_ROWS).map(|i| (i.to_string(), 1)).collect();
        let err = parse_rows("rows", &many, |r| ("id", r.0.as_str()), parse_positive).unwrap_err();
        assert!(err[0].reason.contains("at most 10000"));
    }
}
