//! The proving engine: key store, parameters and scheduler behind one handle.
use super::circuit::Circuit;
use super::error::{fail, ErrorCode, ProverError, Result, WithCode};
use super::keystore::KeyStore;
use super::memory;
use super::params::{ParamsStore, ReadyParams};
use super::scheduler::{CancelFlag, Scheduler};
use super::witness::Witness;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Instant;
use transient_crypto::curve::Fr;
use transient_crypto::proofs::{Proof, Zkir, PARAMS_VERIFIER};

pub struct ProverConfig {
    pub circuit_dirs: Vec<PathBuf>,
    pub params_dirs: Vec<PathBuf>,
    pub threads: usize,
    pub max_concurrent: usize,
    pub memory_limit_bytes: Option<u64>,
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
}

pub struct Status {
    pub circuits: Vec<CircuitStatus>,
    pub available: Vec<String>,
    pub params_k: Vec<u8>,
    pub active_proofs: usize,
    pub queued_proofs: usize,
    pub threads: usize,
    pub native_bytes: u64,
    pub rss_bytes: u64,
    pub memory_limit_bytes: Option<u64>,
    pub proofs_completed: u64,
    pub proofs_failed: u64,
    pub uptime_ms: f64,
}

pub struct Prover {
    keys: KeyStore,
    params: ParamsStore,
    scheduler: Scheduler,
    memory_limit_bytes: Option<u64>,
    started: Instant,
    closed: AtomicBool,
    completed: AtomicU64,
    failed: AtomicU64,
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
        let scheduler = Scheduler::new(config.threads, config.max_concurrent)
            .code(ErrorCode::InvalidOptions, || "cannot start the prover threads".into())?;
        Ok(Arc::new(Prover {
            keys: KeyStore::new(config.circuit_dirs),
            params: ParamsStore::new(config.params_dirs),
            scheduler,
            memory_limit_bytes: config.memory_limit_bytes,
            started: Instant::now(),
            closed: AtomicBool::new(false),
            completed: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        }))
    }

    /// Queues a proof; `done` is called exactly once, from a prover thread.
    pub fn submit_prove(
        self: &Arc<Self>,
        circuit_id: String,
        witness: Witness,
        binding_input: Option<Fr>,
        cancel: CancelFlag,
        done: impl FnOnce(Result<ProofOutput>) + Send + 'static,
    ) {
        if let Err(e) = self.ensure_open() {
            return done(Err(e));
        }
        let this = self.clone();
        self.scheduler.submit(move || {
            if cancel.is_cancelled() {
                return done(fail(ErrorCode::Aborted, "the proof was aborted before it started"));
            }
            let result = guarded(|| this.prove_now(&circuit_id, witness, binding_input));
            let counter = if result.is_ok() { &this.completed } else { &this.failed };
            counter.fetch_add(1, SeqCst);
            done(result)
        });
    }

    /// Runs a short task (check, verify, preload) on the pool; `done` is called exactly once.
    pub fn submit_task<T: Send + 'static>(
        self: &Arc<Self>,
        task: impl FnOnce(&Prover) -> Result<T> + Send + 'static,
        done: impl FnOnce(Result<T>) + Send + 'static,
    ) {
        if let Err(e) = self.ensure_open() {
            return done(Err(e));
        }
        let this = self.clone();
        self.scheduler.spawn(move || done(guarded(|| task(&this))));
    }

    /// Proves on the calling thread; callers on the pool get the pool's parallelism.
    pub fn prove_now(&self, circuit_id: &str, witness: Witness, binding_input: Option<Fr>) -> Result<ProofOutput> {
        let started = Instant::now();
        let circuit = self.keys.get(circuit_id)?;
        let mut preimage = witness.into_preimage(circuit_id)?;
        if let Some(b) = binding_input {
            preimage.binding_input = b;
        }
        check_preimage(&circuit, &preimage)?;
        self.params.get(circuit.k)?;
        let rng = rand::rngs::OsRng;
        let (proof, public_inputs, _) =
            futures_executor::block_on(circuit.ir.prove(rng, &ReadyParams(&self.params), circuit.prover_key.clone(), &preimage))
                .code(ErrorCode::ProofFailed, || format!("proving {circuit_id}"))?;
        // The same self-check the ledger's prover makes: never hand out a proof that fails.
        circuit
            .verifier_key
            .verify(&PARAMS_VERIFIER, &proof, public_inputs.iter().copied())
            .code(ErrorCode::ProofFailed, || format!("{circuit_id}: the new proof does not verify; do the keys match the IR?"))?;
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
    pub fn check_now(&self, circuit_id: &str, witness: Witness) -> Result<Vec<Option<usize>>> {
        let circuit = self.keys.get(circuit_id)?;
        check_preimage(&circuit, &witness.into_preimage(circuit_id)?)
    }

    /// Whether `proof` (tagged `proof[v5]` bytes) proves `public_inputs` for the circuit.
    pub fn verify_now(&self, circuit_id: &str, proof: &[u8], public_inputs: Vec<Fr>) -> Result<bool> {
        let circuit = self.keys.get(circuit_id)?;
        let Ok(proof) = serialize::tagged_deserialize::<Proof>(&mut &proof[..]) else {
            return Ok(false);
        };
        Ok(circuit.verifier_key.verify(&PARAMS_VERIFIER, &proof, public_inputs.into_iter()).is_ok())
    }

    /// Loads circuits and their parameters ahead of the first proof.
    pub fn preload_now(&self, ids: &[String]) -> Result<()> {
        for id in ids {
            let circuit = self.keys.get(id)?;
            self.params.get(circuit.k)?;
        }
        Ok(())
    }

    /// Rejects new work from now on; work already submitted still completes.
    pub fn close(&self) {
        self.closed.store(true, SeqCst);
    }

    /// Releases loaded circuits (after `close` and once no work is left).
    pub fn release(&self) {
        self.keys.clear();
    }

    pub fn status(&self) -> Status {
        let (active_proofs, queued_proofs) = self.scheduler.depth();
        Status {
            circuits: self.keys.loaded().iter().map(|c| circuit_status(c)).collect(),
            available: self.keys.available(),
            params_k: self.params.loaded_ks(),
            active_proofs,
            queued_proofs,
            threads: self.scheduler.threads(),
            native_bytes: memory::live_bytes(),
            rss_bytes: memory::rss_bytes(),
            memory_limit_bytes: self.memory_limit_bytes,
            proofs_completed: self.completed.load(SeqCst),
            proofs_failed: self.failed.load(SeqCst),
            uptime_ms: self.started.elapsed().as_secs_f64() * 1e3,
        }
    }

    fn ensure_open(&self) -> Result<()> {
        if self.closed.load(SeqCst) {
            return fail(ErrorCode::ProverClosed, "the prover is closed");
        }
        Ok(())
    }
}

fn circuit_status(c: &Circuit) -> CircuitStatus {
    CircuitStatus { id: c.id.clone(), k: c.k, rows: c.rows, prover_key_bytes: c.prover_key_bytes, load_ms: c.load_ms }
}

/// Shape errors are the caller's (INVALID_WITNESS); a VM failure means the witness does not
/// satisfy the circuit (WITNESS_UNSATISFIED), and its message says which constraint failed.
fn check_preimage(circuit: &Circuit, preimage: &transient_crypto::proofs::ProofPreimage) -> Result<Vec<Option<usize>>> {
    let expected = circuit.ir.num_inputs as usize;
    if preimage.inputs.len() != expected {
        return fail(
            ErrorCode::InvalidWitness,
            format!("{} takes {expected} inputs, the witness has {}", circuit.id, preimage.inputs.len()),
        );
    }
    if circuit.ir.do_communications_commitment && preimage.communications_commitment.is_none() {
        return fail(ErrorCode::InvalidWitness, format!("{} needs witness.communicationsCommitment", circuit.id));
    }
    circuit.ir.check(preimage).code(ErrorCode::WitnessUnsatisfied, || format!("{} rejects the witness", circuit.id))
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
