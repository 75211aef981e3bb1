//! One action for Kit: what to do, to which tag/sequence/form, for which email.

use std::collections::BTreeMap;

use super::failure::KitFailure;

/// What a [`KitRequest`] does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KitActionKind {
    /// Put a tag on the subscriber (Kit keeps one tagging per tag).
    AddTag,
    /// Take a tag off the subscriber.
    RemoveTag,
    /// Add the subscriber to an email sequence.
    SubscribeSequence,
    /// Add the subscriber to a form (a double opt-in form sends its
    /// confirmation email).
    SubscribeForm,
}

impl KitActionKind {
    /// A short name for logs and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AddTag => "add tag",
            Self::RemoveTag => "remove tag",
            Self::SubscribeSequence => "subscribe to sequence",
            Self::SubscribeForm => "subscribe to form",
        }
    }

    /// Whether [`super::KitClient::verify`] can tell if the effect is present.
    pub fn is_verifiable(self) -> bool {
        matches!(self, Self::AddTag | Self::RemoveTag)
    }
}

/// One action, as the outbox stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KitRequest {
    /// The action.
    pub kind: KitActionKind,
    /// Kit's id of the tag, sequence or form (digits).
    pub target_id: String,
    /// The subscriber's email address.
    pub email: String,
    /// Custom fields to set, by Kit field key (e.g. `last_name`); Kit ignores
    /// keys the account does not define.
    pub fields: BTreeMap<String, String>,
    /// Stable across every attempt of this action; sent as `Idempotency-Key`.
    pub idempotency_key: String,
}

impl KitRequest {
    /// An action without custom fields.
    pub fn new(
        kind: KitActionKind,
        target_id: impl Into<String>,
        email: impl Into<String>,
        idempotency_key: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            target_id: target_id.into(),
            email: email.into(),
            fields: BTreeMap::new(),
            idempotency_key: idempotency_key.into(),
        }
    }

    /// The same action, also setting custom field `key` to `value`.
    pub fn with_field(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.fields.insert(key.into(), value.into());
        self
    }

    /// Checks what Kit and HTTP need before anything is sent; a bad request
    /// is [`super::FailureKind::Rejected`] (retrying cannot fix it).
    pub(super) fn validate(&self) -> Result<(), KitFailure> {
        let what = self.kind.as_str();
        let id_ok = (1..=20).contains(&self.target_id.len())
            && self.target_id.bytes().all(|b| b.is_ascii_digit());
        if !id_ok {
            return Err(KitFailure::rejected(format!(
                "{what}: target id {:?} is not a Kit id (1 to 20 digits)",
                self.target_id
            )));
        }
        let email = self.email.as_str();
        let email_ok = email.len() <= 254
            && email
                .split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty())
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if !email_ok {
            return Err(KitFailure::rejected(format!(
                "{what}: {email:?} is not an email address"
            )));
        }
        let key = self.idempotency_key.as_str();
        if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(KitFailure::rejected(format!(
                "{what}: the idempotency key must be 1 to 200 visible ASCII characters"
            )));
        }
        if self.fields.keys().any(|k| k.trim().is_empty()) {
            return Err(KitFailure::rejected(format!(
                "{what}: a custom field key is empty"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::FailureKind;

    fn tag(target: &str, email: &str, key: &str) -> KitRequest {
        KitRequest::new(KitActionKind::AddTag, target, email, key)
    }

    #[test]
    fn a_well_formed_request_passes() {
        let req = tag("123", "ada@example.com", "outbox-1:tag").with_field("plan", "pro");
        assert_eq!(req.validate(), Ok(()));
    }

    #[test]
    fn bad_ids_emails_and_keys_are_rejected_before_sending() {
        let bad = [
            tag("", "ada@example.com", "k"),
            tag("12/../7", "ada@example.com", "k"),
            tag("123", "not-an-email", "k"),
            tag("123", "ada @example.com", "k"),
            tag("123", "ada@example.com", ""),
            tag("123", "ada@example.com", "with space"),
            tag("123", "ada@example.com", "k").with_field(" ", "x"),
        ];
        for req in bad {
            let failure = req.validate().expect_err("should be rejected");
            assert_eq!(failure.kind, FailureKind::Rejected, "{req:?}");
        }
    }

    #[test]
    fn only_tags_can_be_verified() {
        assert!(KitActionKind::AddTag.is_verifiable());
        assert!(KitActionKind::RemoveTag.is_verifiable());
        assert!(!KitActionKind::SubscribeSequence.is_verifiable());
        assert!(!KitActionKind::SubscribeForm.is_verifiable());
    }
}
