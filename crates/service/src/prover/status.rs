//! What the prover reports: `status()`, its events, and the metrics it records.
use super::admission::{loaded_need, shape};
use super::{ProofOutput, Prover, MAX_LOADED_CIRCUITS};
use crate::budget::BudgetStatus;
use crate::metrics::Gauges;
use crate::tasks::{self, TaskStatus};
use kernels::mapping;
use kernels::sync::lock;
use proving::circuit::Circuit;
use proving::error::{ErrorCode, ProverError, Result};
use proving::key_map::{self, KeyMap};
use proving::memory;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::time::Instant;

pub struct CircuitStatus {
    pub id: String,
    pub k: u8,
    pub rows: usize,
    pub prover_key_bytes: u64,
    pub load_ms: f64,
    pub peak_proof_bytes: u64,
    /// Advice, fixed and instance columns.
    pub columns: usize,
    /// Native memory its load added (key, and parameters it was first to need).
    pub load_bytes: u64,
    /// What its next proof will reserve.
    pub reserve_bytes: u64,
    /// Whose setup its parameters come from; None until they are loaded.
    pub params: Option<proving::params::Origin>,
    /// Bytes of its prover key's mapped file (see `key_map`); 0 when the key is private.
    pub mapped_bytes: u64,
    /// Of `load_bytes`, what is private to this process.
    pub private_bytes: u64,
    /// Why its key is private though a key cache was given (the cache unwritable, full, ...).
    pub unmapped_because: Option<String>,
}

/// The mapped prover keys and tables of the process (`mapping`, `key_map`).
pub struct MappingStatus {
    /// Files mapped now, of `max`.
    pub held: usize,
    pub max: usize,
    /// Bytes of the mapped prover keys of this prover's loaded circuits.
    pub key_bytes: u64,
    /// Pages that faulted because their file shrank under the mapping, since the process began.
    pub faults: u64,
    /// Key maps found in the key cache and refused (truncated, corrupt, stale), then rebuilt.
    pub refused: u64,
    /// Key maps one key cache directory keeps, least recently used deleted first.
    pub max_key_map_files: usize,
    pub max_key_map_bytes: u64,
}

/// What happened to a submitted proof, for logging.
#[derive(Debug, Clone)]
pub struct ProofEvent {
    /// "started", "finished" or "failed".
    pub kind: &'static str,
    pub proof_id: u64,
    pub circuit_id: String,
    /// From submission to start.
    pub waited_ms: f64,
    /// Running time, once it ended.
    pub duration_ms: Option<f64>,
    /// Heap the proof needed at its peak, once it ended.
    pub peak_bytes: Option<u64>,
    pub error: Option<ProverError>,
}

pub type Listener = Arc<dyn Fn(ProofEvent) + Send + Sync>;

pub struct Status {
    pub circuits: Vec<CircuitStatus>,
    pub available: Vec<String>,
    pub params_k: Vec<u8>,
    pub active_proofs: usize,
    pub queued_proofs: usize,
    pub threads: usize,
    /// Threads this prover started that are alive now: 0 once it is closed and released.
    pub live_threads: usize,
    pub native_bytes: u64,
    pub rss_bytes: u64,
    pub budget: BudgetStatus,
    /// Highest native heap since the prover was created.
    pub peak_native_bytes: u64,
    pub proofs_completed: u64,
    pub proofs_failed: u64,
    /// Built-in prover keys derived by keygen (not found genuine in the key cache).
    pub keys_derived: u64,
    /// Loaded circuits evicted to stay within `cache_limit_bytes` or `MAX_LOADED_CIRCUITS`.
    pub circuits_evicted: u64,
    /// Held memory beyond which idle circuits are evicted: `memory_limit_bytes`, or half the
    /// machine's memory when there is no limit.
    pub cache_limit_bytes: u64,
    pub max_loaded_circuits: usize,
    /// The process's pool for checks, verifies, preloads and keygen.
    pub tasks: TaskStatus,
    /// The MSM engine's affine SRS tables (process-wide; counted in `budget` as parameters).
    pub msm: kernels::msm::TableStatus,
    pub mapping: MappingStatus,
    /// The CPU backend every kernel runs (`backend`), and those this CPU has.
    pub backend: kernels::backend::Backend,
    pub backends: Vec<kernels::backend::Backend>,
    pub uptime_ms: f64,
}

