//! midnight-native-prover: Midnight ZKIR v2 proving inside Node.
//!
//! This crate is the N-API binding and nothing else: it converts between JavaScript and the
//! engine, `midnight-native-prover-core` (crates/core, no N-API types), re-exported as `core`.
pub use midnight_native_prover_core as core;
#[cfg_attr(test, allow(dead_code))]
mod binding;

#[global_allocator]
static ALLOCATOR: core::memory::CountingAllocator = core::memory::CountingAllocator;
