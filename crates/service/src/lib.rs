//! Proofs as work with bounds, over Midnight's formats and proving (`proving`): the prover handle
//! (`prover`: admission, circuits, runs, status), the drivers and the proving pool
//! (`scheduler`), the task pool for everything else (`tasks`), the memory budget (`budget`) and
//! the metrics. No N-API types here: the binding crate converts.
pub mod budget;
pub mod metrics;
pub mod prover;
pub mod scheduler;
pub mod tasks;

/// These tests count memory as the addon does (peaks, budgets, mapped buffers).
#[cfg(test)]
#[global_allocator]
static ALLOCATOR: proving::memory::CountingAllocator = proving::memory::CountingAllocator;
