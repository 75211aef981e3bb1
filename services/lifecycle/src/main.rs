#[tokio::main]
async fn main() -> anyhow::Result<()> {
    growth_runtime::launch::run(lifecycle_svc::spec(), lifecycle_svc::start).await
}
