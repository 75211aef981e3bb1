//! The Kit client against the fake Kit (v3 and v4): effects, auth, bodies,
//! idempotency keys and refusals (`kit_failures` has the failures,
//! verification and the rate limit), and the helpers both use.

use std::time::Duration;

use lifecycle_svc::kit::{
    FailureKind, KitActionKind, KitApi, KitClient, KitConfig, KitFailure, KitRequest,
};
use secrecy::SecretString;
use serde_json::json;

use crate::fake_kit::{FakeKit, KEY, SECRET};

pub(crate) const ADA: &str = "ada@example.com";

pub(crate) fn config(base: String, api: KitApi) -> KitConfig {
    KitConfig {
        api,
        api_base: base,
        api_key: SecretString::from(KEY.to_owned()),
        api_secret: (api == KitApi::V3).then(|| SecretString::from(SECRET.to_owned())),
        requests_per_minute: 6000,
        burst: 100,
        timeout: Duration::from_secs(5),
    }
}

pub(crate) fn client(kit: &FakeKit, api: KitApi) -> KitClient {
    KitClient::new(config(kit.base_url(), api)).expect("client")
}

pub(crate) async fn fake(api: KitApi) -> FakeKit {
    match api {
        KitApi::V3 => FakeKit::v3().await,
        KitApi::V4 => FakeKit::v4().await,
    }
}

pub(crate) fn req(kind: KitActionKind, target: &str, key: &str) -> KitRequest {
    KitRequest::new(kind, target, ADA, key)
}

pub(crate) fn failure<T: std::fmt::Debug>(result: Result<T, KitFailure>) -> KitFailure {
    result.expect_err("the call should fail")
}

#[tokio::test]
async fn every_v4_action_applies_its_effect_with_the_key_header_and_idempotency_key() {
    let kit = FakeKit::v4().await;
    let kit_client = client(&kit, KitApi::V4);
    let tag = req(KitActionKind::AddTag, "11", "o-1").with_field("plan", "pro");
    kit_client.send(&tag).await.expect("tag");
    assert_eq!(kit.tags_of(ADA), ["11".to_owned()].into());
    assert_eq!(
        kit.fields_of(ADA),
        [("plan".to_owned(), "pro".to_owned())].into()
    );
    let sequence = req(KitActionKind::SubscribeSequence, "21", "o-2");
    kit_client.send(&sequence).await.expect("sequence");
    kit_client
        .send(&req(KitActionKind::SubscribeForm, "31", "o-3"))
        .await
        .expect("form");
    kit_client
        .send(&req(KitActionKind::RemoveTag, "11", "o-4"))
        .await
        .expect("untag");
    assert!(kit.tags_of(ADA).is_empty());
    assert_eq!(kit.sequences_of(ADA), ["21".to_owned()].into());
    assert_eq!(kit.forms_of(ADA), ["31".to_owned()].into());

    let sent: Vec<(String, String, Option<String>)> = kit
        .mutations()
        .iter()
        .map(|r| {
            (
                r.method.clone(),
                r.path.clone(),
                r.idempotency_key().map(str::to_owned),
            )
        })
        .collect();
    let row = |m: &str, p: &str, k: &str| (m.to_owned(), p.to_owned(), Some(k.to_owned()));
    assert_eq!(
        sent,
        [
            // Kit v4 needs the subscriber to exist: an upsert (with the fields) first.
            row("POST", "/v4/subscribers", "o-1/subscriber"),
            row("POST", "/v4/tags/11/subscribers", "o-1"),
            row("POST", "/v4/subscribers", "o-2/subscriber"),
            row("POST", "/v4/sequences/21/subscribers", "o-2"),
            row("POST", "/v4/subscribers", "o-3/subscriber"),
            row("POST", "/v4/forms/31/subscribers", "o-3"),
            row("DELETE", "/v4/tags/11/subscribers", "o-4"),
        ]
    );
    for r in kit.requests() {
        assert_eq!(r.header("x-kit-api-key"), Some(KEY));
        let agent = r.header("user-agent").unwrap_or_default();
        assert!(agent.starts_with("growth-lifecycle-svc/"), "{agent}");
    }
    let mutations = kit.mutations();
    assert_eq!(
        mutations[0].body,
        Some(json!({"email_address": ADA, "fields": {"plan": "pro"}}))
    );
    assert_eq!(mutations[1].body, Some(json!({"email_address": ADA})));
    assert_eq!(mutations[6].body, Some(json!({"email_address": ADA})));
}

#[tokio::test]
async fn every_v3_action_applies_its_effect_with_the_credentials_in_the_body() {
    let kit = FakeKit::v3().await;
    let kit_client = client(&kit, KitApi::V3);
    let tag = req(KitActionKind::AddTag, "11", "o-1").with_field("plan", "pro");
    kit_client.send(&tag).await.expect("tag");
    kit_client
        .send(&req(KitActionKind::SubscribeSequence, "21", "o-2"))
        .await
        .expect("seq");
    kit_client
        .send(&req(KitActionKind::SubscribeForm, "31", "o-3"))
        .await
        .expect("form");
    let untag = req(KitActionKind::RemoveTag, "11", "o-4").with_field("plan", "free");
    kit_client.send(&untag).await.expect("untag");
    assert!(kit.tags_of(ADA).is_empty());
    assert_eq!(kit.sequences_of(ADA), ["21".to_owned()].into());
    assert_eq!(kit.forms_of(ADA), ["31".to_owned()].into());
    assert_eq!(
        kit.fields_of(ADA),
        [("plan".to_owned(), "free".to_owned())].into()
    );

    let mutations = kit.mutations();
    let paths: Vec<&str> = mutations.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/v3/tags/11/subscribe",
            "/v3/sequences/21/subscribe",
            "/v3/forms/31/subscribe",
            // A remove-tag carries no fields in v3: they go in an update first.
            "/v3/subscribers/1001",
            "/v3/tags/11/unsubscribe",
        ]
    );
    assert_eq!(
        mutations[0].body,
        Some(json!({"api_key": KEY, "email": ADA, "fields": {"plan": "pro"}}))
    );
    assert_eq!(
        mutations[1].body,
        Some(json!({"api_key": KEY, "email": ADA}))
    );
    assert_eq!(
        mutations[3].body,
        Some(json!({"api_secret": SECRET, "fields": {"plan": "free"}}))
    );
    assert_eq!(
        mutations[4].body,
        Some(json!({"api_secret": SECRET, "email": ADA}))
    );
    let keys: Vec<Option<&str>> = mutations.iter().map(|r| r.idempotency_key()).collect();
    assert_eq!(
        keys,
        [
            Some("o-1"),
            Some("o-2"),
            Some("o-3"),
            Some("o-4/fields"),
            Some("o-4")
        ]
    );
    assert!(
        kit.requests()
            .iter()
            .all(|r| r.header("x-kit-api-key").is_none())
    );
}

