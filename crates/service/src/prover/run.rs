//! Running a proof: from the scheduler's start through admission, load and proving to the
//! records, events and the caller's callback.
use super::{CircuitRef, ProofEvent, ProofOutput, Prover};
use crate::scheduler::{CancelHandle, Overloaded, RunSlot, Start};
use proving::circuit::{check_preimage, Circuit};
use proving::error::{fail, guarded, ErrorCode, ProverError, Result, WithCode};
use proving::memory::{self, ProofWindow};
use proving::params::ReadyParams;
use proving::witness::Witness;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::time::Instant;
use transient_crypto::curve::Fr;

/// A submitted proof, until a driver runs it.
struct Job {
    proof_id: u64,
    circuit: CircuitRef,
    witness: Witness,
    binding_input: Option<Fr>,
    cancel: CancelHandle,
    submitted: Instant,
}

impl Prover {
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
        let job = Job { proof_id, circuit, witness, binding_input, cancel: cancel.clone(), submitted: Instant::now() };
        let start = move |start: Start| match start {
            Start::Withdrawn => done(fail(ErrorCode::Aborted, "the proof was withdrawn before it started")),
            Start::Refused(Overloaded(running, waiting)) => {
                done(fail(ErrorCode::ProverOverloaded, format!("{running} proofs running and {waiting} waiting, the queue is full (maxQueue)")))
            }
            Start::Run(slot) => done(this.run(job, slot)),
        };
        if let Some(ticket) = self.scheduler.submit(start) {
            cancel.attach(ticket);
        }
    }

    /// Runs a proof a driver took, holding its `slot`: admission by the budget, load, proof,
    /// then the records and events, in an order other proofs rely on (see the comments).
    fn run(&self, job: Job, slot: RunSlot) -> Result<ProofOutput> {
        let Job { proof_id, circuit, witness, binding_input, cancel, submitted } = job;
        let key = self.store_key(&circuit);
        // Not started yet: refused by the budget or cancelled while waiting for memory, it ends
        // like a refused or withdrawn proof, without events.
        let reservation = guarded(|| self.admit(&circuit, &key, &cancel))?;
        let circuit_id = circuit.label();
        let waited_ms = submitted.elapsed().as_secs_f64() * 1e3;
        let event = |kind| ProofEvent { kind, proof_id, circuit_id: circuit_id.to_owned(), waited_ms, duration_ms: None, peak_bytes: None, error: None };
        self.emit(event("started"));
        let started = Instant::now();
        let loaded = guarded(|| self.load_reserved(&circuit, &key, &reservation));
        // Opened after the load, which is held memory, not the proof's peak.
        let window = ProofWindow::open();
        let result = loaded.and_then(|c| guarded(|| self.prove_loaded(&c, witness, binding_input)).map(|out| (out, c)));
        let (peak, alone) = (window.peak_bytes(), window.alone());
        drop(window);
        memory::release_free_memory();
        drop(slot);
        // The circuit is let go here, before the reservation: a proof waiting for memory then
        // finds it idle, so evictable.
        let result = result.map(|(out, circuit)| {
            self.record_peak(&circuit, peak, alone);
            out
        });
        self.record(circuit_id, started, &result);
        self.emit(ProofEvent {
            duration_ms: Some(started.elapsed().as_secs_f64() * 1e3),
            peak_bytes: Some(peak),
            error: result.as_ref().err().cloned(),
            ..event(if result.is_ok() { "finished" } else { "failed" })
        });
        // Only now: the next proof's `started` then never comes before this `finished`.
        drop(reservation);
        result
    }

    /// Proves on the calling thread, which must not be a pool worker: it loads what is missing,
    /// then hands the computation to the pool.
    pub fn prove_now(&self, circuit: impl Into<CircuitRef>, witness: Witness, binding_input: Option<Fr>) -> Result<ProofOutput> {
        let circuit = circuit.into();
        let circuit = self.loaded(&circuit)?;
        self.prove_loaded(&circuit, witness, binding_input)
    }

    pub(super) fn prove_loaded(&self, circuit: &Arc<Circuit>, witness: Witness, binding_input: Option<Fr>) -> Result<ProofOutput> {
        self.prove_with_rng(circuit, witness, binding_input, rand::rngs::OsRng)
    }

    /// A failed proof of a circuit whose mapped key file changed under it (truncated: pages
    /// lost; rewritten in place: checksums off) withdraws the circuit, so the next proof loads
    /// it again from a rebuilt file, and says so in the error.
    fn after_failure(&self, circuit: &Arc<Circuit>, e: ProverError) -> ProverError {
        let Some(map) = circuit.key_map.as_ref().filter(|m| !m.intact()) else { return e };
        if self.keys.withdraw(circuit) {
            self.budget.release(circuit.load_bytes.swap(0, SeqCst));
        }
        let why = format!("its mapped key file {} changed under the proof ({} pages lost); it is rebuilt at the next load", map.path.display(), map.faults());
        ProverError::new(e.code, format!("{}: {why}", e.message))
    }

    /// `prove_loaded` with the proof's randomness from `rng` (a seeded one makes proofs
    /// reproducible, for tests).
    pub(super) fn prove_with_rng(
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
        // Development parameters' proofs are checked against their own setup, Midnight's against
        // Midnight's verifier parameters: the same check the ledger's prover makes.
        let verifier = self.params.get(circuit.k)?.verifier;
        let params = ReadyParams(&self.params);
        let (proof, public_inputs) = self
            .scheduler
            .install(|| {
                // Checked first; the proof is then made from the check's run of the IR VM, which
                // `Zkir::prove` would repeat (the same work, ~2% of a bench_k13 proof, on one thread).
                let checked = check_preimage(circuit, &preimage)?;
                let public_inputs: Vec<Fr> = checked.pis.iter().copied().map(Fr).collect();
                let proving = circuit.ir.prove_unchecked(rng, &params, circuit.prover_key.clone(), checked);
                let proof = proving::block_on::block_on(proving).code(ErrorCode::ProofFailed, || format!("proving {circuit_id}"))?;
                // Never hand out a proof that fails.
                circuit
                    .verifier_key
                    .verify(&verifier, &proof, public_inputs.iter().copied())
                    .code(ErrorCode::ProofFailed, || format!("{circuit_id}: the new proof does not verify; do the keys match the IR?"))?;
                Ok::<_, ProverError>((proof, public_inputs))
            })?
            .map_err(|e| self.after_failure(circuit, e))?;
        let mut framed = Vec::new();
        serialize::tagged_serialize(&proof, &mut framed).expect("in-memory serialization");
        Ok(ProofOutput { circuit_id: circuit_id.to_owned(), proof: framed, public_inputs, k: circuit.k, proving_ms: started.elapsed().as_secs_f64() * 1e3 })
    }
}
