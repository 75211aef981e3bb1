//! End-to-end tests live in `tests/e2e`. The library holds what the
//! services' own API tests share: [`sweep`], the RPC sweep driven by a
//! service's protobuf descriptors.

pub mod sweep;
