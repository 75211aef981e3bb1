//! After an attempt whose outcome is unknown: is the action's effect present
//! at Kit? Tags can be checked (subscriber lookup, then their tags);
//! sequences and forms cannot.

use std::collections::BTreeSet;

use serde_json::Value;

use super::client::{Call, KitClient};
use super::config::KitApi;
use super::failure::KitFailure;
use super::request::{KitActionKind, KitRequest};

/// Pages of a subscriber's tags read at most (v4 pages hold 1,000).
const MAX_TAG_PAGES: usize = 50;

impl KitClient {
    /// `Ok(Some(true))`: the effect of `req` is present (the tag is on for
    /// [`KitActionKind::AddTag`], off for [`KitActionKind::RemoveTag`]);
    /// `Ok(Some(false))`: absent; `Ok(None)`: Kit offers no way to tell
    /// (sequences, forms). An `Err` means the check itself failed; its kind
    /// says whether checking again makes sense. v3 needs the api secret.
    #[tracing::instrument(skip_all, fields(kit.api = ?self.api(), kit.action = req.kind.as_str(), kit.target = %req.target_id))]
    pub async fn verify(&self, req: &KitRequest) -> Result<Option<bool>, KitFailure> {
        req.validate()?;
        let wants_tag = match req.kind {
            KitActionKind::AddTag => true,
            KitActionKind::RemoveTag => false,
            KitActionKind::SubscribeSequence | KitActionKind::SubscribeForm => return Ok(None),
        };
        let tags = match self.api() {
            KitApi::V3 => self.v3_tags_of(&req.email).await?,
            KitApi::V4 => self.v4_tags_of(&req.email).await?,
        };
        // No subscriber: no tag.
        let has_tag = tags.is_some_and(|tags| tags.contains(&req.target_id));
        Ok(Some(has_tag == wants_tag))
    }

    /// v3: the id of the subscriber with `email`, if any.
    pub(super) async fn v3_subscriber_id(&self, email: &str) -> Result<Option<String>, KitFailure> {
        let secret = self.v3_secret("look up subscriber")?.to_owned();
        let query = vec![("api_secret", secret), ("email_address", email.to_owned())];
        let call = Call::get("look up subscriber", "/v3/subscribers".into(), query);
        let page = self.read_json(call).await?;
        Ok(find_subscriber(&page, email))
    }

    async fn v3_tags_of(&self, email: &str) -> Result<Option<BTreeSet<String>>, KitFailure> {
        let Some(id) = self.v3_subscriber_id(email).await? else {
            return Ok(None);
        };
        let query = vec![("api_key", self.v3_key().to_owned())];
        let call = Call::get("list tags", format!("/v3/subscribers/{id}/tags"), query);
        let page = self.read_json(call).await?;
        Ok(Some(tag_ids(&page)))
    }

    async fn v4_tags_of(&self, email: &str) -> Result<Option<BTreeSet<String>>, KitFailure> {
        // `status=all`: an unsubscribed subscriber keeps their tags.
        let query = vec![
            ("email_address", email.to_owned()),
            ("status", "all".to_owned()),
        ];
        let call = Call::get("look up subscriber", "/v4/subscribers".into(), query);
        let page = self.read_json(call).await?;
        let Some(id) = find_subscriber(&page, email) else {
            return Ok(None);
        };
        let mut tags = BTreeSet::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_TAG_PAGES {
            let mut query = vec![("per_page", "1000".to_owned())];
            if let Some(cursor) = after.take() {
                query.push(("after", cursor));
            }
            let call = Call::get("list tags", format!("/v4/subscribers/{id}/tags"), query);
            let page = self.read_json(call).await?;
            tags.extend(tag_ids(&page));
            let pagination = &page["pagination"];
            match pagination["end_cursor"].as_str() {
                Some(cursor) if pagination["has_next_page"].as_bool() == Some(true) => {
                    after = Some(cursor.to_owned());
                }
                _ => return Ok(Some(tags)),
            }
        }
        Err(KitFailure::rejected(format!(
            "list tags: the subscriber has more than {MAX_TAG_PAGES} pages of tags"
        )))
    }

    async fn read_json(&self, call: Call) -> Result<Value, KitFailure> {
        let what = format!("{} ({} {})", call.what, call.method, call.path);
        let body = self.exchange(call).await?;
        serde_json::from_str(&body).map_err(|e| {
            KitFailure::retryable(
                None,
                format!("{what}: kit answered with unreadable json: {e}"),
            )
        })
    }
}

/// The id of the listed subscriber whose address is `email` (compared
/// case-insensitively, and never trusting the filter blindly).
fn find_subscriber(page: &Value, email: &str) -> Option<String> {
    page["subscribers"]
        .as_array()?
        .iter()
        .find(|s| {
            s["email_address"]
                .as_str()
                .is_some_and(|e| e.eq_ignore_ascii_case(email))
        })
        .and_then(|s| id_text(&s["id"]))
}

/// The ids of `{"tags": [{"id": …}, …]}`.
fn tag_ids(page: &Value) -> BTreeSet<String> {
    page["tags"]
        .as_array()
        .map(|tags| tags.iter().filter_map(|t| id_text(&t["id"])).collect())
        .unwrap_or_default()
}

/// An id as Kit sends it (a number, sometimes a string) in decimal text;
/// anything else is ignored (ids go into URL paths).
fn id_text(id: &Value) -> Option<String> {
    match id {
        Value::Number(n) => n.as_u64().map(|n| n.to_string()),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            Some(s.clone())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_subscriber_is_matched_by_address_not_by_position() {
        let page = json!({"subscribers": [
            {"id": 1, "email_address": "other@example.com"},
            {"id": 2, "email_address": "Ada@Example.com"},
        ]});
        assert_eq!(find_subscriber(&page, "ada@example.com"), Some("2".into()));
        assert_eq!(find_subscriber(&page, "bob@example.com"), None);
        assert_eq!(
            find_subscriber(&json!({"total_subscribers": 0}), "a@b.c"),
            None
        );
    }

    #[test]
    fn tag_ids_read_numbers_and_strings() {
        let page = json!({"tags": [
            {"id": 7, "name": "a"}, {"id": "8"}, {"name": "no id"}, {"id": "9/../x"}, {"id": -1},
        ]});
        let ids: Vec<String> = tag_ids(&page).into_iter().collect();
        assert_eq!(ids, ["7", "8"]);
    }
}
