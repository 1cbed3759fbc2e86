//! The N-API surface: type conversion only. Promises are settled from the prover's threads.
//! Errors carry their code natively: napi creates the JS error with our `ErrorCode` as its
//! status, which becomes `error.code`. Every sync export runs its work through `sync`, so a
//! panic below becomes a rejected call (PROVER_PANIC) instead of an abort of Node.
use crate::core::budget::ClaimStatus;
use crate::core::error::{ErrorCode, ProverError, Result as CoreResult};
use crate::core::field::{field_to_words, parse_field};
use crate::core::keygen;
use crate::core::params::{self, ParamsSources, ParamsStore};
use crate::core::error::guarded;
use crate::core::prover::{default_threads, CircuitRef, ProofEvent, ProofOutput, Prover, ProverConfig, Status};
use crate::core::tasks;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use crate::core::scheduler::CancelHandle;
use crate::core::witness::Witness;
use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;
use std::path::PathBuf;
use std::sync::Arc;
use transient_crypto::curve::Fr;

fn typed(e: ProverError) -> napi::Error<ErrorCode> {
    napi::Error::new(e.code, e.message)
}

/// Runs a sync export's work with panics caught (PROVER_PANIC), as typed errors.
fn sync<T>(work: impl FnOnce() -> CoreResult<T>) -> Result<T, ErrorCode> {
    guarded(work).map_err(typed)
}

/// A promise plus the thread-safe way to settle it from any thread. A rejection is made on the
/// JS thread as a JS error with our code; napi's deferred only rejects with its own status
/// codes, so the error travels as a reference to that object.
fn settle_later<'env, T, J>(env: &'env Env, convert: fn(T) -> J) -> Result<(impl FnOnce(CoreResult<T>) + Send + 'static, Object<'env>)>
where
    T: Send + 'static,
    J: ToNapiValue + 'static,
{
    let (deferred, promise) = env.create_deferred::<J, Box<dyn FnOnce(Env) -> Result<J>>>()?;
    let settle = move |result: CoreResult<T>| match result {
        Ok(value) => deferred.resolve(Box::new(move |_env| Ok(convert(value)))),
        Err(e) => deferred.resolve(Box::new(move |env| Err(napi::Error::from(JsError::from(typed(e)).into_unknown(env))))),
    };
    Ok((settle, promise))
}

/// Runs `work` on the process's task pool and settles the returned promise with its result.
fn on_task_pool<'env, T, J>(env: &'env Env, convert: fn(T) -> J, work: impl FnOnce() -> CoreResult<T> + Send + 'static) -> Result<Object<'env>>
where
    T: Send + 'static,
    J: ToNapiValue + 'static,
{
    let (settle, promise) = settle_later(env, convert)?;
    tasks::global().spawn(work, settle);
    Ok(promise)
}

fn field(text: &str, what: &str) -> CoreResult<Fr> {
    parse_field(&serde_json::Value::String(text.to_owned()), what)
}

/// A k argument: the parameters files go up to 2^25, as the proof server serves them.
fn k_arg(k: u32) -> CoreResult<u8> {
    u8::try_from(k).ok().filter(|&k| k <= params::MAX_K).ok_or_else(|| ProverError::new(ErrorCode::InvalidArgument, format!("k={k} is out of range (at most {})", params::MAX_K)))
}

fn bigint(f: &Fr) -> BigInt {
    BigInt { sign_bit: false, words: field_to_words(f) }
}

fn witness(w: Either<String, Uint8Array>) -> Witness {
    match w {
        Either::A(json) => Witness::Json(json),
        Either::B(bytes) => Witness::Serialized(bytes.to_vec()),
    }
}

#[napi(object)]
pub struct NativeConfig {
    pub circuit_dirs: Vec<String>,
    pub params: NativeParamsSources,
    pub threads: Option<u32>,
    pub max_concurrent: Option<u32>,
    pub max_queue: Option<u32>,
    pub memory_limit_bytes: Option<f64>,
    pub key_cache_dir: String,
}

/// Key material a kmProvider answered for `location` (zkir-v2's `ProvingKeyMaterial`).
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
        Either::B(m) => CircuitRef::Material { location: m.location, ir: m.ir.to_vec(), prover: m.prover_key.to_vec(), verifier: m.verifier_key.to_vec() },
    }
}

