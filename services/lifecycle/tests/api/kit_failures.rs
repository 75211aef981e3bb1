//! The Kit client's failures against the fake Kit: what is retryable and
//! what is final, an action applied without an answer found again by
//! verification, and the client-side rate limit.

use std::time::{Duration, Instant};

use lifecycle_svc::kit::{
    FailureKind, KitActionKind, KitApi, KitClient, KitConfig, RATE_LIMIT_RESET,
};

use crate::fake_kit::{FakeKit, KEY, SECRET};
use crate::kit_client::{ADA, client, config, failure, fake, req};

#[tokio::test]
async fn a_refused_connection_is_retryable_and_the_message_leaves_out_the_url() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let kit_client =
        KitClient::new(config(format!("http://127.0.0.1:{port}"), KitApi::V3)).expect("client");
    let tag = req(KitActionKind::AddTag, "11", "o-1");
    for f in [
        failure(kit_client.send(&tag).await),
        failure(kit_client.verify(&tag).await),
    ] {
        assert_eq!(
            f.kind,
            FailureKind::Retryable { retry_after: None },
            "{}",
            f.message
        );
        assert!(
            !f.message.contains(SECRET) && !f.message.contains(KEY),
            "{}",
            f.message
        );
        assert!(!f.message.contains("api_secret="), "{}", f.message);
    }
}

#[tokio::test]
async fn a_429_is_retryable_after_retry_after_or_after_kits_reset_without_one() {
    for api in [KitApi::V3, KitApi::V4] {
        let kit = fake(api).await;
        let kit_client = client(&kit, api);
        let tag = req(KitActionKind::AddTag, "11", "o-1");
        // On the action itself (v4: the subscriber upsert before it succeeds).
        kit.fail_next_actions(1, 429, Some(7));
        let f = failure(kit_client.send(&tag).await);
        let retry_after = Some(Duration::from_secs(7));
        assert_eq!(f.kind, FailureKind::Retryable { retry_after }, "{api:?}");
        assert!(f.message.contains("429 Too Many Requests"), "{}", f.message);
        // On whatever comes first (v4: the upsert).
        kit.fail_next(1, 429, None);
        let f = failure(kit_client.send(&tag).await);
        let retry_after = Some(RATE_LIMIT_RESET);
        assert_eq!(f.kind, FailureKind::Retryable { retry_after }, "{api:?}");
        assert!(f.message.contains("429 Too Many Requests"), "{}", f.message);
        assert!(kit.tags_of(ADA).is_empty());
        let statuses: Vec<u16> = kit.requests().iter().map(|r| r.status).collect();
        assert_eq!(
            statuses.iter().filter(|s| **s == 429).count(),
            2,
            "{statuses:?}"
        );
        kit_client.send(&tag).await.expect("then it goes through");
        assert_eq!(kit.tags_of(ADA).len(), 1);
    }
}

#[tokio::test]
async fn server_errors_and_an_outage_are_retryable_and_change_nothing() {
    for api in [KitApi::V3, KitApi::V4] {
        let kit = fake(api).await;
        let kit_client = client(&kit, api);
        let sequence = req(KitActionKind::SubscribeSequence, "21", "o-1");
        kit.fail_next(2, 500, None);
        for _ in 0..2 {
            let f = failure(kit_client.send(&sequence).await);
            assert_eq!(
                f.kind,
                FailureKind::Retryable { retry_after: None },
                "{}",
                f.message
            );
            assert!(
                f.message.contains("500 Internal Server Error"),
                "{}",
                f.message
            );
        }
        kit.set_down(true);
        let f = failure(kit_client.send(&sequence).await);
        assert_eq!(f.kind, FailureKind::Retryable { retry_after: None });
        assert!(kit.sequences_of(ADA).is_empty());
        kit.set_down(false);
        kit_client.send(&sequence).await.expect("back up");
        assert_eq!(kit.sequences_of(ADA), ["21".to_owned()].into());
    }
}

