//! The lifecycle service's integration tests: the real lifecycle and metrics
//! services on their own PostgreSQL databases, Kit as a local fake server.

mod fake_kit;
mod kit_client;
