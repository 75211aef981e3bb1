//! The RPC sweep (`growth_e2e::sweep`): every RPC of the metrics service,
//! called with the empty request and with `SWEEP_CALLS` (default 80) random
//! ones, never answers `INTERNAL` or `UNKNOWN`, and the server keeps
//! answering health checks. The seed is printed; `SWEEP_SEED=<n>` replays a
//! run (`cargo test -p metrics-svc --test api sweep -- --nocapture`).
//!
//! Stripe and GitHub point at a closed local port and no key is set, so no
//! request reaches the outside world (audits answer FAILED_PRECONDITION).

use growth_e2e::sweep::Sweep;
use growth_proto::client::connect;
use growth_proto::metrics::v1 as pb;
use sqlx::PgPool;

use crate::helpers::*;

#[sqlx::test(migrations = false)]
async fn every_rpc_survives_random_requests(pool: PgPool) {
    let args = metrics_svc::config::MetricsArgs {
        stripe_api_base: "http://127.0.0.1:9".into(),
        github_api_base: "http://127.0.0.1:9".into(),
        ..Default::default()
    };
    let mut app = spawn_app_with(pool, args).await;
    // A little data, so that valid-looking requests reach deeper code.
    upsert(&mut app, vec![user("u1"), user("u2"), user("u3")]).await;
    track(&mut app, vec![event("e1", "u1"), event("e2", "u2")]).await;
    app.client
        .import_payments(pb::ImportPaymentsRequest {
            payments: vec![pb::Payment {
                stripe_id: "pi_1".into(),
                user_id: "u1".into(),
                amount: Some(growth_proto::common::v1::Money {
                    amount_minor: 4900,
                    currency: "usd".into(),
                }),
                status: pb::PaymentStatus::Succeeded as i32,
                created_at: ts(day(2025, 1, 3)),
                ..Default::default()
            }],
        })
        .await
        .expect("payment imported");

    let channel = connect(&app.server.grpc_addr.to_string())
        .await
        .expect("connects");
    let report = Sweep::from_env(
        growth_proto::METRICS_DESCRIPTOR_SET,
        growth_proto::METRICS_SERVICE_NAME,
        80,
    )
    .token(TOKEN)
    .plausible(&["u1", "u2", "e1", "pi_1", "2025-01", "2025-01-01", "login"])
    .field("user_id", &["u1", "u2", "u3", "u4"])
    .field("user_ids", &["u1", "u2", "u9"])
    .field("email", &["u1@example.com", "a@b.c"])
    .field("plan", &["trial", "pro", "free"])
    .field("event_id", &["e1", "e3", "e4"])
    .field("name", &["login", "signup"])
    .field("attributes_json", &["", r#"{"country":"DE"}"#])
    .field("properties_json", &["", r#"{"source":"web"}"#])
    .field("raw_json", &["", "{}"])
    .field("stripe_id", &["pi_1", "pi_2", "ch_3"])
    .field("stripe_customer", &["cus_1", ""])
    .field("stripe_charge_id", &["", "ch_1"])
    .field("stripe_invoice_id", &["", "in_1"])
    .field("stripe_subscription_id", &["sub_1", "sub_2"])
    .field("currency", &["usd", "eur"])
    .field("month", &["2025-01", "2025-02"])
    .field("month_from", &["2024-12", "2025-01"])
    .field("month_to", &["2025-01", "2025-03"])
    .field("week", &["2025-W02", "2025-01-06"])
    .field("from", &["2025-01-01", ""])
    .field("to", &["2025-01-31", ""])
    .field("breakdown", &["", "plan", "attributes.country"])
    .field("type", &["", "charge.", "charge.refunded"])
    .field("page_token", &[""])
    .run(channel)
    .await;
    report.assert_clean();
}
