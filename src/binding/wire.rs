//! The proof server's wire formats (crates/proving/src/wire.rs), for `serve`.
use super::prover::skips_to_js;
use super::shapes::bigint;
use super::{on_task_pool, sync};
use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;
use proving::error::{ErrorCode, ProverError};
use proving::wire;

/// A decoded `/prove` body.
#[napi(object)]
pub struct NativeProveRequest {
    /// Tagged `ProofPreimage` (the version envelope removed).
    pub preimage: Uint8Array,
    pub key_location: String,
    pub prover_key: Option<Uint8Array>,
    pub verifier_key: Option<Uint8Array>,
    pub ir: Option<Uint8Array>,
    pub binding_input: Option<BigInt>,
}

/// A decoded `/check` body.
#[napi(object)]
pub struct NativeCheckRequest {
    pub preimage: Uint8Array,
    pub key_location: String,
    pub ir: Option<Uint8Array>,
}

/// Decodes a `/prove` body (`createProvingPayload`'s bytes).
#[napi(catch_unwind)]
pub fn decode_prove_request(body: Uint8Array) -> Result<NativeProveRequest, ErrorCode> {
    let req = sync(|| wire::decode_prove_request(&body))?;
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
    let req = sync(|| wire::decode_check_request(&body))?;
    Ok(NativeCheckRequest { preimage: req.preimage.into(), key_location: req.key_location, ir: req.ir.map(Into::into) })
}

/// A tagged `proof[v5]` as the tagged `ProofVersioned` a `/prove` response carries.
#[napi(catch_unwind)]
pub fn encode_proof_response(proof: Uint8Array) -> Result<Uint8Array, ErrorCode> {
    sync(|| wire::encode_proof_response(&proof).map(Into::into))
}

/// `check`'s skips as the tagged `Vec<Option<u64>>` a `/check` response carries.
#[napi(catch_unwind)]
pub fn encode_check_response(skips: Vec<Option<BigInt>>) -> Result<Uint8Array, ErrorCode> {
    sync(|| {
        let skips = skips
            .into_iter()
            .map(|s| s.map(|b| b.get_u64()).map(|(negative, v, lossless)| if negative || !lossless { Err(()) } else { Ok(v) }).transpose())
            .collect::<std::result::Result<Vec<_>, ()>>()
            .map_err(|_| ProverError::new(ErrorCode::InvalidArgument, "check skips must be unsigned 64-bit integers"))?;
        Ok(wire::encode_check_response(&skips).into())
    })
}

/// The k a circuit needs: a `/k` body, or a kmProvider's IR (`.bzkir`, or `.zkir` JSON). On
/// the task pool: a large IR takes seconds to lay out, which must not block the event loop.
#[napi(ts_return_type = "Promise<number>", catch_unwind)]
pub fn ir_k<'env>(env: &'env Env, body: Uint8Array) -> Result<Object<'env>, ErrorCode> {
    on_task_pool(env, u32::from, move || wire::ir_k(&body))
}

/// `/check` against the IR the request carried (no keys), on the task pool.
#[napi(ts_return_type = "Promise<Array<bigint | undefined>>", catch_unwind)]
pub fn check_with_ir<'env>(env: &'env Env, ir: Uint8Array, preimage: Uint8Array) -> Result<Object<'env>, ErrorCode> {
    on_task_pool(env, skips_to_js, move || wire::check_with_ir(&ir, &preimage))
}
