//! The proving engine: key store, parameters and scheduler behind one handle.
use super::budget::{self, Budget, BudgetStatus, Reservation, Shape};
use super::builtin;
use super::circuit::{gzip_isize, prover_key_size, Artifacts, Circuit};
use super::error::{fail, ErrorCode, ProverError, Result, WithCode};
use super::keystore::{KeyStore, Source};
use super::memory::{self, ProofWindow};
use super::metrics::{Gauges, Metrics};
use super::params::{ParamsSources, ParamsStore, ReadyParams};
use super::scheduler::{CancelHandle, Overloaded, Scheduler, Start};
use super::sync::{lock, read, write};
use super::tasks::{self, TaskStatus};
use super::witness::Witness;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;
use transient_crypto::curve::Fr;
use transient_crypto::proofs::{Proof, Zkir, PARAMS_VERIFIER};

pub struct ProverConfig {
    pub circuit_dirs: Vec<PathBuf>,
    pub params: ParamsSources,
    pub threads: usize,
    pub max_concurrent: usize,
    /// Proofs that may wait for a driver; beyond that `prove` fails with PROVER_OVERLOADED.
    pub max_queue: usize,
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
    Material { location: String, ir: Vec<u8>, prover: Vec<u8>, verifier: Vec<u8> },
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
    pub memory_limit_bytes: Option<u64>,
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
    pub msm: super::msm::TableStatus,
    pub uptime_ms: f64,
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

/// The CPUs this process may use (affinity and cgroup quota included).
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

impl Prover {
    pub fn new(config: ProverConfig) -> Result<Arc<Prover>> {
        if config.threads == 0 || config.max_concurrent == 0 {
            return fail(ErrorCode::InvalidOptions, "threads and maxConcurrent must be at least 1");
        }
        super::msm::install();
        let scheduler = Scheduler::new(config.threads, config.max_concurrent, config.max_queue)
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

    /// Queues a proof; `done` is called exactly once: from a prover thread when it ran, or from
    /// the calling thread when it was refused or withdrawn through `cancel`. `proof_id` only
    /// labels the proof's events.
    pub fn submit_prove(
        self: &Arc<Self>,
        proof_id: u64,
        circuit: CircuitRef,
        witness: Witness,
        binding_input: Option<Fr>,
        cancel: &CancelHandle,
        done: impl FnOnce(Result<ProofOutput>) + Send + 'static,
    ) {
        if let Err(e) = self.ensure_open() {
            return done(Err(e));
        }
        let this = self.clone();
        let submitted = Instant::now();
        let circuit_id = circuit.label().to_owned();
        let waker = cancel.clone();
        let job = move |start: Start| match start {
            Start::Withdrawn => done(fail(ErrorCode::Aborted, "the proof was withdrawn before it started")),
            Start::Refused(Overloaded(running, waiting)) => done(fail(
                ErrorCode::ProverOverloaded,
                format!("{running} proofs running and {waiting} waiting, the queue is full (maxQueue)"),
            )),
            Start::Run(slot) => {
                let key = this.store_key(&circuit);
                // Not started yet: refused by the budget or cancelled while waiting for memory,
                // it ends like a refused or withdrawn proof, without events.
                let reservation = match guarded(|| this.admit(&circuit, &key, &waker)) {
                    Ok(reservation) => reservation,
                    Err(e) => {
                        drop(slot);
                        return done(Err(e));
                    }
                };
                let waited_ms = submitted.elapsed().as_secs_f64() * 1e3;
                let event = |kind| ProofEvent { kind, proof_id, circuit_id: circuit_id.clone(), waited_ms, duration_ms: None, peak_bytes: None, error: None };
                this.emit(event("started"));
                let started = Instant::now();
                let loaded = guarded(|| this.load_reserved(&circuit, &key, &reservation));
                // Opened after the load, which is held memory, not the proof's peak.
                let window = ProofWindow::open();
                let result = loaded.and_then(|c| guarded(|| this.prove_loaded(&c, witness, binding_input)).map(|out| (out, c)));
                let (peak, alone) = (window.peak_bytes(), window.alone());
                drop(window);
                memory::release_free_memory();
                drop(slot);
                // The circuit is let go here, before the reservation: a proof waiting for
                // memory then finds it idle, so evictable.
                let result = result.map(|(out, circuit)| {
                    this.record_peak(&circuit, peak, alone);
                    out
                });
                this.record(&circuit_id, started, &result);
                let end = ProofEvent {
                    duration_ms: Some(started.elapsed().as_secs_f64() * 1e3),
                    peak_bytes: Some(peak),
                    error: result.as_ref().err().cloned(),
                    ..event(if result.is_ok() { "finished" } else { "failed" })
                };
                this.emit(end);
                // Only now: the next proof's `started` then never comes before this `finished`.
                drop(reservation);
                done(result)
            }
        };
        if let Some(ticket) = self.scheduler.submit(job) {
            cancel.attach(ticket);
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

    /// The circuit, loaded on first use with the pool's parallelism (built-ins derive their
    /// prover key first). Not for pool workers.
    fn circuit(&self, circuit_id: &str) -> Result<Arc<Circuit>> {
        let circuit = self.keys.get(circuit_id, |source| {
            let files = match source {
                Source::Files(files) => files,
                Source::Builtin(data) => builtin::provision(data, &self.key_cache_dir, &self.params, |keygen| {
                    self.keys_derived.fetch_add(1, SeqCst);
                    self.scheduler.install(keygen)?
                })?,
            };
            self.held_load(|| Circuit::load(circuit_id, &files))
        })?;
        self.trim(circuit_id);
        Ok(circuit)
    }

    /// The key store's key for a circuit reference. Key material is keyed by its content,
    /// hashed here on the calling thread (a driver or task thread), so equal material is
    /// deserialized once however often it is handed in.
    fn store_key(&self, circuit: &CircuitRef) -> String {
        let CircuitRef::Material { ir, prover, verifier, .. } = circuit else {
            return circuit.label().to_owned();
        };
        let mut hasher = Sha256::new();
        for part in [ir, prover, verifier] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
        format!("sha256:{}", super::files::hex(&hasher.finalize()))
    }

    /// Resolves a circuit reference whose store key is `key`.
    fn resolve(&self, circuit: &CircuitRef, key: &str) -> Result<Arc<Circuit>> {
        let CircuitRef::Material { location, ir, prover, verifier } = circuit else {
            return self.circuit(circuit.label());
        };
        let loaded = self.keys.get_material(key, || {
            let named = |what: &str| format!("{what} of the key material for {location:?}");
            let artifacts = Artifacts { ir: (ir, named("IR")), prover: (prover, named("prover key")), verifier: (verifier, named("verifier key")) };
            self.held_load(|| Circuit::from_artifacts(location, artifacts))
        })?;
        self.trim(key);
        Ok(loaded)
    }

    /// Runs a circuit load on the pool; its memory counts as held in the budget from then on.
    fn held_load(&self, load: impl FnOnce() -> Result<Circuit> + Send) -> Result<Circuit> {
        let before = memory::live_bytes();
        let circuit = self.scheduler.install(load)??;
        let measured = memory::live_bytes().saturating_sub(before);
        let held = budget::loaded_size((circuit.prover_key_bytes, circuit.k, circuit.rows), measured);
        self.budget.hold(held);
        circuit.load_bytes.store(held, SeqCst);
        Ok(circuit)
    }

    /// Evicts idle circuits while more than `MAX_LOADED_CIRCUITS` are loaded or held memory is
    /// past the cache limit; `keep` (just loaded by the caller) stays.
    fn trim(&self, keep: &str) {
        while (self.keys.len() > MAX_LOADED_CIRCUITS || self.budget.status().held > self.cache_limit_bytes) && self.evict_one(keep) {}
    }

    /// Evicts the least recently used idle circuit other than `keep`, giving its held memory
    /// back to the budget. False when no circuit is idle.
    fn evict_one(&self, keep: &str) -> bool {
        let Some(circuit) = self.keys.evict_idle(keep) else { return false };
        self.budget.release(circuit.load_bytes.load(SeqCst));
        self.evictions.fetch_add(1, SeqCst);
        drop(circuit);
        memory::release_free_memory();
        true
    }

    /// The parameters for `k`; the first time this prover needs them they count as held. No
    /// lock is held while they load, so proofs of other k never wait for this one.
    fn params_for(&self, k: u8) -> Result<()> {
        if lock(&self.params_held).contains(&k) {
            return Ok(());
        }
        let before = memory::live_bytes();
        let params = self.params.get(k)?;
        // The MSM engine's tables count with the parameters they serve; under a memory limit
        // the fixed-base ones may take an eighth of it.
        let fixed_budget = self.memory_limit_bytes.map_or(u64::MAX, |limit| limit / 8);
        let mapped = self.scheduler.install(|| super::msm::prepare(&params.0, fixed_budget, Some(&self.key_cache_dir)))?;
        let mut held = lock(&self.params_held);
        if !held.contains(&k) {
            // Parameters are shared by the process (k <= 14) or loaded once: the same
            // fingerprint scheme as keys keeps a second prover from counting them as free.
            let bytes = budget::loaded_size((0, k, 0), memory::live_bytes().saturating_sub(before) + mapped);
            self.budget.hold(bytes);
            held.push(k);
        }
        Ok(())
    }

    /// Waits, on the driver thread, until the proof's memory fits in the budget, evicting idle
    /// circuits (never the one it needs) to make room.
    fn admit(&self, circuit: &CircuitRef, key: &str, cancel: &CancelHandle) -> Result<Reservation> {
        let need = self.proof_need(circuit, key);
        self.budget.reserve(circuit.label(), need, cancel, &|| self.evict_one(key)).map_err(|denied| denied.into_error(circuit.label()))
    }

    /// What a proof reserves: its peak, plus the load for a circuit not loaded yet. An id that
    /// names no circuit needs nothing; proving it fails as usual.
    fn proof_need(&self, circuit: &CircuitRef, key: &str) -> u64 {
        if let Some(loaded) = self.keys.peek(key) {
            return loaded_need(&loaded);
        }
        let key_bytes = match circuit {
            CircuitRef::Material { prover, .. } => Some(gzip_isize(prover)),
            CircuitRef::Id(id) => self.keys.prover_file(id, &self.key_cache_dir).and_then(|path| prover_key_size(&path)),
        };
        key_bytes.map_or(0, |bytes| budget::load_formula(bytes) + budget::first_peak_formula(bytes))
    }

    /// Loads what the proof needs and lowers its reservation to the proof's own peak, now that
    /// the load is held memory.
    fn load_reserved(&self, circuit: &CircuitRef, key: &str, reservation: &Reservation) -> Result<Arc<Circuit>> {
        let circuit = self.resolve(circuit, key)?;
        self.params_for(circuit.k)?;
        reservation.shrink_to(loaded_need(&circuit));
        Ok(circuit)
    }

    /// Proves on the calling thread, which must not be a pool worker: it loads what is missing,
    /// then hands the computation to the pool.
    pub fn prove_now(&self, circuit: impl Into<CircuitRef>, witness: Witness, binding_input: Option<Fr>) -> Result<ProofOutput> {
        let circuit = circuit.into();
        let circuit = self.resolve(&circuit, &self.store_key(&circuit))?;
        self.prove_loaded(&circuit, witness, binding_input)
    }

    fn prove_loaded(&self, circuit: &Arc<Circuit>, witness: Witness, binding_input: Option<Fr>) -> Result<ProofOutput> {
        self.prove_with_rng(circuit, witness, binding_input, rand::rngs::OsRng)
    }

    /// `prove_loaded` with the proof's randomness from `rng` (a seeded one makes proofs
    /// reproducible, for tests).
    fn prove_with_rng(
        &self,
        circuit: &Arc<Circuit>,
        witness: Witness,
        binding_input: Option<Fr>,
        rng: impl rand::RngCore + rand::CryptoRng + Send,
    ) -> Result<ProofOutput> {
        let started = Instant::now();
        let circuit_id = circuit.id.as_str();
        let mut preimage = witness.into_preimage(circuit_id)?;
        if let Some(b) = binding_input {
            preimage.binding_input = b;
        }
        self.params_for(circuit.k)?;
        let params = ReadyParams(&self.params);
        let (proof, public_inputs) = self.scheduler.install(|| {
            check_preimage(&circuit, &preimage)?;
            let proving = circuit.ir.prove(rng, &params, circuit.prover_key.clone(), &preimage);
            let (proof, public_inputs, _) =
                super::ready::run_ready(proving).code(ErrorCode::ProofFailed, || format!("proving {circuit_id}"))?;
            // The same self-check the ledger's prover makes: never hand out a proof that fails.
            circuit
                .verifier_key
                .verify(&PARAMS_VERIFIER, &proof, public_inputs.iter().copied())
                .code(ErrorCode::ProofFailed, || format!("{circuit_id}: the new proof does not verify; do the keys match the IR?"))?;
            Ok::<_, ProverError>((proof, public_inputs))
        })??;
        let mut framed = Vec::new();
        serialize::tagged_serialize(&proof, &mut framed).expect("in-memory serialization");
        Ok(ProofOutput {
            circuit_id: circuit_id.to_owned(),
            proof: framed,
            public_inputs,
            k: circuit.k,
            proving_ms: started.elapsed().as_secs_f64() * 1e3,
        })
    }

    /// Runs the circuit on the witness without proving; same result as zkir-v2's `check`.
    pub fn check_now(&self, circuit: impl Into<CircuitRef>, witness: Witness) -> Result<Vec<Option<usize>>> {
        let circuit_ref = circuit.into();
        let circuit = self.resolve(&circuit_ref, &self.store_key(&circuit_ref))?;
        check_preimage(&circuit, &witness.into_preimage(circuit_ref.label())?)
    }

    /// Whether `proof` (tagged `proof[v5]` bytes) proves `public_inputs` for the circuit.
    pub fn verify_now(&self, circuit_id: &str, proof: &[u8], public_inputs: Vec<Fr>) -> Result<bool> {
        let circuit = self.circuit(circuit_id)?;
        let Ok(proof) = serialize::tagged_deserialize::<Proof>(&mut &proof[..]) else {
            return Ok(false);
        };
        // On the pool: verification runs parallel loops, which would otherwise start rayon's
        // global pool.
        self.scheduler.install(|| circuit.verifier_key.verify(&PARAMS_VERIFIER, &proof, public_inputs.into_iter()).is_ok())
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


    /// (running, waiting) proofs. A proof runs from the moment the budget grants its
    /// reservation (when its `started` event fires); before that it waits, for a driver or for
    /// memory. Every proof reserves, with or without a limit.
    fn depth(&self, budget: &BudgetStatus) -> (usize, usize) {
        let in_flight = self.scheduler.in_flight();
        let running = budget.reservations.len().min(in_flight);
        (running, in_flight - running)
    }

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
            memory_limit_bytes: self.memory_limit_bytes,
            budget,
            peak_native_bytes: memory::high_water_bytes(),
            proofs_completed: self.completed.load(SeqCst),
            proofs_failed: self.failed.load(SeqCst),
            keys_derived: self.keys_derived.load(SeqCst),
            circuits_evicted: self.evictions.load(SeqCst),
            cache_limit_bytes: self.cache_limit_bytes,
            max_loaded_circuits: MAX_LOADED_CIRCUITS,
            tasks: tasks::global().status(),
            msm: super::msm::status(),
            uptime_ms: self.started.elapsed().as_secs_f64() * 1e3,
        }
    }

    fn record_peak(&self, circuit: &Circuit, peak_bytes: u64, alone: bool) {
        circuit.peak_proof_bytes.fetch_max(peak_bytes, SeqCst);
        lock(&circuit.measured).record(peak_bytes, alone);
    }

    /// Counts a finished proof. Ids that name no circuit are labelled "unknown", and the
    /// metrics cap how many labels they keep, so callers cannot grow them without bound.
    fn record(&self, circuit_id: &str, started: Instant, result: &Result<ProofOutput>) {
        let counter = if result.is_ok() { &self.completed } else { &self.failed };
        counter.fetch_add(1, SeqCst);
        let unknown = matches!(result, Err(e) if matches!(e.code, ErrorCode::CircuitNotFound | ErrorCode::InvalidCircuitId));
        let label = if unknown { "unknown" } else { circuit_id };
        self.metrics.record_proof(label, started.elapsed().as_secs_f64(), result.is_ok());
    }

    /// Prometheus text exposition of the prover's metrics.
    pub fn metrics_text(&self) -> String {
        let (active_proofs, queue_depth) = self.depth(&self.budget.status());
        self.metrics.render(&Gauges {
            memory_bytes: memory::live_bytes(),
            memory_limit_bytes: self.memory_limit_bytes,
            queue_depth,
            active_proofs,
            loaded_circuits: self.keys.loaded().len(),
            circuits_evicted: self.evictions.load(SeqCst),
            tasks: tasks::global().status(),
            msm_table_bytes: super::msm::status().bytes,
            key_load_seconds: self.keys.loaded().iter().map(|c| (c.id.clone(), c.load_ms / 1e3)).collect(),
        })
    }

    fn ensure_open(&self) -> Result<()> {
        if self.closed.load(SeqCst) {
            return fail(ErrorCode::ProverClosed, "the prover is closed");
        }
        Ok(())
    }

    fn circuit_status(&self, c: &Circuit) -> CircuitStatus {
        CircuitStatus {
            id: c.id.clone(),
            k: c.k,
            rows: c.rows,
            prover_key_bytes: c.prover_key_bytes,
            load_ms: c.load_ms,
            peak_proof_bytes: c.peak_proof_bytes.load(SeqCst),
            columns: shape(c).columns,
            load_bytes: c.load_bytes.load(SeqCst),
            reserve_bytes: loaded_need(c),
        }
    }
}

/// What a proof of a loaded circuit reserves.
fn loaded_need(circuit: &Circuit) -> u64 {
    lock(&circuit.measured).proof_need(shape(circuit))
}

fn shape(c: &Circuit) -> Shape {
    let columns = c.prover_key.init().map(|pk| {
        let cs = pk.pk().get_vk().cs();
        cs.num_advice_columns() + cs.num_fixed_columns() + cs.num_instance_columns()
    });
    Shape { k: c.k, rows: c.rows, columns: columns.unwrap_or(1) }
}

/// Shape errors are the caller's (INVALID_WITNESS); a VM failure means the witness does not
/// satisfy the circuit (WITNESS_UNSATISFIED), and its message says which constraint failed.
fn check_preimage(circuit: &Circuit, preimage: &transient_crypto::proofs::ProofPreimage) -> Result<Vec<Option<usize>>> {
    check_against_ir(&circuit.ir, &circuit.id, preimage)
}

/// `check` against bare IR (no keys needed), as the proof server's `/check` does with the IR a
/// client sends; `id` names the circuit in messages.
pub fn check_against_ir(ir: &midnight_zkir::IrSource, id: &str, preimage: &transient_crypto::proofs::ProofPreimage) -> Result<Vec<Option<usize>>> {
    let expected = ir.num_inputs as usize;
    if preimage.inputs.len() != expected {
        return fail(
            ErrorCode::InvalidWitness,
            format!("{id} takes {expected} inputs, the witness has {}", preimage.inputs.len()),
        );
    }
    if ir.do_communications_commitment && preimage.communications_commitment.is_none() {
        return fail(ErrorCode::InvalidWitness, format!("{id} needs witness.communicationsCommitment"));
    }
    // The VM panics on witness values no check can rule out beforehand (EC coordinates that are
    // not a point): that is the witness failing the circuit too.
    super::ir_check::unwind_as(ErrorCode::WitnessUnsatisfied, || format!("{id} rejects the witness (the IR VM panicked)"), || {
        ir.check(preimage).code(ErrorCode::WitnessUnsatisfied, || format!("{id} rejects the witness"))
    })
}

/// A panic anywhere below becomes a PROVER_PANIC error instead of unwinding into Node.
pub fn guarded<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(ProverError::new(ErrorCode::ProverPanic, format!("the prover panicked: {what}")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::keygen::keygen;
    use std::path::Path;

    fn circuit_source(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("__test__/circuits").join(name)
    }

    fn witness(name: &str) -> Witness {
        Witness::Json(std::fs::read_to_string(circuit_source(name)).unwrap())
    }

    /// A Compact-layout directory with keys generated for our test circuits.
    fn compact_dir(ids: &[&str]) -> PathBuf {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!("mnp-core-{}-{}", std::process::id(), N.fetch_add(1, SeqCst)));
        for sub in ["keys", "zkir"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        for id in ids {
            let ir = std::fs::read(circuit_source(&format!("{id}.zkir"))).unwrap();
            let keys = keygen(&ir, &ParamsStore::new(vec![])).unwrap();
            std::fs::write(dir.join("zkir").join(format!("{id}.zkir")), &ir).unwrap();
            std::fs::write(dir.join("keys").join(format!("{id}.prover")), keys.prover_key).unwrap();
            std::fs::write(dir.join("keys").join(format!("{id}.verifier")), keys.verifier_key).unwrap();
        }
        dir
    }

    fn prover_with(dir: PathBuf, max_concurrent: usize) -> Arc<Prover> {
        limited(dir, max_concurrent, None)
    }

    fn limited(dir: PathBuf, max_concurrent: usize, memory_limit_bytes: Option<u64>) -> Arc<Prover> {
        let key_cache_dir = std::env::temp_dir().join("mnp-test-keys");
        Prover::new(ProverConfig { circuit_dirs: vec![dir], params: ParamsSources::default(), threads: 2, max_concurrent, max_queue: 32, memory_limit_bytes, key_cache_dir }).unwrap()
    }

    fn prover(dir: PathBuf) -> Arc<Prover> {
        prover_with(dir, 1)
    }

    #[test]
    fn overlapping_proofs_on_one_pool_all_succeed() {
        // More proofs than drivers, all on one circuit: workers busy loading it or inside one
        // proof steal others' work. Before jobs ran on driver threads this deadlocked (a stolen
        // proof blocked on the circuit its own worker was loading).
        let p = prover_with(compact_dir(&["bench_k10"]), 2);
        let (tx, rx) = std::sync::mpsc::channel();
        for id in 0..12 {
            let tx = tx.clone();
            p.submit_prove(id, "bench_k10".into(), witness("bench_k10.witness.json"), None, &CancelHandle::default(), move |r| tx.send(r).unwrap());
        }
        for _ in 0..12 {
            let out = rx.recv().unwrap().unwrap();
            assert!(p.verify_now("bench_k10", &out.proof, out.public_inputs).unwrap());
        }
    }

    #[test]
    fn a_proof_that_cannot_fit_the_budget_is_refused_and_one_that_fits_reserves_its_measured_peak() {
        let dir = compact_dir(&["arith"]);
        let refuse = |p: &Arc<Prover>| {
            let (tx, rx) = std::sync::mpsc::channel();
            p.submit_prove(1, "arith".into(), witness("arith.witness.json"), None, &CancelHandle::default(), move |r| tx.send(r).unwrap());
            rx.recv().unwrap().err().unwrap()
        };
        // Not loaded yet: its key's size says the load alone is beyond 64 KiB.
        let err = refuse(&limited(dir.clone(), 2, Some(64 << 10)));
        assert_eq!(err.code, ErrorCode::MemoryLimitExceeded);
        assert!(err.message.contains("the limit is 0.1 MiB (memoryLimit)"), "{}", err.message);
        let p = limited(dir, 2, Some(1 << 30));
        let (tx, rx) = std::sync::mpsc::channel();
        p.submit_prove(2, "arith".into(), witness("arith.witness.json"), None, &CancelHandle::default(), move |r| tx.send(r).unwrap());
        rx.recv().unwrap().unwrap();
        let status = p.status();
        let circuit = &status.circuits[0];
        assert!(status.budget.held >= circuit.load_bytes && circuit.load_bytes > 0, "the loaded key is held");
        assert_eq!(circuit.reserve_bytes, circuit.peak_proof_bytes, "the next proof reserves the peak measured alone");
        assert_eq!((status.budget.reserved, status.budget.reservations.len()), (0, 0), "freed when the proof ended");
        assert!(status.peak_native_bytes >= status.budget.held + circuit.peak_proof_bytes);
        assert_eq!(status.proofs_completed, 1);
    }

    #[test]
    fn idle_circuits_are_evicted_least_recent_first_and_one_in_use_never_is() {
        let dir = compact_dir(&["arith", "ecc"]);
        let probe = limited(dir.clone(), 1, None);
        probe.preload_now(&["arith".into(), "ecc".into()]).unwrap();
        let held_both = probe.status().budget.held;
        let arith_load = probe.status().circuits.iter().find(|c| c.id == "arith").unwrap().load_bytes;
        assert!(arith_load > 0);

        // Room for less than both: loading ecc evicts arith, the least recently used.
        let p = limited(dir.clone(), 1, Some(held_both - 1));
        p.preload_now(&["arith".into()]).unwrap();
        p.preload_now(&["ecc".into()]).unwrap();
        let s = p.status();
        assert_eq!(s.circuits.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["ecc"]);
        assert_eq!((s.circuits_evicted, s.budget.held), (1, held_both - arith_load), "held memory shrank by arith's load");
        // Proving arith again reloads it (evicting ecc to make room) and succeeds.
        let out = p.prove_now("arith", witness("arith.witness.json"), None).unwrap();
        assert!(p.verify_now("arith", &out.proof, out.public_inputs).unwrap());

        // A circuit in use is never evicted, even past the limit.
        let q = limited(dir, 1, Some(held_both - 1));
        let in_use = q.circuit("arith").unwrap();
        q.preload_now(&["ecc".into()]).unwrap();
        assert_eq!(q.status().circuits.len(), 2);
        assert_eq!(q.status().circuits_evicted, 0);
        drop(in_use);

        // A failed load leaves no entry behind.
        let before = q.keys.len();
        assert_eq!(q.circuit("nope").err().unwrap().code, ErrorCode::CircuitNotFound);
        assert_eq!(q.keys.len(), before);
    }

    #[test]
    fn release_ends_the_provers_threads() {
        let p = prover(compact_dir(&["arith"]));
        p.prove_now("arith", witness("arith.witness.json"), None).unwrap();
        assert!(p.status().live_threads >= 2, "a driver and the pool's workers");
        p.close();
        p.release();
        let deadline = Instant::now() + std::time::Duration::from_secs(5);
        while p.status().live_threads > 0 && Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(p.status().live_threads, 0);
        assert_eq!(p.prove_now("arith", witness("arith.witness.json"), None).err().unwrap().code, ErrorCode::ProverClosed);
    }

    #[test]
    fn concurrent_first_uses_share_one_load() {
        let p = prover(compact_dir(&["arith"]));
        let loaded: Vec<Arc<Circuit>> =
            std::thread::scope(|s| (0..4).map(|_| s.spawn(|| p.circuit("arith").unwrap())).collect::<Vec<_>>().into_iter().map(|h| h.join().unwrap()).collect());
        assert!(loaded.iter().all(|c| Arc::ptr_eq(c, &loaded[0])));
        assert_eq!(p.status().circuits.len(), 1);
    }

    #[test]
    fn proves_and_verifies_on_the_pool() {
        let p = prover(compact_dir(&["arith"]));
        let (tx, rx) = std::sync::mpsc::channel();
        let events = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = events.clone();
        p.set_listener(Arc::new(move |e: ProofEvent| seen.lock().unwrap().push(e)));
        p.submit_prove(7, "arith".into(), witness("arith.witness.json"), None, &CancelHandle::default(), move |r| tx.send(r).unwrap());
        let out = rx.recv().unwrap().unwrap();
        let events = events.lock().unwrap().clone();
        assert_eq!(events.iter().map(|e| (e.kind, e.proof_id)).collect::<Vec<_>>(), vec![("started", 7), ("finished", 7)]);
        let peak = events[1].peak_bytes.unwrap();
        assert!(peak > 0 && events[1].duration_ms.unwrap() > 0.0);
        assert_eq!(p.status().circuits[0].peak_proof_bytes, peak);
        assert!(out.proof.starts_with(b"midnight:proof[v5]:"));
        assert!(p.verify_now("arith", &out.proof, out.public_inputs.clone()).unwrap());
        let mut wrong = out.public_inputs.clone();
        wrong[1] = wrong[1] + Fr::from(1u64);
        assert!(!p.verify_now("arith", &out.proof, wrong).unwrap());
        assert_eq!(p.status().proofs_completed, 1);
    }

    #[test]
    fn proofs_with_the_msm_engine_equal_those_without_byte_for_byte() {
        use rand::SeedableRng;
        let p = prover(compact_dir(&["bench_k10"]));
        let circuit = p.circuit("bench_k10").unwrap();
        let prove = |engine: bool| {
            super::super::msm::set_enabled(engine);
            let out = p.prove_with_rng(&circuit, witness("bench_k10.witness.json"), None, rand::rngs::StdRng::seed_from_u64(11));
            super::super::msm::set_enabled(true);
            out.unwrap()
        };
        let (upstream, ours) = (prove(false), prove(true));
        assert_eq!(upstream.proof, ours.proof);
        assert!(p.verify_now("bench_k10", &ours.proof, ours.public_inputs).unwrap());
        assert!(p.status().msm.bytes >= 2 * 1024 * 96, "the k=10 SRS vectors are held affine");
    }

    #[test]
    fn unsatisfied_witness_and_panics_are_typed_errors() {
        let p = prover(compact_dir(&["arith", "ecc"]));
        let err = p.prove_now("arith", witness("arith.bad.witness.json"), None).err().unwrap();
        assert_eq!(err.code, ErrorCode::WitnessUnsatisfied);
        assert!(err.message.contains("Failed equality constraint"), "{}", err.message);
        let err = p.prove_now("ecc", witness("ecc.bad-offcurve.witness.json"), None).err().unwrap();
        assert_eq!(err.code, ErrorCode::WitnessUnsatisfied, "an off-curve point fails the circuit: {}", err.message);
        let err = guarded(|| -> Result<()> { panic!("a bug") }).unwrap_err();
        assert_eq!((err.code, err.message.as_str()), (ErrorCode::ProverPanic, "the prover panicked: a bug"));
        assert!(p.prove_now("arith", witness("arith.witness.json"), None).is_ok());
    }

    #[test]
    fn cancelled_queued_proof_never_runs_and_closed_prover_rejects() {
        let p = prover(compact_dir(&["arith"]));
        let cancel = CancelHandle::default();
        cancel.cancel();
        let (tx, rx) = std::sync::mpsc::channel();
        p.submit_prove(1, "arith".into(), witness("arith.witness.json"), None, &cancel, move |r| tx.send(r).unwrap());
        assert_eq!(rx.recv().unwrap().err().unwrap().code, ErrorCode::Aborted);
        assert_eq!(p.status().proofs_completed + p.status().proofs_failed, 0);
        p.close();
        let (tx, rx) = std::sync::mpsc::channel();
        p.submit_task(|p| p.check_now("arith", witness("arith.witness.json")), move |r| tx.send(r).unwrap());
        assert_eq!(rx.recv().unwrap().err().unwrap().code, ErrorCode::ProverClosed);
    }
}
