//! The N-API surface: type conversion only. Promises are settled from the prover's threads.
//!
//! - `shapes`: every object JS receives, defined once (napi generates its TypeScript).
//! - `prover`: the `NativeProver` class and its cancel token.
//! - `functions`: keygen, parameters, preimages and error codes, with no prover.
//! - `wire`: the proof server's request and response formats, for `serve`.
//!
//! Errors carry their code natively: napi creates the JS error with our `ErrorCode` as its
//! status, which becomes `error.code`. Every sync export runs its work through `sync`, so a
//! panic below becomes a rejected call (PROVER_PANIC) instead of an abort of Node.
mod functions;
mod prover;
mod shapes;
mod wire;

use napi::bindgen_prelude::*;
use napi::Env;
use proving::error::{guarded, ErrorCode, ProverError, Result as CoreResult};
use proving::field_text::parse_field;
use proving::params;
use service::tasks;
use transient_crypto::curve::Fr;

fn typed(e: ProverError) -> napi::Error<ErrorCode> {
    napi::Error::new(e.code, e.message)
}

/// A failure of napi itself (creating a promise): a bug or a dying environment, not bad input.
fn untyped(e: napi::Error) -> napi::Error<ErrorCode> {
    napi::Error::new(ErrorCode::ProverPanic, format!("napi: {}", e.reason))
}

/// Runs a sync export's work with panics caught (PROVER_PANIC), as typed errors.
fn sync<T>(work: impl FnOnce() -> CoreResult<T>) -> Result<T, ErrorCode> {
    guarded(work).map_err(typed)
}

/// The callback that settles a promise from any thread.
type Settle<T> = Box<dyn FnOnce(CoreResult<T>) + Send>;

/// A promise, and `start` called with the thread-safe way to settle it from any thread (start
/// hands it to the work it queues). A rejection is made on the JS thread as a JS error with our
/// code; napi's deferred only rejects with its own status codes, so the error travels as a
/// reference to that object.
fn promise_for<'env, T, J>(env: &'env Env, convert: fn(T) -> J, start: impl FnOnce(Settle<T>)) -> Result<Object<'env>, ErrorCode>
where
    T: Send + 'static,
    J: ToNapiValue + 'static,
{
    let (deferred, promise) = env.create_deferred::<J, Box<dyn FnOnce(Env) -> Result<J>>>().map_err(untyped)?;
    start(Box::new(move |result: CoreResult<T>| match result {
        Ok(value) => deferred.resolve(Box::new(move |_env| Ok(convert(value)))),
        Err(e) => deferred.resolve(Box::new(move |env| Err(napi::Error::from(JsError::from(typed(e)).into_unknown(env))))),
    }));
    Ok(promise)
}

/// Runs `work` on the process's task pool and settles the returned promise with its result.
fn on_task_pool<'env, T, J>(env: &'env Env, convert: fn(T) -> J, work: impl FnOnce() -> CoreResult<T> + Send + 'static) -> Result<Object<'env>, ErrorCode>
where
    T: Send + 'static,
    J: ToNapiValue + 'static,
{
    promise_for(env, convert, |settle| tasks::global().spawn(work, settle))
}

/// A field element the JS layer sent as text (it parsed bigints and numbers into it).
fn field(text: &str, what: &str) -> CoreResult<Fr> {
    parse_field(&serde_json::Value::String(text.to_owned()), what)
}

/// A k argument: the parameters files go up to 2^25, as the proof server serves them.
fn k_arg(k: u32) -> CoreResult<u8> {
    u8::try_from(k)
        .ok()
        .filter(|&k| k <= params::MAX_K)
        .ok_or_else(|| ProverError::new(ErrorCode::InvalidArgument, format!("k={k} is out of range (at most {})", params::MAX_K)))
}
