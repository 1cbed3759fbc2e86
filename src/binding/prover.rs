//! `NativeProver`: one core `Prover` behind the JS `Prover` class of index.js.
use super::shapes::{NativeProofEvent, ProofResult, ProverStatus, ProvingKeyMaterial};
use super::{field, k_arg, promise_for, sync};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Env;
use napi_derive::napi;
use proving::error::{ErrorCode, Result as CoreResult};
use proving::params::ParamsSources;
use proving::witness::Witness;
use service::prover::{CircuitRef, Lent, ProofEvent, Prover, ProverConfig};
use service::scheduler::CancelHandle;
use std::path::PathBuf;
use std::sync::Arc;

/// What index.js resolved from `ProverOptions` and the environment.
#[napi(object)]
pub struct NativeConfig {
    pub circuit_dirs: Vec<String>,
    pub params: NativeParamsSources,
    pub threads: Option<u32>,
    pub max_concurrent: u32,
    pub max_queue: Option<u32>,
    pub memory_limit_bytes: Option<f64>,
    pub key_cache_dir: String,
}

/// Where parameters for k > 14 are found (`paramsPath`, `paramsSource`, `allowUnpinnedParams`).
#[napi(object)]
pub struct NativeParamsSources {
    pub dirs: Vec<String>,
    pub source: Option<String>,
    pub allow_unpinned: bool,
}

impl From<NativeParamsSources> for ParamsSources {
    fn from(p: NativeParamsSources) -> Self {
        ParamsSources { dirs: p.dirs.into_iter().map(PathBuf::from).collect(), fetch_from: p.source, allow_unpinned: p.allow_unpinned }
    }
}

/// Key material a kmProvider answered for `location` (zkir-v2's `ProvingKeyMaterial`). The
/// buffers are lent to the call, not copied: the caller must not change them until it settles.
#[napi(object)]
pub struct NativeKeyMaterial {
    pub location: String,
    pub prover_key: Uint8Array,
    pub verifier_key: Uint8Array,
    pub ir: Uint8Array,
}

fn circuit_ref(circuit: Either<String, NativeKeyMaterial>) -> CircuitRef {
    match circuit {
        Either::A(id) => CircuitRef::Id(id),
        Either::B(m) => {
            CircuitRef::Material { location: m.location, ir: Lent::new(m.ir), prover: Lent::new(m.prover_key), verifier: Lent::new(m.verifier_key) }
        }
    }
}

/// A witness: JSON text, or tagged-serialized `ProofPreimage` bytes (lent until the call settles).
fn witness(w: Either<String, Uint8Array>) -> Witness {
    match w {
        Either::A(json) => Witness::Json(json),
        Either::B(bytes) => Witness::Serialized(Lent::new(bytes)),
    }
}

/// `check`'s public-input skips as JS values (`undefined` for a group that is taken).
pub fn skips_to_js(skips: Vec<Option<usize>>) -> Vec<Option<BigInt>> {
    skips.into_iter().map(|s| s.map(|n| BigInt::from(n as u64))).collect()
}

/// Lets JS withdraw a queued proof (AbortSignal and timeouts live in index.js).
#[napi]
pub struct CancelToken(CancelHandle);

#[napi]
impl CancelToken {
    #[napi(constructor, catch_unwind)]
    pub fn new() -> Self {
        CancelToken(CancelHandle::default())
    }

    #[napi(catch_unwind)]
    pub fn cancel(&self) -> Result<(), ErrorCode> {
        sync(|| {
            self.0.cancel();
            Ok(())
        })
    }
}

#[napi]
pub struct NativeProver {
    inner: Arc<Prover>,
}

impl NativeProver {
    /// Runs `work` on the process's task pool with this prover, settling the returned promise.
    fn task<'env, T, J>(
        &self,
        env: &'env Env,
        convert: fn(T) -> J,
        work: impl FnOnce(&Prover) -> CoreResult<T> + Send + 'static,
    ) -> Result<Object<'env>, ErrorCode>
    where
        T: Send + 'static,
        J: ToNapiValue + 'static,
    {
        promise_for(env, convert, |settle| self.inner.submit_task(work, settle))
    }
}

#[napi]
impl NativeProver {
    #[napi(constructor, catch_unwind)]
    pub fn new(config: NativeConfig) -> Result<Self, ErrorCode> {
        let inner = sync(|| {
            Prover::new(ProverConfig {
                circuit_dirs: config.circuit_dirs.into_iter().map(PathBuf::from).collect(),
                params: config.params.into(),
                threads: config.threads.map(|t| t as usize),
                max_concurrent: config.max_concurrent as usize,
                max_queue: config.max_queue.map(|q| q as usize),
                memory_limit_bytes: config.memory_limit_bytes.map(|b| b as u64),
                key_cache_dir: PathBuf::from(config.key_cache_dir),
            })
        })?;
        Ok(NativeProver { inner })
    }