#[napi(object)]
pub struct NativeProof {
    pub circuit_id: String,
    pub proof: Buffer,
    pub public_inputs: Vec<BigInt>,
    pub k: u32,
    pub proving_time_ms: f64,
}

fn proof_to_js(p: ProofOutput) -> NativeProof {
    NativeProof {
        circuit_id: p.circuit_id,
        public_inputs: p.public_inputs.iter().map(bigint).collect(),
        proof: p.proof.into(),
        k: p.k as u32,
        proving_time_ms: p.proving_ms,
    }
}

#[napi(object)]
pub struct NativeCircuitStatus {
    pub id: String,
    pub k: u32,
    pub rows: u32,
    pub prover_key_bytes: f64,
    pub load_ms: f64,
    pub peak_proof_bytes: f64,
    pub columns: u32,
    pub load_bytes: f64,
    pub reserve_bytes: f64,
}

/// A proof's claim on the memory budget.
#[napi(object)]
pub struct NativeClaim {
    pub circuit_id: String,
    pub bytes: f64,
}

fn claims_to_js(claims: Vec<ClaimStatus>) -> Vec<NativeClaim> {
    claims.into_iter().map(|c| NativeClaim { circuit_id: c.label, bytes: c.bytes as f64 }).collect()
}

#[napi(object)]
pub struct NativeStatus {
    pub circuits: Vec<NativeCircuitStatus>,
    pub available_circuits: Vec<String>,
    pub params_k: Vec<u32>,
    pub active_proofs: u32,
    pub queued_proofs: u32,
    pub threads: u32,
    pub native_bytes: f64,
    pub rss_bytes: f64,
    pub memory_limit_bytes: Option<f64>,
    pub proofs_completed: f64,
    pub proofs_failed: f64,
    pub keys_derived: f64,
    pub uptime_ms: f64,
    pub held_bytes: f64,
    pub reserved_bytes: f64,
    pub reservations: Vec<NativeClaim>,
    pub waiting_for_memory: Vec<NativeClaim>,
    pub peak_native_bytes: f64,
    pub live_threads: u32,
    pub circuits_evicted: f64,
    pub cache_limit_bytes: f64,
    pub max_loaded_circuits: u32,
    pub task_threads: u32,
    pub max_task_threads: u32,
    pub queued_tasks: u32,
    pub max_queued_tasks: u32,
    pub msm_tables: u32,
    pub msm_table_bytes: f64,
    pub msm_mapped_bytes: f64,
    pub max_msm_tables: u32,
}

fn status_to_js(s: Status) -> NativeStatus {
    NativeStatus {
        circuits: s
            .circuits
            .into_iter()
            .map(|c| NativeCircuitStatus {
                id: c.id,
                k: c.k as u32,
                rows: c.rows as u32,
                prover_key_bytes: c.prover_key_bytes as f64,
                load_ms: c.load_ms,
                peak_proof_bytes: c.peak_proof_bytes as f64,
                columns: c.columns as u32,
                load_bytes: c.load_bytes as f64,
                reserve_bytes: c.reserve_bytes as f64,
            })
            .collect(),
        available_circuits: s.available,
        params_k: s.params_k.into_iter().map(u32::from).collect(),
        active_proofs: s.active_proofs as u32,
        queued_proofs: s.queued_proofs as u32,
        threads: s.threads as u32,
        native_bytes: s.native_bytes as f64,
        rss_bytes: s.rss_bytes as f64,
        memory_limit_bytes: s.memory_limit_bytes.map(|b| b as f64),
        proofs_completed: s.proofs_completed as f64,
        proofs_failed: s.proofs_failed as f64,
        keys_derived: s.keys_derived as f64,
        uptime_ms: s.uptime_ms,
        held_bytes: s.budget.held as f64,
        reserved_bytes: s.budget.reserved as f64,
        reservations: claims_to_js(s.budget.reservations),
        waiting_for_memory: claims_to_js(s.budget.waiting),
        peak_native_bytes: s.peak_native_bytes as f64,
        live_threads: s.live_threads as u32,
        circuits_evicted: s.circuits_evicted as f64,
        cache_limit_bytes: s.cache_limit_bytes as f64,
        max_loaded_circuits: s.max_loaded_circuits as u32,
        task_threads: s.tasks.threads as u32,
        max_task_threads: s.tasks.max_threads as u32,
        queued_tasks: s.tasks.queued as u32,
        max_queued_tasks: s.tasks.max_queued as u32,
        msm_tables: s.msm.tables as u32,
        msm_table_bytes: s.msm.bytes as f64,
        msm_mapped_bytes: s.msm.mapped_bytes as f64,
        max_msm_tables: s.msm.max_tables as u32,
    }
}

