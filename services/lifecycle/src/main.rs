#[tokio::main]
async fn main() -> std::process::ExitCode {
    growth_runtime::launch::main(
        lifecycle_svc::spec(),
        |pool, serve, _: growth_runtime::launch::NoArgs| lifecycle_svc::start(pool, serve),
    )
    .await
}
