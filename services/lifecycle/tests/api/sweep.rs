//! The RPC sweep (`growth_e2e::sweep`): every RPC of the lifecycle service,
//! called with the empty request and with `SWEEP_CALLS` (default 300) random
//! ones, never answers `INTERNAL` or `UNKNOWN`, and the server keeps
//! answering health checks. The seed is printed; `SWEEP_SEED=<n>` replays a
//! run (`cargo test -p lifecycle-svc --test api sweep -- --nocapture`).
//!
//! The real metrics service answers `EvaluateUsers`' calls; Kit has no key
//! and points at a closed local port, so nothing reaches the outside world.

use growth_e2e::sweep::Sweep;
use growth_proto::client::connect;
use growth_proto::lifecycle::v1::{self as lc, KitAction, LifecycleStage as S};
use sqlx::PgPool;

use crate::helpers::*;
use crate::outbox::{add_rule, rule};

#[sqlx::test(migrations = false)]
async fn every_rpc_survives_random_requests(pool: PgPool) {
    let mut c = spawn_with(pool, |a| {
        a.feed_disabled = true;
        a.kit_api_base = Some("http://127.0.0.1:9".into());
    })
    .await;
    // A little data, so that valid-looking requests reach deeper code.
    c.users(vec![
        user("u1", 40, None),
        user("u2", 3, Some(days_ago(-10))),
        user("u3", 90, None),
    ])
    .await;
    c.events(activity("a", "u1", 5, 2, 3)).await;
    c.payments(vec![payment("p1", "u1", 5)]).await;
    c.evaluate(lc::EvaluateUsersRequest::default()).await;
    let created = add_rule(&mut c, rule(S::AtRisk, KitAction::AddTag, "111")).await;

    let channel = connect(&c.lifecycle_server.grpc_addr.to_string())
        .await
        .expect("connects");
    let report = Sweep::from_env(
        growth_proto::LIFECYCLE_DESCRIPTOR_SET,
        growth_proto::LIFECYCLE_SERVICE_NAME,
        300,
    )
    .token(TOKEN)
    .plausible(&["u1", "u2", "welcome"])
    .field("user_id", &["u1", "u2", "u9", ""])
    .field("user_ids", &["u1", "u2", "u9"])
    .field(
        "rule_id",
        &[&created.rule_id, "", "00000000-0000-0000-0000-000000000000"],
    )
    .field("delivery_id", &["00000000-0000-0000-0000-000000000000"])
    .field("target_id", &["111", "222"])
    .field("key", &["engagement_score", "stage"])
    .field(
        "description",
        &["welcome sequence", "", "line one\nline two"],
    )
    .field("page_token", &["", "t:5"])
    .run(channel)
    .await;
    report.assert_clean();
}