#[napi(object)]
pub struct NativeProofEvent {
    pub kind: String,
    pub proof_id: f64,
    pub circuit_id: String,
    pub waited_ms: f64,
    pub duration_ms: Option<f64>,
    pub peak_bytes: Option<f64>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

fn event_to_js(e: ProofEvent) -> NativeProofEvent {
    NativeProofEvent {
        kind: e.kind.to_owned(),
        proof_id: e.proof_id as f64,
        circuit_id: e.circuit_id,
        waited_ms: e.waited_ms,
        duration_ms: e.duration_ms,
        peak_bytes: e.peak_bytes.map(|b| b as f64),
        error_code: e.error.as_ref().map(|err| err.code.as_str().to_owned()),
        error_message: e.error.map(|err| err.message),
    }
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
        sync(|| Ok(self.0.cancel()))
    }
}

#[napi]
pub struct NativeProver {
    inner: Arc<Prover>,
}

#[napi]
impl NativeProver {
    #[napi(constructor, catch_unwind)]
    pub fn new(config: NativeConfig) -> Result<Self, ErrorCode> {
        let inner = sync(|| Prover::new(ProverConfig {
            circuit_dirs: config.circuit_dirs.into_iter().map(PathBuf::from).collect(),
            params: config.params.into(),
            threads: config.threads.map(|t| t as usize).unwrap_or_else(default_threads),
            max_concurrent: config.max_concurrent.unwrap_or(1) as usize,
            max_queue: config.max_queue.map(|q| q as usize).unwrap_or(usize::MAX),
            memory_limit_bytes: config.memory_limit_bytes.map(|b| b as u64),
            key_cache_dir: PathBuf::from(config.key_cache_dir),
        }))?;
        Ok(NativeProver { inner })
    }

