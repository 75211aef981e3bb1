//! `growthctl health`: gRPC health of both services.

use std::process::ExitCode;

use growth_proto::client::connect;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::cli::{Format, HealthArgs, ServiceName};
use crate::clients::Target;
use crate::output;

/// The status of one service, or why it could not be had.
async fn check(addr: &str, service: &str) -> Result<&'static str, String> {
    let channel = connect(addr).await.map_err(|e| output::chain_text(&e))?;
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.into(),
        })
        .await
        .map_err(|s| {
            format!(
                "{} ({})",
                s.message(),
                growth_proto::status::code_name(s.code())
            )
        })?;
    Ok(match response.into_inner().status {
        1 => "SERVING",
        2 => "NOT_SERVING",
        3 => "SERVICE_UNKNOWN",
        _ => "UNKNOWN",
    })
}

/// Checks both services, or the one asked for; fails unless every service
/// checked is SERVING.
pub async fn run(target: &Target, args: &HealthArgs, format: Format) -> anyhow::Result<ExitCode> {
    let services = [
        (
            ServiceName::Metrics,
            "metrics",
            target.metrics_addr.as_str(),
            growth_proto::METRICS_SERVICE_NAME,
        ),
        (
            ServiceName::Lifecycle,
            "lifecycle",
            target.lifecycle_addr.as_str(),
            growth_proto::LIFECYCLE_SERVICE_NAME,
        ),
    ];
    let mut rows = Vec::new();
    let asked = services
        .into_iter()
        .filter(|(which, ..)| args.service.is_none_or(|s| s == *which));
    for (_, name, addr, service) in asked {
        rows.push((name, addr, check(addr, service).await));
    }
    let healthy = rows.iter().all(|(_, _, r)| matches!(r, Ok("SERVING")));
    let json = rows
        .iter()
        .map(|(name, addr, result)| {
            serde_json::json!({
                "service": name,
                "address": addr,
                "status": result.as_ref().map(|s| s.to_string()).unwrap_or_else(|_| "UNREACHABLE".into()),
                "error": result.as_ref().err(),
            })
        })
        .collect::<Vec<_>>();
    output::emit(format, serde_json::Value::Array(json), || {
        let mut table = output::table(["service", "address", "status"]);
        for (name, addr, result) in &rows {
            let status = match result {
                Ok(s) => (*s).to_owned(),
                Err(e) => format!("UNREACHABLE: {e}"),
            };
            table.add_row(vec![(*name).to_owned(), (*addr).to_owned(), status]);
        }
        table
    });
    Ok(if healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
