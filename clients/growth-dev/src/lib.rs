//! The developer tool's library: the demo, the benchmarks and the throwaway
//! PostgreSQL cluster they run on, for the `growth-dev` binary and for tests
//! that need a server of their own (to restart it, say).

pub mod bench;
pub mod cli;
pub mod demo;