#[tokio::test]
async fn a_v3_remove_tag_without_the_api_secret_is_rejected_before_anything_is_sent() {
    let kit = FakeKit::v3().await;
    let kit_client = KitClient::new(KitConfig {
        api_secret: None,
        ..config(kit.base_url(), KitApi::V3)
    })
    .expect("client");
    let f = failure(
        kit_client
            .send(&req(KitActionKind::RemoveTag, "11", "o-1"))
            .await,
    );
    assert_eq!(f.kind, FailureKind::Rejected);
    assert!(f.message.contains("api secret"), "{}", f.message);
    assert!(kit.requests().is_empty());
}

#[tokio::test]
async fn a_wrong_key_is_rejected_and_the_message_names_the_status_but_not_the_key() {
    let (wrong_key, wrong_secret) = ("kit_wrong_key_0451", "kit_wrong_secret_1984");
    for api in [KitApi::V3, KitApi::V4] {
        let kit = fake(api).await;
        let kit_client = KitClient::new(KitConfig {
            api_key: SecretString::from(wrong_key.to_owned()),
            api_secret: (api == KitApi::V3).then(|| SecretString::from(wrong_secret.to_owned())),
            ..config(kit.base_url(), api)
        })
        .expect("client");
        assert!(!format!("{kit_client:?}").contains(wrong_key));
        let tag = req(KitActionKind::AddTag, "11", "o-1");
        let sent = failure(kit_client.send(&tag).await);
        // v3's verify sends the secret in the query string.
        let verified = failure(kit_client.verify(&tag).await);
        for f in [sent, verified] {
            assert_eq!(f.kind, FailureKind::Rejected, "{api:?}");
            assert!(f.message.contains("401 Unauthorized"), "{}", f.message);
            assert!(
                f.message.contains("not valid") || f.message.contains("invalid"),
                "{}",
                f.message
            );
            assert!(!f.message.contains(wrong_key) && !f.message.contains(wrong_secret));
        }
        assert!(kit.tags_of(ADA).is_empty());
    }
}

#[tokio::test]
async fn malformed_requests_are_rejected_without_reaching_kit() {
    let kit = FakeKit::v4().await;
    let kit_client = client(&kit, KitApi::V4);
    let bad = [
        req(KitActionKind::AddTag, "11/../../v4/subscribers", "o-1"),
        KitRequest::new(KitActionKind::AddTag, "11", "not an email", "o-2"),
        req(KitActionKind::AddTag, "11", ""),
    ];
    for r in bad {
        assert_eq!(
            failure(kit_client.send(&r).await).kind,
            FailureKind::Rejected
        );
        assert_eq!(
            failure(kit_client.verify(&r).await).kind,
            FailureKind::Rejected
        );
    }
    assert!(kit.requests().is_empty());
}

#[tokio::test]
async fn the_fake_answers_a_missing_email_or_a_wrong_key_like_kit() {
    growth_runtime::tls::install_crypto_provider();
    let http = reqwest::Client::new();
    let v4 = FakeKit::v4().await;
    let url = format!("{}/v4/tags/11/subscribers", v4.base_url());
    let no_email = http
        .post(&url)
        .header("X-Kit-Api-Key", KEY)
        .json(&json!({}));
    let answer = no_email.send().await.expect("send");
    assert_eq!(answer.status(), 422);
    let body: serde_json::Value = answer.json().await.expect("json");
    assert!(body["errors"][0].is_string());
    let wrong = http
        .post(&url)
        .header("X-Kit-Api-Key", "nope")
        .json(&json!({"email_address": ADA}));
    assert_eq!(wrong.send().await.expect("send").status(), 401);
    let unknown_subscriber = http
        .post(&url)
        .header("X-Kit-Api-Key", KEY)
        .json(&json!({"email_address": ADA}));
    assert_eq!(unknown_subscriber.send().await.expect("send").status(), 404);

    let v3 = FakeKit::v3().await;
    let url = format!("{}/v3/tags/11/subscribe", v3.base_url());
    let answer = http
        .post(&url)
        .json(&json!({"api_key": "nope", "email": ADA}))
        .send()
        .await;
    let answer = answer.expect("send");
    assert_eq!(answer.status(), 401);
    let body: serde_json::Value = answer.json().await.expect("json");
    assert_eq!(body["error"], "Authorization Failed");
    let answer = http
        .post(&url)
        .json(&json!({"api_key": KEY}))
        .send()
        .await
        .expect("send");
    assert_eq!(answer.status(), 422);
}
