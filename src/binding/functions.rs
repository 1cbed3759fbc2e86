//! Exports that need no prover: keygen, parameters, preimages and the error codes.
use super::prover::NativeParamsSources;
use super::shapes::GeneratedKeys;
use super::{k_arg, on_task_pool, promise_for, sync};
use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;
use proving::error::ErrorCode;
use proving::keygen;
use proving::params::{self, ParamsStore};
use proving::witness::Witness;
use service::tasks;
use std::path::{Path, PathBuf};

/// IR given as JSON text or as bytes, borrowed either way.
fn ir_bytes(ir: &Either<String, Uint8Array>) -> &[u8] {
    match ir {
        Either::A(json) => json.as_bytes(),
        Either::B(bytes) => bytes,
    }
}

/// Keys for ZKIR v2 (`.zkir` JSON text, or `.bzkir` / `.zkir` bytes).
#[napi(ts_return_type = "Promise<GeneratedKeys>", catch_unwind)]
pub fn keygen<'env>(env: &'env Env, ir: Either<String, Uint8Array>, params: NativeParamsSources) -> Result<Object<'env>, ErrorCode> {
    let params = ParamsStore::with_sources(params.into());
    // Not a rayon worker: keygen may wait for parameters another call is making.
    on_task_pool(env, GeneratedKeys::from, move || keygen::keygen(ir_bytes(&ir), &params))
}

/// `dir/bls_midnight_2p{k}`, fetched from `source` when missing, once it has Midnight's pinned hash.
#[napi(ts_return_type = "Promise<string>", catch_unwind)]
pub fn fetch_params<'env>(env: &'env Env, k: u32, dir: String, source: Option<String>) -> Result<Object<'env>, ErrorCode> {
    let k = sync(|| k_arg(k))?;
    let fetch = move || params::verified(k, Path::new(&dir), source.as_deref());
    promise_for(env, |path: PathBuf| path.display().to_string(), |settle| tasks::downloads().spawn(fetch, settle))
}

/// UNSAFE development parameters for k (15..=20) drawn from `seed`, written as
/// `dir/bls_midnight_2p{k}` with a trailer that labels them; resolves to the file's path.
#[napi(ts_return_type = "Promise<string>", catch_unwind)]
pub fn dev_params<'env>(env: &'env Env, k: u32, seed: String, dir: String) -> Result<Object<'env>, ErrorCode> {
    let k = sync(|| k_arg(k))?;
    on_task_pool(env, |path: PathBuf| path.display().to_string(), move || params::dev::write(k, &seed, Path::new(&dir)))
}

/// The `bls_midnight_2p{k}` parameters file for k <= 14, from the embedded SRS.
#[napi(catch_unwind)]
pub fn params(k: u32) -> Result<Uint8Array, ErrorCode> {
    sync(|| params::embedded_file(k_arg(k)?).map(Uint8Array::new))
}

/// A witness (JSON text) as the ledger's tagged-serialized ProofPreimage for `key_location`.
#[napi(catch_unwind)]
pub fn serialize_preimage(key_location: String, witness_json: String) -> Result<Uint8Array, ErrorCode> {
    sync(|| {
        let preimage = Witness::Json(witness_json).into_preimage(&key_location)?;
        Ok(Uint8Array::new(proving::witness::serialize_preimage(&preimage)))
    })
}

/// Every error code the addon can produce.
#[napi(catch_unwind)]
pub fn error_codes() -> Vec<&'static str> {
    ErrorCode::ALL.iter().map(|c| c.as_str()).collect()
}
