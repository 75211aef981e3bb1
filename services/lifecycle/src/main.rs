#[tokio::main]
async fn main() -> std::process::ExitCode {
    growth_runtime::launch::main(lifecycle_svc::spec(), lifecycle_svc::start).await
}
