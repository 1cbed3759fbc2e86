//! midnight-native-prover: Midnight ZKIR v2 proving inside Node.
//!
//! This crate is the N-API binding and nothing else: it converts between JavaScript and the
//! engine's crates, which have no N-API types: `service` (crates/service: the prover handle,
//! scheduler, budget) over `proving` (crates/proving: Midnight's formats and proving) over the
//! kernels (crates/kernels).
pub use proving;
pub use service;
#[cfg_attr(test, allow(dead_code))]
mod binding;

#[global_allocator]
static ALLOCATOR: proving::memory::CountingAllocator = proving::memory::CountingAllocator;
