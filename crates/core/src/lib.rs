//! The prover's engine: no N-API types here (the binding crate converts), so everything is
//! testable with `cargo test -p midnight-native-prover-core`.
pub mod backend;
pub mod block_on;
pub mod budget;
pub mod builtin;
pub mod circuit;
pub mod error;
pub mod fft;
pub mod field_text;
pub mod files;
pub mod gates;
#[cfg(test)]
mod hostile_tests;
pub mod ir_check;
pub mod key_check;
pub mod key_map;
pub mod keygen;
pub mod keystore;
#[cfg(target_arch = "x86_64")]
pub mod lanes;
pub mod lent;
pub mod location;
pub mod manifest;
pub mod mapping;
pub mod memory;
pub mod metrics;
pub mod msm;
pub mod params;
pub mod prover;
pub mod scalar_field;
pub mod scheduler;
pub mod sync;
pub mod tasks;
pub mod wire;
pub mod witness;

/// The core's own tests count memory as the addon does (peaks, budgets, mapped buffers).
#[cfg(test)]
#[global_allocator]
static ALLOCATOR: memory::CountingAllocator = memory::CountingAllocator;
