//! The prover's engine: Midnight's formats and proving, the kernels installed into
//! midnight-proofs (`engines`), and the service. No N-API types here (the binding crate
//! converts), so everything is testable with `cargo test -p midnight-native-prover-core`.
/// The CPU kernels this core runs on, for the binding's status shapes.
pub use kernels;
pub mod block_on;
pub mod budget;
pub mod builtin;
pub mod circuit;
pub mod engines;
pub mod error;
pub mod field_text;
pub mod files;
#[cfg(test)]
mod hostile_tests;
pub mod ir_check;
pub mod key_check;
pub mod key_map;
pub mod keygen;
pub mod keystore;
pub mod lent;
pub mod location;
pub mod manifest;
pub mod memory;
pub mod metrics;
pub mod params;
pub mod prover;
pub mod scheduler;
pub mod tasks;
pub mod wire;
pub mod witness;

/// The core's own tests count memory as the addon does (peaks, budgets, mapped buffers).
#[cfg(test)]
#[global_allocator]
static ALLOCATOR: memory::CountingAllocator = memory::CountingAllocator;
