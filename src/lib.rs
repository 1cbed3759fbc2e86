//! midnight-native-prover: Midnight ZKIR v2 proving inside Node.
//!
//! `core` is the engine (no N-API types); `binding` converts between it and JavaScript.
pub mod core;
#[cfg_attr(test, allow(dead_code))]
mod binding;

#[global_allocator]
static ALLOCATOR: core::memory::CountingAllocator = core::memory::CountingAllocator;
