//! A user to insert or update.

use chrono::{DateTime, Utc};
use growth_proto::metrics::v1 as pb;
use growth_runtime::status::FieldViolation;

use super::batch::{RowErrors, parse_rows};
use super::fields;

/// Most users one lookup (`GetUserActivity`) names.
pub const MAX_LOOKUP: usize = 1000;

/// A validated user row.
#[derive(Debug, Clone, PartialEq)]
pub struct NewUser {
    /// Client-supplied id.
    pub user_id: String,
    /// E-mail address.
    pub email: String,
    /// Signup instant.
    pub signup_at: DateTime<Utc>,
    /// Plan name.
    pub plan: String,
    /// End of trial, if any.
    pub trial_ends_at: Option<DateTime<Utc>>,
    /// Attributes as canonical JSON object text.
    pub attributes: String,
}

impl NewUser {
    /// Validates one user.
    pub fn parse(user: &pb::User, now: DateTime<Utc>) -> Result<Self, Vec<FieldViolation>> {
        let mut errors = RowErrors::default();
        let user_id = errors.check(fields::id("user_id", &user.user_id));
        let email = errors.check(fields::email("email", &user.email));
        let signup_at = errors.check(fields::timestamp("signup_at", user.signup_at.as_ref(), now));
        let plan = errors.check(fields::text("plan", &user.plan, 64));
        let trial_ends_at = errors.check(fields::optional_timestamp_any(
            "trial_ends_at",
            user.trial_ends_at.as_ref(),
        ));
        let attributes = errors.check(fields::json_object(
            "attributes_json",
            &user.attributes_json,
        ));
        errors.finish(|| {
            Some(Self {
                user_id: user_id?,
                email: email?,
                signup_at: signup_at?,
                plan: plan?,
                trial_ends_at: trial_ends_at?,
                attributes: attributes?,
            })
        })
    }

    /// Validates the user ids of a lookup (at most `MAX_LOOKUP` of them),
    /// returning them deduplicated in order.
    pub fn parse_ids(field: &str, ids: &[String]) -> Result<Vec<String>, Vec<FieldViolation>> {
        if ids.len() > MAX_LOOKUP {
            return Err(vec![FieldViolation::new(
                field,
                format!("must name at most {MAX_LOOKUP} users, got {}", ids.len()),
            )]);
        }
        let mut errors = RowErrors::default();
        let mut seen = std::collections::HashSet::with_capacity(ids.len());
        let mut out = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            if let Some(id) = errors.check(fields::id(&format!("{field}[{i}]"), id))
                && seen.insert(id.clone())
            {
                out.push(id);
            }
        }
        errors.finish(|| Some(out))
    }

    /// Validates a whole `UpsertUsers` batch.
    pub fn parse_batch(
        users: &[pb::User],
        now: DateTime<Utc>,
    ) -> Result<Vec<Self>, Vec<FieldViolation>> {
        parse_rows(
            "users",
            users,
            |u| ("user_id", u.user_id.as_str()),
            |u| Self::parse(u, now),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn user() -> pb::User {
        pb::User {
            user_id: "u1".into(),
            email: "a@example.com".into(),
            signup_at: Some(prost_types::Timestamp {
                seconds: 1_735_689_600,
                nanos: 0,
            }),
            plan: "trial".into(),
            trial_ends_at: None,
            attributes_json: r#"{"country":"DE"}"#.into(),
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("valid")
    }

    #[test]
    fn a_valid_user_parses() {
        let parsed = NewUser::parse(&user(), now()).expect("valid");
        assert_eq!(parsed.attributes, r#"{"country":"DE"}"#);
    }

    #[test]
    fn every_invalid_field_is_reported() {
        let bad = pb::User {
            email: "nope".into(),
            plan: " ".into(),
            signup_at: None,
            ..user()
        };
        let fields: Vec<String> = NewUser::parse(&bad, now())
            .unwrap_err()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, ["email", "signup_at", "plan"]);
    }
}
