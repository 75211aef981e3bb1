//! The fake's v3 API: the key or secret in the body or the query.

use serde_json::{Map, Value, json};

use super::{Recorded, Reply, State, is_id, subscriber_json, tags_json};

impl State {
    pub(super) fn v3(&mut self, req: &Recorded, seg: &[&str]) -> Reply {
        let params: Map<String, Value> = if req.is_mutation() {
            req.body
                .as_ref()
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        } else {
            req.query
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect()
        };
        let given = |k: &str| params.get(k).and_then(Value::as_str);
        let secret_ok = self.secret.is_some() && given("api_secret") == self.secret.as_deref();
        let key_ok = secret_ok || given("api_key") == Some(self.key.as_str());
        let email = given("email")
            .filter(|e| e.contains('@'))
            .map(str::to_owned);
        match (req.method.as_str(), seg) {
            (
                "POST",
                [
                    "v3",
                    collection @ ("tags" | "sequences" | "forms"),
                    id,
                    "subscribe",
                ],
            ) => {
                if !key_ok {
                    return self.error(401, "API Key not valid");
                }
                let Some(email) = email else {
                    return self.error(422, "Email address can't be blank");
                };
                if !is_id(id) {
                    return self.error(404, "Not Found");
                }
                let (subscriber_id, _) = self.upsert(&email);
                self.apply(&email, collection, id, true, params.get("fields"));
                Reply::json(
                    200,
                    json!({"subscription": {
                        "id": self.requests.len() + 1, "state": "active",
                        "subscribable_id": id.parse::<u64>().ok(),
                        "subscriber": {"id": subscriber_id},
                    }}),
                )
            }
            ("POST", ["v3", "tags", id, "unsubscribe"]) => {
                if !secret_ok {
                    return self.error(401, "API Secret not valid");
                }
                let Some(email) = email else {
                    return self.error(422, "Email address can't be blank");
                };
                if !is_id(id) || !self.subscribers.contains_key(&email.to_lowercase()) {
                    return self.error(404, "Not Found");
                }
                self.apply(&email, "tags", id, false, None);
                Reply::json(
                    200,
                    json!({"id": id.parse::<u64>().ok(), "name": format!("Tag {id}")}),
                )
            }
            ("GET", ["v3", "subscribers"]) => {
                if !secret_ok {
                    return self.error(401, "API Secret not valid");
                }
                let wanted = given("email_address").map(str::to_lowercase);
                let found: Vec<Value> = self
                    .subscribers
                    .values()
                    .filter(|s| wanted.as_ref().is_none_or(|w| *w == s.email.to_lowercase()))
                    .map(subscriber_json)
                    .collect();
                Reply::json(
                    200,
                    json!({
                        "total_subscribers": found.len(), "page": 1, "total_pages": 1,
                        "subscribers": found,
                    }),
                )
            }
            ("GET", ["v3", "subscribers", id, "tags"]) => {
                if !key_ok {
                    return self.error(401, "API Key not valid");
                }
                match self.by_id(id) {
                    Some(s) => Reply::json(200, json!({"tags": tags_json(&s.tags)})),
                    None => self.error(404, "Not Found"),
                }
            }
            ("PUT", ["v3", "subscribers", id]) => {
                if !secret_ok {
                    return self.error(401, "API Secret not valid");
                }
                let Some(email) = self.by_id(id).map(|s| s.email.clone()) else {
                    return self.error(404, "Not Found");
                };
                self.merge_fields(&email, params.get("fields"));
                let body = self
                    .subscribers
                    .get(&email.to_lowercase())
                    .map(subscriber_json);
                Reply::json(200, json!({"subscriber": body}))
            }
            _ => self.error(404, "Not Found"),
        }
    }
}
