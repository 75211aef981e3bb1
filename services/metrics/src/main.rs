#[tokio::main]
async fn main() -> std::process::ExitCode {
    growth_runtime::launch::main(metrics_svc::spec(), metrics_svc::start_with).await
}
