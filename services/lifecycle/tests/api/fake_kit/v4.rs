//! The fake's v4 API: the key in `X-Kit-Api-Key`, subscribers upserted
//! before an action, cursor-paginated tag lists.

use serde_json::{Value, json};

use super::{Recorded, Reply, State, is_id, page_info, subscriber_json, tags_json};

impl State {
    pub(super) fn v4(&mut self, req: &Recorded, seg: &[&str]) -> Reply {
        if req.header("x-kit-api-key") != Some(self.key.as_str()) {
            return self.error(401, "The access token is invalid");
        }
        let email = req
            .body
            .as_ref()
            .and_then(|b| b["email_address"].as_str())
            .filter(|e| e.contains('@'))
            .map(str::to_owned);
        match (req.method.as_str(), seg) {
            ("POST", ["v4", "subscribers"]) => {
                let Some(email) = email else {
                    return self.error(422, "Email address is invalid");
                };
                let (_, created) = self.upsert(&email);
                self.merge_fields(&email, req.body.as_ref().and_then(|b| b.get("fields")));
                let body = self
                    .subscribers
                    .get(&email.to_lowercase())
                    .map(subscriber_json);
                Reply::json(if created { 201 } else { 200 }, json!({"subscriber": body}))
            }
            ("GET", ["v4", "subscribers"]) => {
                let wanted: Option<Vec<String>> = req
                    .query
                    .get("email_address")
                    .map(|list| list.split(',').map(|e| e.trim().to_lowercase()).collect());
                let found: Vec<Value> = self
                    .subscribers
                    .values()
                    .filter(|s| {
                        wanted
                            .as_ref()
                            .is_none_or(|w| w.contains(&s.email.to_lowercase()))
                    })
                    .map(subscriber_json)
                    .collect();
                Reply::json(
                    200,
                    json!({"subscribers": found, "pagination": page_info(0, 0, false, 500)}),
                )
            }
            ("GET", ["v4", "subscribers", id, "tags"]) => {
                let Some(tags) = self.by_id(id).map(|s| tags_json(&s.tags)) else {
                    return self.error(404, "Not Found");
                };
                let per_page = req
                    .query
                    .get("per_page")
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(500usize);
                let per_page = per_page.clamp(1, 1000).min(self.max_per_page);
                let start = req
                    .query
                    .get("after")
                    .and_then(|a| a.parse().ok())
                    .unwrap_or(0usize);
                let end = (start + per_page).min(tags.len());
                let page = tags.get(start.min(end)..end).unwrap_or_default().to_vec();
                let info = page_info(start, end, end < tags.len(), per_page);
                Reply::json(200, json!({"tags": page, "pagination": info}))
            }
            (
                method @ ("POST" | "DELETE"),
                [
                    "v4",
                    collection @ ("tags" | "sequences" | "forms"),
                    id,
                    "subscribers",
                ],
            ) => {
                if !is_id(id) || (method == "DELETE" && *collection != "tags") {
                    return self.error(404, "Not Found");
                }
                let Some(email) = email else {
                    return self.error(422, "Either subscriber id or email address is required");
                };
                if !self.subscribers.contains_key(&email.to_lowercase()) {
                    return self.error(404, "Not Found");
                }
                if method == "DELETE" {
                    self.apply(&email, collection, id, false, None);
                    return Reply::empty(204);
                }
                let added = self.apply(&email, collection, id, true, None);
                let body = self
                    .subscribers
                    .get(&email.to_lowercase())
                    .map(subscriber_json);
                Reply::json(if added { 201 } else { 200 }, json!({"subscriber": body}))
            }
            _ => self.error(404, "Not Found"),
        }
    }
}
