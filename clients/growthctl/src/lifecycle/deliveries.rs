//! `lifecycle deliveries` and `retry`: the Kit outbox.

use std::process::ExitCode;

use anyhow::Context as _;
use growth_proto::common::v1::PageRequest;
use growth_proto::lifecycle::v1::{self as pb, DeliveryStatus};
use growth_proto::paging::MAX_SIZE;
use serde_json::{Value, json};

use super::DeliveriesArgs;
use super::names::{self, time};
use crate::cli::Format;
use crate::clients::Lifecycle;
use crate::output;

fn delivery_json(d: &pb::TriggerDelivery) -> Value {
    json!({
        "delivery_id": d.delivery_id,
        "rule_id": d.rule_id,
        "user_id": d.user_id,
        "transition_id": d.transition_id,
        "action": names::action(d.action),
        "target_id": d.target_id,
        "status": names::status(d.status),
        "attempts": d.attempts,
        "last_error": d.last_error,
        "next_attempt_at": output::time_json(d.next_attempt_at.as_ref()),
        "created_at": output::time_json(d.created_at.as_ref()),
        "delivered_at": output::time_json(d.delivered_at.as_ref()),
        "idempotency_key": d.idempotency_key,
    })
}

fn deliveries_table(rows: &[pb::TriggerDelivery]) -> comfy_table::Table {
    let mut table = output::table([
        "delivery",
        "user",
        "action",
        "target",
        "status",
        "attempts",
        "created",
        "last error",
    ]);
    for d in rows {
        table.add_row(vec![
            d.delivery_id.clone(),
            d.user_id.clone(),
            names::action(d.action),
            d.target_id.clone(),
            names::status(d.status),
            d.attempts.to_string(),
            time(d.created_at.as_ref()),
            d.last_error.clone(),
        ]);
    }
    table
}

/// `lifecycle deliveries`: pages followed until `--limit` rows.
pub async fn list(
    client: &mut Lifecycle,
    args: &DeliveriesArgs,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let status = args
        .status
        .map_or(DeliveryStatus::Unspecified as i32, |s| s.proto());
    let limit = args.limit as usize;
    let mut rows: Vec<pb::TriggerDelivery> = Vec::new();
    let mut page_token = String::new();
    while rows.len() < limit {
        let want = (limit - rows.len()).min(MAX_SIZE as usize);
        let page = client
            .list_trigger_deliveries(pb::ListTriggerDeliveriesRequest {
                status,
                user_id: args.user.clone().unwrap_or_default(),
                page: Some(PageRequest {
                    page_size: i32::try_from(want).unwrap_or(MAX_SIZE),
                    page_token: page_token.clone(),
                }),
            })
            .await?
            .into_inner();
        rows.extend(page.deliveries.into_iter().take(want));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    let json = Value::Array(rows.iter().map(delivery_json).collect());
    output::emit(format, json, || deliveries_table(&rows));
    Ok(ExitCode::SUCCESS)
}

/// `lifecycle retry DELIVERY_ID`.
pub async fn retry(
    client: &mut Lifecycle,
    delivery_id: &str,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let d = client
        .retry_delivery(pb::RetryDeliveryRequest {
            delivery_id: delivery_id.to_owned(),
        })
        .await?
        .into_inner()
        .delivery
        .context("the service returned no delivery")?;
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&delivery_json(&d)).unwrap_or_default()
        ),
        Format::Table | Format::Md | Format::Csv => println!(
            "delivery {} is {} again (next attempt at {})",
            d.delivery_id,
            names::status(d.status),
            time(d.next_attempt_at.as_ref())
        ),
    }
    Ok(ExitCode::SUCCESS)
}