impl Prover {
    pub fn status(&self) -> Status {
        let budget = self.budget.status();
        let (active_proofs, queued_proofs) = self.depth(&budget);
        Status {
            circuits: self.keys.loaded().iter().map(|c| self.circuit_status(c)).collect(),
            available: self.keys.available(),
            params_k: self.params.loaded_ks(),
            active_proofs,
            queued_proofs,
            threads: self.scheduler.threads(),
            live_threads: self.scheduler.live_threads(),
            native_bytes: memory::live_bytes(),
            rss_bytes: memory::rss_bytes(),
            budget,
            peak_native_bytes: memory::high_water_bytes(),
            proofs_completed: self.completed.load(SeqCst),
            proofs_failed: self.failed.load(SeqCst),
            keys_derived: self.keys_derived.load(SeqCst),
            circuits_evicted: self.evictions.load(SeqCst),
            cache_limit_bytes: self.cache_limit_bytes,
            max_loaded_circuits: MAX_LOADED_CIRCUITS,
            tasks: tasks::global().status(),
            msm: kernels::msm::status(),
            mapping: self.mapping_status(),
            backend: kernels::backend::current(),
            backends: kernels::backend::available(),
            uptime_ms: self.started.elapsed().as_secs_f64() * 1e3,
        }
    }

    /// (running, waiting) proofs. A proof runs from the moment the budget grants its
    /// reservation (when its `started` event fires); before that it waits, for a driver or for
    /// memory. Every proof reserves, with or without a limit.
    pub(super) fn depth(&self, budget: &BudgetStatus) -> (usize, usize) {
        let in_flight = self.scheduler.in_flight();
        let running = budget.reservations.len().min(in_flight);
        (running, in_flight - running)
    }

    pub(super) fn record_peak(&self, circuit: &Circuit, peak_bytes: u64, alone: bool) {
        circuit.peak_proof_bytes.fetch_max(peak_bytes, SeqCst);
        lock(&circuit.measured).record(peak_bytes, alone);
    }

    /// Counts a finished proof. Ids that name no circuit are labelled "unknown", and the
    /// metrics cap how many labels they keep, so callers cannot grow them without bound.
    pub(super) fn record(&self, circuit_id: &str, started: Instant, result: &Result<ProofOutput>) {
        let counter = if result.is_ok() { &self.completed } else { &self.failed };
        counter.fetch_add(1, SeqCst);
        let unknown = matches!(result, Err(e) if matches!(e.code, ErrorCode::CircuitNotFound | ErrorCode::InvalidCircuitId));
        let label = if unknown { "unknown" } else { circuit_id };
        self.metrics.record_proof(label, started.elapsed().as_secs_f64(), result.is_ok());
    }

    /// Prometheus text exposition of the prover's metrics.
    pub fn metrics_text(&self) -> String {
        let (active_proofs, queue_depth) = self.depth(&self.budget.status());
        let mapping = self.mapping_status();
        self.metrics.render(&Gauges {
            memory_bytes: memory::live_bytes(),
            memory_limit_bytes: self.memory_limit_bytes,
            queue_depth,
            active_proofs,
            loaded_circuits: self.keys.loaded().len(),
            circuits_evicted: self.evictions.load(SeqCst),
            tasks: tasks::global().status(),
            msm_table_bytes: kernels::msm::status().bytes,
            mapped_key_bytes: mapping.key_bytes,
            mapping_faults: mapping.faults,
            key_maps_refused: mapping.refused,
            key_load_seconds: self.keys.loaded().iter().map(|c| (c.id.clone(), c.load_ms / 1e3)).collect(),
        })
    }

    fn mapping_status(&self) -> MappingStatus {
        let key_bytes = self.keys.loaded().iter().filter_map(|c| c.key_map.as_ref().map(KeyMap::bytes)).sum();
        let faults = mapping::faults_total();
        MappingStatus {
            held: mapping::held(),
            max: mapping::MAX_MAPPINGS,
            key_bytes,
            faults,
            refused: key_map::refused(),
            max_key_map_files: key_map::MAX_FILES,
            max_key_map_bytes: key_map::MAX_BYTES,
        }
    }

    pub(super) fn circuit_status(&self, c: &Circuit) -> CircuitStatus {
        let load_bytes = c.load_bytes.load(SeqCst);
        let mapped_bytes = c.key_map.as_ref().map_or(0, KeyMap::bytes);
        CircuitStatus {
            id: c.id.clone(),
            k: c.k,
            rows: c.rows,
            prover_key_bytes: c.prover_key_bytes,
            load_ms: c.load_ms,
            peak_proof_bytes: c.peak_proof_bytes.load(SeqCst),
            columns: shape(c).columns,
            load_bytes,
            reserve_bytes: loaded_need(c),
            params: self.params.origin(c.k),
            mapped_bytes,
            private_bytes: load_bytes.saturating_sub(mapped_bytes),
            unmapped_because: c.unmapped_because.clone(),
        }
    }
}
