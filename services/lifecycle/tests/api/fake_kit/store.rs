//! The fake's subscribers: upserted by email, with tags, sequences, forms and
//! custom fields, and their JSON.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::{State, Subscriber};

impl State {
    /// The subscriber's id, and whether it was created now.
    pub(super) fn upsert(&mut self, email: &str) -> (u64, bool) {
        if let Some(s) = self.subscribers.get(&email.to_lowercase()) {
            return (s.id, false);
        }
        let id = self.next_id;
        self.next_id += 1;
        let subscriber = Subscriber {
            id,
            email: email.to_owned(),
            ..Subscriber::default()
        };
        self.subscribers.insert(email.to_lowercase(), subscriber);
        (id, true)
    }

    /// Adds or removes `id` in the subscriber's `collection`; whether it changed.
    pub(super) fn apply(
        &mut self,
        email: &str,
        collection: &str,
        id: &str,
        add: bool,
        fields: Option<&Value>,
    ) -> bool {
        self.merge_fields(email, fields);
        let Some(s) = self.subscribers.get_mut(&email.to_lowercase()) else {
            return false;
        };
        let set = match collection {
            "tags" => &mut s.tags,
            "sequences" => &mut s.sequences,
            _ => &mut s.forms,
        };
        if add {
            set.insert(id.to_owned())
        } else {
            set.remove(id)
        }
    }

    pub(super) fn merge_fields(&mut self, email: &str, fields: Option<&Value>) {
        let (Some(s), Some(fields)) = (
            self.subscribers.get_mut(&email.to_lowercase()),
            fields.and_then(Value::as_object),
        ) else {
            return;
        };
        for (k, v) in fields {
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            s.fields.insert(k.clone(), v);
        }
    }

    pub(super) fn by_id(&self, id: &str) -> Option<&Subscriber> {
        self.subscribers.values().find(|s| s.id.to_string() == id)
    }
}

pub(super) fn is_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
}

pub(super) fn subscriber_json(s: &Subscriber) -> Value {
    json!({
        "id": s.id, "first_name": null, "email_address": s.email, "state": "active",
        "created_at": "2026-01-01T00:00:00Z", "fields": s.fields,
    })
}

pub(super) fn tags_json(tags: &BTreeSet<String>) -> Vec<Value> {
    tags.iter()
        .map(|t| {
            json!({"id": t.parse::<u64>().ok(), "name": format!("Tag {t}"),
                        "tagged_at": "2026-01-01T00:00:00Z"})
        })
        .collect()
}

pub(super) fn page_info(start: usize, end: usize, has_next: bool, per_page: usize) -> Value {
    json!({
        "has_previous_page": start > 0, "has_next_page": has_next,
        "start_cursor": start.to_string(), "end_cursor": end.to_string(), "per_page": per_page,
    })
}
