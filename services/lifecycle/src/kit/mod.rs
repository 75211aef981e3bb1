//! The Kit (formerly ConvertKit) client of the email outbox: one attempt per
//! call, under a client-side rate limit, with every failure classified so the
//! outbox knows whether the action may have taken effect ([`FailureKind`]).
//!
//! # The two APIs
//!
//! - **v3** (`https://api.convertkit.com`, deprecated by Kit but still served):
//!   the key travels as `api_key` (or `api_secret`) in the JSON body or the
//!   query. Add a tag, a sequence or a form: `POST /v3/{tags|sequences|forms}
//!   /{id}/subscribe {api_key, email, fields}` (custom fields in the same
//!   body). Remove a tag: `POST /v3/tags/{id}/unsubscribe {api_secret, email}`.
//!   Lookups: `GET /v3/subscribers?api_secret&email_address`, then
//!   `GET /v3/subscribers/{id}/tags?api_key`.
//! - **v4** (`https://api.kit.com`): the key in the `X-Kit-Api-Key` header.
//!   `POST|DELETE /v4/tags/{id}/subscribers`, `POST /v4/sequences/{id}/
//!   subscribers`, `POST /v4/forms/{id}/subscribers`, each `{email_address}`.
//!   Kit's reference says of each "by email address" action that "the
//!   subscriber ... must already exist", so every v4 action but a plain
//!   remove-tag is preceded by `POST /v4/subscribers {email_address, fields}`,
//!   which Kit documents as an upsert (it also carries the custom fields).
//!   Lookups: `GET /v4/subscribers?email_address&status=all`, then
//!   `GET /v4/subscribers/{id}/tags` (cursor-paginated).
//!
//! # What Kit dedupes
//!
//! From the v4 reference (developers.kit.com/api-reference/…):
//! - `tags/tag-a-subscriber-by-email-address`: "Returns a 200 when the
//!   subscriber already has the tag" (201 when it tags): a tag is a set member.
//! - `sequences/add-subscriber-to-sequence-by-email-address`: "Returns a 200
//!   when the subscriber has already been added to the sequence".
//! - `forms/add-subscriber-to-form-by-email-address`: "Returns a 200 when the
//!   subscriber has already been added to the form"; and `forms/bulk-add-
//!   subscribers-to-forms`: "Subscribers already added to the specified form
//!   will not receive the Incentive Email again."
//! - `subscribers/create-a-subscriber`: "Behaves as an upsert."
//!
//! So re-sending any of these actions does not create a second subscription.
//! Removing a tag is idempotent by nature. Kit documents no idempotency
//! header; an `Idempotency-Key` is sent on every mutating request anyway
//! (`<key>` on the action, `<key>/subscriber` on the v4 upsert and
//! `<key>/fields` on the v3 field update), as a proxy or a later Kit could
//! honour it. The v3 pages do not state the dedupe; v3 calls "tags ...
//! subscriptions" and the same rules are assumed.
//!
//! # What `verify` can check
//!
//! Tags only: it looks the subscriber up by email and lists their tags, so
//! after an attempt with an unknown outcome it tells whether a tag is on
//! ([`KitActionKind::AddTag`]) or off ([`KitActionKind::RemoveTag`]). Neither
//! API lists a subscriber's sequences or forms (only a sequence's or form's
//! subscribers, page by page, without an email filter), so for those it
//! answers `None`; since Kit dedupes them, re-sending is the safe recovery.
//!
//! # Rate limit
//!
//! Kit (developers.kit.com/api-reference/rate-limits): "120 requests in 60
//! seconds, for each API key"; a 429's body is plain text `Retry later`, it has
//! no `Retry-After`, and "a wait of up to 60 seconds resets the limit". The
//! client-side limiter holds every 60 s window to `requests_per_minute`
//! (see [`KitConfig::quota`]).

mod client;
mod config;
mod failure;
mod request;
mod verify;

pub use client::KitClient;
pub use config::{
    DEFAULT_REQUESTS_PER_MINUTE, DEFAULT_TIMEOUT, KitApi, KitConfig, V3_BASE, V4_BASE,
};
pub use failure::{FailureKind, KitError, KitFailure, RATE_LIMIT_RESET};
pub use request::{KitActionKind, KitRequest};