    #[napi(ts_return_type = "Promise<ProofResult>", catch_unwind)]
    pub fn prove<'env>(
        &self,
        env: &'env Env,
        proof_id: u32,
        circuit: Either<String, NativeKeyMaterial>,
        witness_data: Either<String, Uint8Array>,
        binding_input: Option<String>,
        cancel: Option<&CancelToken>,
    ) -> Result<Object<'env>, ErrorCode> {
        let binding = sync(|| binding_input.map(|b| field(&b, "bindingInput")).transpose())?;
        let handle = cancel.map(|c| c.0.clone()).unwrap_or_default();
        let (circuit, witness) = (circuit_ref(circuit), witness(witness_data));
        promise_for(env, ProofResult::from, |settle| self.inner.submit_prove(proof_id.into(), circuit, witness, binding, &handle, settle))
    }

    #[napi(ts_return_type = "Promise<Array<bigint | undefined>>", catch_unwind)]
    pub fn check<'env>(
        &self,
        env: &'env Env,
        circuit: Either<String, NativeKeyMaterial>,
        witness_data: Either<String, Uint8Array>,
    ) -> Result<Object<'env>, ErrorCode> {
        let (w, circuit) = (witness(witness_data), circuit_ref(circuit));
        self.task(env, skips_to_js, move |p| p.check_now(circuit, w))
    }

    /// The circuit's k, loading it (by id or by key material) on first use.
    #[napi(ts_return_type = "Promise<number>", catch_unwind)]
    pub fn circuit_k<'env>(&self, env: &'env Env, circuit: Either<String, NativeKeyMaterial>) -> Result<Object<'env>, ErrorCode> {
        let circuit = circuit_ref(circuit);
        self.task(env, u32::from, move |p| p.circuit_k_now(circuit))
    }

    /// The files at a key location (`lookupKey`), or `null` when it names no circuit.
    #[napi(ts_return_type = "Promise<ProvingKeyMaterial | null>", catch_unwind)]
    pub fn key_material<'env>(&self, env: &'env Env, location: String) -> Result<Object<'env>, ErrorCode> {
        self.task(env, |m: Option<_>| m.map(ProvingKeyMaterial::from), move |p| p.key_material_now(&location))
    }

    #[napi(ts_return_type = "Promise<boolean>", catch_unwind)]
    pub fn verify<'env>(&self, env: &'env Env, circuit_id: String, proof: Uint8Array, public_inputs: Vec<String>) -> Result<Object<'env>, ErrorCode> {
        let pis = sync(|| public_inputs.iter().enumerate().map(|(i, s)| field(s, &format!("publicInputs[{i}]"))).collect::<CoreResult<Vec<_>>>())?;
        self.task(env, |ok: bool| ok, move |p| p.verify_now(&circuit_id, &proof, pis))
    }

    /// Whether parameters for k are embedded, held or on disk.
    #[napi(catch_unwind)]
    pub fn has_params(&self, k: u32) -> bool {
        k_arg(k).is_ok_and(|k| self.inner.params_at_hand(k))
    }

    /// Holds `bls_midnight_2p{k}` bytes a kmProvider's getParams answered.
    #[napi(ts_return_type = "Promise<void>", catch_unwind)]
    pub fn add_params<'env>(&self, env: &'env Env, k: u32, file: Uint8Array) -> Result<Object<'env>, ErrorCode> {
        let k = sync(|| k_arg(k))?;
        self.task(env, |_: ()| (), move |p| p.add_params(k, &file))
    }

    #[napi(ts_return_type = "Promise<void>", catch_unwind)]
    pub fn preload<'env>(&self, env: &'env Env, circuit_ids: Vec<String>) -> Result<Object<'env>, ErrorCode> {
        self.task(env, |_: ()| (), move |p| p.preload_now(&circuit_ids))
    }

    /// A snapshot of loaded circuits, queue, threads, memory and counters: `getStatus()`.
    #[napi(catch_unwind)]
    pub fn status(&self) -> Result<ProverStatus, ErrorCode> {
        sync(|| Ok(self.inner.status().into()))
    }

    /// Calls `callback` with every proof's started / finished / failed event. The function is
    /// weak: it never keeps the process alive by itself.
    #[napi(ts_args_type = "callback: (event: NativeProofEvent) => void", catch_unwind)]
    pub fn on_event(&self, callback: ThreadsafeFunction<NativeProofEvent, (), NativeProofEvent, napi::Status, false, true>) {
        let callback = Arc::new(callback);
        self.inner.set_listener(Arc::new(move |event: ProofEvent| {
            callback.call(event.into(), ThreadsafeFunctionCallMode::NonBlocking);
        }));
    }

    /// Prometheus text exposition format.
    #[napi(catch_unwind)]
    pub fn metrics(&self) -> Result<String, ErrorCode> {
        sync(|| Ok(self.inner.metrics_text()))
    }

    /// Stops accepting work; queued and running work still completes.
    #[napi(catch_unwind)]
    pub fn close(&self) -> Result<(), ErrorCode> {
        sync(|| {
            self.inner.close();
            Ok(())
        })
    }

    /// Frees loaded circuits, ends the prover's threads and drops the event callback; index.js
    /// calls it once submitted work has settled.
    #[napi(catch_unwind)]
    pub fn release(&self) -> Result<(), ErrorCode> {
        sync(|| {
            self.inner.release();
            Ok(())
        })
    }
}
