//! The proving engine: key store, parameters and scheduler behind one handle.
//!
//! This file holds the handle and its short public calls; the concerns behind them each have a
//! module: `run` (a proof from the scheduler's start to its callback), `admission` (the memory
//! budget's glue), `circuits` (resolving a reference to a loaded circuit) and `status`.
mod admission;
mod circuits;
mod run;
mod status;

pub use status::{CircuitStatus, Listener, MappingStatus, ProofEvent, Status};

use super::budget::Budget;
use super::metrics::Metrics;
pub use super::scheduler::default_threads;
use super::scheduler::Scheduler;
use super::tasks;
use kernels::sync::{lock, read, write};
use proving::circuit::{check_preimage, parse_ir_k};
use proving::error::{fail, ErrorCode, ProverError, Result, WithCode};
use proving::keystore::KeyStore;
pub use proving::lent::Lent;
use proving::memory;
use proving::params::{ParamsSources, ParamsStore};
use proving::witness::Witness;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;
use transient_crypto::curve::Fr;
use transient_crypto::proofs::Proof;

pub struct ProverConfig {
    pub circuit_dirs: Vec<PathBuf>,
    pub params: ParamsSources,
    /// The proving pool's size; `None`: the CPUs this process may use (`default_threads`).
    pub threads: Option<usize>,
    pub max_concurrent: usize,
    /// Proofs that may wait for a driver; beyond that `prove` fails with PROVER_OVERLOADED.
    /// `None`: no bound but the memory budget's.
    pub max_queue: Option<usize>,
    pub memory_limit_bytes: Option<u64>,
    /// Where built-in circuits' prover keys are derived to and cached.
    pub key_cache_dir: PathBuf,
}

/// Loaded circuits kept at most, whatever their size: entries of key material sent by clients
/// are the one thing a server's callers can multiply.
pub const MAX_LOADED_CIRCUITS: usize = 64;

/// The circuit a proof is for.
pub enum CircuitRef {
    /// An id from the key directories, or a built-in key location.
    Id(String),
    /// Key material handed in by the caller (a kmProvider), looked up for `location`.
    Material { location: String, ir: Lent, prover: Lent, verifier: Lent },
}

impl CircuitRef {
    pub fn label(&self) -> &str {
        match self {
            CircuitRef::Id(id) => id,
            CircuitRef::Material { location, .. } => location,
        }
    }
}

impl From<&str> for CircuitRef {
    fn from(id: &str) -> Self {
        CircuitRef::Id(id.to_owned())
    }
}

impl From<String> for CircuitRef {
    fn from(id: String) -> Self {
        CircuitRef::Id(id)
    }
}

pub struct ProofOutput {
    pub circuit_id: String,
    /// Tagged `proof[v5]` bytes, as the ledger and @midnight-ntwrk/zkir-v2 frame them.
    pub proof: Vec<u8>,
    pub public_inputs: Vec<Fr>,
    pub k: u8,
    pub proving_ms: f64,
}

pub struct Prover {
    keys: KeyStore,
    key_cache_dir: PathBuf,
    params: ParamsStore,
    scheduler: Scheduler,
    memory_limit_bytes: Option<u64>,
    cache_limit_bytes: u64,
    budget: Arc<Budget>,
    /// The k values whose parameters were counted as held.
    params_held: Mutex<Vec<u8>>,
    started: Instant,
    closed: AtomicBool,
    completed: AtomicU64,
    failed: AtomicU64,
    keys_derived: AtomicU64,
    evictions: AtomicU64,
    metrics: Metrics,
    listener: RwLock<Option<Listener>>,
}

impl Prover {
    pub fn new(config: ProverConfig) -> Result<Arc<Prover>> {
        let threads = config.threads.unwrap_or_else(default_threads);
        if threads == 0 || config.max_concurrent == 0 {
            return fail(ErrorCode::InvalidOptions, "threads and maxConcurrent must be at least 1");
        }
        let backend = kernels::backend::from_env().map_err(|e| ProverError::new(ErrorCode::InvalidOptions, e))?;
        kernels::backend::set(backend).map_err(|e| ProverError::new(ErrorCode::InvalidOptions, e))?;
        proving::engines::install();
        let scheduler = Scheduler::new(threads, config.max_concurrent, config.max_queue.unwrap_or(usize::MAX))
            .code(ErrorCode::InvalidOptions, || "cannot start the prover threads".into())?;
        memory::reset_high_water();
        Ok(Arc::new(Prover {
            keys: KeyStore::new(config.circuit_dirs),
            key_cache_dir: config.key_cache_dir,
            params: ParamsStore::with_sources(config.params),
            scheduler,
            memory_limit_bytes: config.memory_limit_bytes,
            cache_limit_bytes: config.memory_limit_bytes.unwrap_or_else(|| memory::physical_bytes() / 2),
            budget: Budget::new(config.memory_limit_bytes),
            params_held: Mutex::default(),
            started: Instant::now(),
            closed: AtomicBool::new(false),
            completed: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            keys_derived: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
            metrics: Metrics::default(),
            listener: RwLock::new(None),
        }))
    }

