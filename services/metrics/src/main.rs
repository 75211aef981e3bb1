#[tokio::main]
async fn main() -> anyhow::Result<()> {
    growth_runtime::launch::run(metrics_svc::spec(), metrics_svc::start).await
}