#[tokio::test]
async fn an_action_applied_without_an_answer_is_unknown_and_verify_finds_its_effect() {
    for api in [KitApi::V3, KitApi::V4] {
        let kit = fake(api).await;
        let kit_client = KitClient::new(KitConfig {
            timeout: Duration::from_millis(500),
            ..config(kit.base_url(), api)
        })
        .expect("client");
        let tag = req(KitActionKind::AddTag, "11", "o-1");
        kit.apply_then_hang(1);
        let f = failure(kit_client.send(&tag).await);
        assert_eq!(f.kind, FailureKind::Unknown, "{api:?}: {}", f.message);
        assert_eq!(kit_client.verify(&tag).await, Ok(Some(true)), "{api:?}");
        // Re-sending is harmless: Kit keeps one tagging.
        kit_client.send(&tag).await.expect("resend");
        assert_eq!(kit.tags_of(ADA), ["11".to_owned()].into());
        assert_eq!(kit.mutations_with_key("o-1"), 2);

        let untag = req(KitActionKind::RemoveTag, "11", "o-2");
        kit.apply_then_hang(1);
        assert_eq!(
            failure(kit_client.send(&untag).await).kind,
            FailureKind::Unknown
        );
        assert_eq!(kit_client.verify(&untag).await, Ok(Some(true)), "{api:?}");

        let form = req(KitActionKind::SubscribeForm, "31", "o-3");
        kit.apply_then_hang(1);
        assert_eq!(
            failure(kit_client.send(&form).await).kind,
            FailureKind::Unknown
        );
        assert_eq!(kit_client.verify(&form).await, Ok(None), "{api:?}");
    }
}

#[tokio::test]
async fn verify_reports_absent_tags_and_cannot_tell_sequences_or_forms() {
    for api in [KitApi::V3, KitApi::V4] {
        let kit = fake(api).await;
        let kit_client = client(&kit, api);
        let tag = req(KitActionKind::AddTag, "11", "o-1");
        let untag = req(KitActionKind::RemoveTag, "11", "o-2");
        // Unknown subscriber: no tag.
        assert_eq!(kit_client.verify(&tag).await, Ok(Some(false)), "{api:?}");
        assert_eq!(kit_client.verify(&untag).await, Ok(Some(true)), "{api:?}");
        kit.tag(ADA, "12");
        assert_eq!(kit_client.verify(&tag).await, Ok(Some(false)), "{api:?}");
        kit.tag(ADA, "11");
        assert_eq!(kit_client.verify(&tag).await, Ok(Some(true)), "{api:?}");
        assert_eq!(kit_client.verify(&untag).await, Ok(Some(false)), "{api:?}");

        let before = kit.requests().len();
        for kind in [
            KitActionKind::SubscribeSequence,
            KitActionKind::SubscribeForm,
        ] {
            assert_eq!(kit_client.verify(&req(kind, "21", "o-3")).await, Ok(None));
        }
        assert_eq!(kit.requests().len(), before, "nothing to ask Kit");
        assert!(kit.mutations().is_empty(), "verify only reads");
        let lookup = &kit.requests()[0];
        assert_eq!(
            lookup.query.get("email_address").map(String::as_str),
            Some(ADA)
        );
        if api == KitApi::V3 {
            assert_eq!(
                lookup.query.get("api_secret").map(String::as_str),
                Some(SECRET)
            );
        }
    }
}

#[tokio::test]
async fn verify_reads_every_page_of_a_v4_subscribers_tags() {
    let kit = FakeKit::v4().await;
    kit.set_max_per_page(2);
    for tag in ["1", "2", "3", "4", "5"] {
        kit.tag(ADA, tag);
    }
    let kit_client = client(&kit, KitApi::V4);
    let last = req(KitActionKind::AddTag, "5", "o-1");
    assert_eq!(kit_client.verify(&last).await, Ok(Some(true)));
    let pages = kit
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/tags"))
        .count();
    assert_eq!(pages, 3);
}

#[tokio::test]
async fn the_client_side_limit_lets_a_burst_through_then_spaces_requests() {
    let kit = FakeKit::v4().await;
    kit.add_subscriber(ADA);
    // 240 a minute with a burst of 2: then one every 60 s / 239.
    let kit_client = KitClient::new(KitConfig {
        requests_per_minute: 240,
        burst: 2,
        ..config(kit.base_url(), KitApi::V4)
    })
    .expect("client");
    let period = Duration::from_secs(60).div_f64(239.0);
    // A remove-tag without fields is one request; clones share the limiter.
    let send = |c: KitClient, i: usize| async move {
        c.send(&req(KitActionKind::RemoveTag, "11", &format!("o-{i}")))
            .await
    };
    let started = Instant::now();
    tokio::join!(
        async {
            for i in 0..4 {
                send(kit_client.clone(), i).await.expect("send")
            }
        },
        async {
            for i in 4..8 {
                send(kit_client.clone(), i).await.expect("send")
            }
        },
    );
    let elapsed = started.elapsed();
    let times = kit.request_times();
    assert_eq!(times.len(), 8);
    assert!(
        times[1] - times[0] < period / 2,
        "the burst of 2 leaves at once"
    );
    let spread = times[7] - times[0];
    assert!(
        spread >= period * 6 - Duration::from_millis(20),
        "{spread:?}"
    );
    assert!(
        elapsed >= period * 6 - Duration::from_millis(20),
        "{elapsed:?}"
    );
}