    /// Receives every proof's started / finished / failed events, on prover threads.
    pub fn set_listener(&self, listener: Listener) {
        *write(&self.listener) = Some(listener);
    }

    fn emit(&self, event: ProofEvent) {
        if let Some(listener) = read(&self.listener).as_ref() {
            listener(event);
        }
    }

    /// Runs a short task (check, verify, preload) on the process's task pool, whose threads
    /// may block on a circuit being loaded; `done` is called exactly once.
    pub fn submit_task<T: Send + 'static>(
        self: &Arc<Self>,
        task: impl FnOnce(&Prover) -> Result<T> + Send + 'static,
        done: impl FnOnce(Result<T>) + Send + 'static,
    ) {
        if let Err(e) = self.ensure_open() {
            return done(Err(e));
        }
        let this = self.clone();
        tasks::global().spawn(move || task(&this), done);
    }

    /// Runs the circuit on the witness without proving; same result as zkir-v2's `check`.
    pub fn check_now(&self, circuit: impl Into<CircuitRef>, witness: Witness) -> Result<Vec<Option<usize>>> {
        let circuit_ref = circuit.into();
        let circuit = self.loaded(&circuit_ref)?;
        Ok(check_preimage(&circuit, &witness.into_preimage(circuit_ref.label())?)?.pi_skips)
    }

    /// The circuit's k: the k a kmProvider's `getParams` is asked for. A loaded circuit answers
    /// (a lookup and a hash of key material), so the IR's cost model (~0.4 s for the zswap
    /// output) runs once, not before every proof. Key material not loaded yet is not loaded here:
    /// its parameters are asked for before its keys are read.
    pub fn circuit_k_now(&self, circuit: impl Into<CircuitRef>) -> Result<u8> {
        let circuit = circuit.into();
        match &circuit {
            CircuitRef::Material { ir, .. } => match self.keys.peek(&self.store_key(&circuit)) {
                Some(loaded) => Ok(loaded.k),
                None => Ok(parse_ir_k(ir)?.1),
            },
            CircuitRef::Id(_) => Ok(self.loaded(&circuit)?.k),
        }
    }

    /// Whether `proof` (tagged `proof[v5]` bytes) proves `public_inputs` for the circuit, with
    /// the verifier side of the parameters the circuit proves with: a proof made with other
    /// parameters (development ones against Midnight's, or the reverse) does not verify.
    pub fn verify_now(&self, circuit_id: &str, proof: &[u8], public_inputs: Vec<Fr>) -> Result<bool> {
        let circuit = self.circuit(circuit_id)?;
        self.params_for(circuit.k)?;
        let verifier = self.params.get(circuit.k)?.verifier;
        let Ok(proof) = serialize::tagged_deserialize::<Proof>(&mut &proof[..]) else {
            return Ok(false);
        };
        // On the pool: verification runs parallel loops, which would otherwise start rayon's
        // global pool.
        self.scheduler.install(|| circuit.verifier_key.verify(&verifier, &proof, public_inputs.into_iter()).is_ok())
    }

    /// Whether a proof at `k` can find its parameters without a caller handing them in.
    pub fn params_at_hand(&self, k: u8) -> bool {
        self.params.at_hand(k)
    }

    /// Holds parameters a caller handed in as file bytes (checked against Midnight's pin).
    pub fn add_params(&self, k: u8, file: &[u8]) -> Result<()> {
        self.params.add_file(k, file)
    }

    /// Loads circuits and their parameters ahead of the first proof.
    pub fn preload_now(&self, ids: &[String]) -> Result<()> {
        for id in ids {
            let circuit = self.circuit(id)?;
            self.params_for(circuit.k)?;
        }
        Ok(())
    }

    /// Rejects new work from now on; work already submitted still completes.
    pub fn close(&self) {
        self.closed.store(true, SeqCst);
    }

    /// Gives back everything the prover holds, once it is closed and no work is left: loaded
    /// circuits, its threads, and the event listener (which holds a JS callback; the callback
    /// holds the JS prover, a cycle no garbage collector sees through).
    pub fn release(&self) {
        self.keys.clear();
        lock(&self.params_held).clear();
        self.budget.clear_held();
        self.scheduler.shut_down();
        write(&self.listener).take();
        memory::release_free_memory();
    }

    fn ensure_open(&self) -> Result<()> {
        if self.closed.load(SeqCst) {
            return fail(ErrorCode::ProverClosed, "the prover is closed");
        }
        Ok(())
    }
}

#[cfg(test)]
mod location_tests;
#[cfg(test)]
mod tests;
