//! Compiles the `.proto` files with `protox` (pure Rust, no system `protoc`),
//! writes the descriptor set used by gRPC reflection, and generates the Rust
//! messages plus the client and/or server code selected by crate features.

use std::{env, error::Error, fs, path::PathBuf};

use prost::Message;

const PROTOS: &[&str] = &[
    "growth/common/v1/common.proto",
    "growth/metrics/v1/audit.proto",
    "growth/metrics/v1/insights.proto",
    "growth/metrics/v1/metrics.proto",
    "growth/lifecycle/v1/lifecycle.proto",
];

/// Descriptor set name and root proto of each service.
const SERVICES: &[(&str, &str)] = &[
    ("metrics", "growth/metrics/v1/metrics.proto"),
    ("lifecycle", "growth/lifecycle/v1/lifecycle.proto"),
];

fn main() -> Result<(), Box<dyn Error>> {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={}", root.join(proto).display());
    }

    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    // One descriptor set per service (its proto and what it imports), so that
    // each server's reflection lists only the service it really serves.
    for (name, proto) in SERVICES {
        let set = protox::compile([proto], [&root])?;
        fs::write(
            out_dir.join(format!("{name}_descriptor.bin")),
            set.encode_to_vec(),
        )?;
    }

    let descriptors = protox::compile(PROTOS, [&root])?;

    tonic_prost_build::configure()
        .build_client(env::var_os("CARGO_FEATURE_CLIENT").is_some())
        .build_server(env::var_os("CARGO_FEATURE_SERVER").is_some())
        .compile_fds(descriptors)?;
    Ok(())
}