    #[napi(ts_return_type = "Promise<NativeProof>", catch_unwind)]
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
        let (settle, promise) = settle_later(env, proof_to_js).map_err(untyped)?;
        let handle = cancel.map(|c| c.0.clone()).unwrap_or_default();
        self.inner.submit_prove(proof_id as u64, circuit_ref(circuit), witness(witness_data), binding, &handle, settle);
        Ok(promise)
    }

    #[napi(ts_return_type = "Promise<Array<bigint | undefined>>", catch_unwind)]
    pub fn check<'env>(&self, env: &'env Env, circuit: Either<String, NativeKeyMaterial>, witness_data: Either<String, Uint8Array>) -> Result<Object<'env>> {
        let (settle, promise) = settle_later(env, skips_to_js)?;
        let (w, circuit) = (witness(witness_data), circuit_ref(circuit));
        self.inner.submit_task(move |p| p.check_now(circuit, w), settle);
        Ok(promise)
    }

    #[napi(ts_return_type = "Promise<boolean>", catch_unwind)]
    pub fn verify<'env>(&self, env: &'env Env, circuit_id: String, proof: Uint8Array, public_inputs: Vec<String>) -> Result<Object<'env>, ErrorCode> {
        let pis = sync(|| public_inputs.iter().enumerate().map(|(i, s)| field(s, &format!("publicInputs[{i}]"))).collect::<CoreResult<Vec<_>>>())?;
        let (settle, promise) = settle_later(env, |ok: bool| ok).map_err(untyped)?;
        let proof = proof.to_vec();
        self.inner.submit_task(move |p| p.verify_now(&circuit_id, &proof, pis), settle);
        Ok(promise)
    }

    /// Whether parameters for k are embedded, held or on disk.
    #[napi(catch_unwind)]
    pub fn has_params(&self, k: u32) -> bool {
        u8::try_from(k).is_ok_and(|k| self.inner.params_at_hand(k))
    }

    /// Holds `bls_midnight_2p{k}` bytes a kmProvider's getParams answered.
    #[napi(ts_return_type = "Promise<void>", catch_unwind)]
    pub fn add_params<'env>(&self, env: &'env Env, k: u32, file: Uint8Array) -> Result<Object<'env>, ErrorCode> {
        let k = sync(|| k_arg(k))?;
        let (settle, promise) = settle_later(env, |_: ()| ()).map_err(untyped)?;
        let file = file.to_vec();
        self.inner.submit_task(move |p| p.add_params(k, &file), settle);
        Ok(promise)
    }

    #[napi(ts_return_type = "Promise<void>", catch_unwind)]
    pub fn preload<'env>(&self, env: &'env Env, circuit_ids: Vec<String>) -> Result<Object<'env>> {
        let (settle, promise) = settle_later(env, |_: ()| ())?;
        self.inner.submit_task(move |p| p.preload_now(&circuit_ids), settle);
        Ok(promise)
    }

    #[napi(catch_unwind)]
    pub fn status(&self) -> Result<NativeStatus, ErrorCode> {
        sync(|| Ok(status_to_js(self.inner.status())))
    }

    /// Calls `callback` with every proof's started / finished / failed event. The function is
    /// weak: it never keeps the process alive by itself.
    #[napi(ts_args_type = "callback: (event: NativeProofEvent) => void", catch_unwind)]
    pub fn on_event(&self, callback: ThreadsafeFunction<NativeProofEvent, (), NativeProofEvent, napi::Status, false, true>) {
        let callback = Arc::new(callback);
        self.inner.set_listener(Arc::new(move |event: ProofEvent| {
            callback.call(event_to_js(event), ThreadsafeFunctionCallMode::NonBlocking);
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
        sync(|| Ok(self.inner.close()))
    }

    /// Frees loaded circuits, ends the prover's threads and drops the event callback; index.js
    /// calls it once submitted work has settled.
    #[napi(catch_unwind)]
    pub fn release(&self) -> Result<(), ErrorCode> {
        sync(|| Ok(self.inner.release()))
    }
}

/// A failure of napi itself (creating a promise): a bug or a dying environment, not bad input.
fn untyped(e: napi::Error) -> napi::Error<ErrorCode> {
    napi::Error::new(ErrorCode::ProverPanic, format!("napi: {}", e.reason))
}

#[napi(object)]
pub struct NativeKeys {
    pub prover_key: Buffer,
    pub verifier_key: Buffer,
    pub k: u32,
}

#[napi(ts_return_type = "Promise<NativeKeys>", catch_unwind)]
pub fn keygen<'env>(env: &'env Env, ir: Either<String, Uint8Array>, params: NativeParamsSources) -> Result<Object<'env>> {
    let bytes = match ir {
        Either::A(json) => json.into_bytes(),
        Either::B(b) => b.to_vec(),
    };
    let params = ParamsStore::with_sources(params.into());
    let keys_to_js = |keys: keygen::GeneratedKeys| NativeKeys { prover_key: keys.prover_key.into(), verifier_key: keys.verifier_key.into(), k: keys.k as u32 };
    // Not a rayon worker: keygen may wait for parameters another call is making.
    on_task_pool(env, keys_to_js, move || keygen::keygen(&bytes, &params))
}

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

/// `dir/bls_midnight_2p{k}`, fetched from `source` when missing, once it has Midnight's pinned hash.
#[napi(ts_return_type = "Promise<string>", catch_unwind)]
pub fn fetch_params<'env>(env: &'env Env, k: u32, dir: String, source: Option<String>) -> Result<Object<'env>, ErrorCode> {
    let k = sync(|| k_arg(k))?;
    let (settle, promise) = settle_later(env, |path: PathBuf| path.display().to_string()).map_err(untyped)?;
    tasks::downloads().spawn(move || params::verified(k, std::path::Path::new(&dir), source.as_deref()), settle);
    Ok(promise)
}

/// The `bls_midnight_2p{k}` parameters file for k <= 14, from the embedded SRS.
#[napi(catch_unwind)]
pub fn params(k: u32) -> Result<Buffer, ErrorCode> {
    sync(|| params::embedded_file(k_arg(k)?).map(Buffer::from))
}

/// A witness (JSON text) as the ledger's tagged-serialized ProofPreimage for `key_location`.
#[napi(catch_unwind)]
pub fn serialize_preimage(key_location: String, witness_json: String) -> Result<Buffer, ErrorCode> {
    sync(|| {
        let preimage = Witness::Json(witness_json).into_preimage(&key_location)?;
        Ok(crate::core::witness::serialize_preimage(&preimage).into())
    })
}

