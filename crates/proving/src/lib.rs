//! Midnight's formats and proving: circuits (IR, keys, their checks and their memory cost),
//! parameters, built-ins, keygen, key maps and the key store, witnesses and the proof server's
//! wire formats, and the kernels installed into midnight-proofs (`engines`). Nothing here knows
//! of queues, budgets or N-API: the service crate schedules this work, the binding converts.
/// The CPU kernels proving runs on.
pub use kernels;
pub mod block_on;
pub mod builtin;
pub mod circuit;
pub mod cost;
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
pub mod params;
pub mod wire;
pub mod witness;

/// These tests count memory as the addon does (peaks, budgets, mapped buffers).
#[cfg(test)]
#[global_allocator]
static ALLOCATOR: memory::CountingAllocator = memory::CountingAllocator;