/// Every error code the addon can produce.
#[napi(catch_unwind)]
pub fn error_codes() -> Vec<&'static str> {
    ErrorCode::ALL.iter().map(|c| c.as_str()).collect()
}

// ---- The proof server's wire formats (src/core/payload.rs), for `serve`. ----

#[napi(object)]
pub struct NativeProveRequest {
    /// Tagged `ProofPreimage` (the version envelope removed).
    pub preimage: Buffer,
    pub key_location: String,
    pub prover_key: Option<Buffer>,
    pub verifier_key: Option<Buffer>,
    pub ir: Option<Buffer>,
    pub binding_input: Option<BigInt>,
}

#[napi(object)]
pub struct NativeCheckRequest {
    pub preimage: Buffer,
    pub key_location: String,
    pub ir: Option<Buffer>,
}

/// Decodes a `/prove` body (`createProvingPayload`'s bytes).
#[napi(catch_unwind)]
pub fn decode_prove_request(body: Uint8Array) -> Result<NativeProveRequest, ErrorCode> {
    let req = sync(|| crate::core::payload::decode_prove_request(&body))?;
    let (prover_key, verifier_key, ir) = match req.key_material {
        Some(km) => (Some(km.prover_key.into()), Some(km.verifier_key.into()), Some(km.ir_source.into())),
        None => (None, None, None),
    };
    Ok(NativeProveRequest {
        preimage: req.preimage.into(),
        key_location: req.key_location,
        prover_key,
        verifier_key,
        ir,
        binding_input: req.binding_input.as_ref().map(bigint),
    })
}

/// Decodes a `/check` body (`createCheckPayload`'s bytes).
#[napi(catch_unwind)]
pub fn decode_check_request(body: Uint8Array) -> Result<NativeCheckRequest, ErrorCode> {
    let req = sync(|| crate::core::payload::decode_check_request(&body))?;
    Ok(NativeCheckRequest { preimage: req.preimage.into(), key_location: req.key_location, ir: req.ir.map(Into::into) })
}

/// A tagged `proof[v5]` as the tagged `ProofVersioned` a `/prove` response carries.
#[napi(catch_unwind)]
pub fn encode_proof_response(proof: Uint8Array) -> Result<Buffer, ErrorCode> {
    sync(|| crate::core::payload::encode_proof_response(&proof).map(Into::into))
}

/// `check`'s skips as the tagged `Vec<Option<u64>>` a `/check` response carries.
#[napi(catch_unwind)]
pub fn encode_check_response(skips: Vec<Option<BigInt>>) -> Result<Buffer, ErrorCode> {
    sync(|| {
        let skips = skips
            .into_iter()
            .map(|s| s.map(|b| b.get_u64()).map(|(negative, v, lossless)| if negative || !lossless { Err(()) } else { Ok(v) }).transpose())
            .collect::<std::result::Result<Vec<_>, ()>>()
            .map_err(|_| ProverError::new(ErrorCode::InvalidArgument, "check skips must be unsigned 64-bit integers"))?;
        Ok(crate::core::payload::encode_check_response(&skips).into())
    })
}

/// The k a circuit needs: a `/k` body, or a kmProvider's IR (`.bzkir`, or `.zkir` JSON). On
/// the task pool: a large IR takes seconds to lay out, which must not block the event loop.
#[napi(ts_return_type = "Promise<number>", catch_unwind)]
pub fn ir_k<'env>(env: &'env Env, body: Uint8Array) -> Result<Object<'env>> {
    let body = body.to_vec();
    on_task_pool(env, u32::from, move || crate::core::payload::ir_k(&body))
}

/// `/check` against the IR the request carried (no keys), on the task pool.
#[napi(ts_return_type = "Promise<Array<bigint | undefined>>", catch_unwind)]
pub fn check_with_ir<'env>(env: &'env Env, ir: Uint8Array, preimage: Uint8Array) -> Result<Object<'env>> {
    let (ir, preimage) = (ir.to_vec(), preimage.to_vec());
    on_task_pool(env, skips_to_js, move || crate::core::payload::check_with_ir(&ir, &preimage))
}

/// `check`'s public-input skips as JS values (`undefined` for a group that is taken).
fn skips_to_js(skips: Vec<Option<usize>>) -> Vec<Option<BigInt>> {
    skips.into_iter().map(|s| s.map(|n| BigInt::from(n as u64))).collect()
}
