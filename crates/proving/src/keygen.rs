//! Key generation, as the Compact toolchain's `zkir compile` does it.
use super::circuit::parse_ir_k;
use super::error::{ErrorCode, Result, WithCode};
use super::params::{ParamsStore, ReadyParams};
use transient_crypto::proofs::Zkir;

pub struct GeneratedKeys {
    /// Tagged `prover-key[v7]` bytes, the `.prover` file.
    pub prover_key: Vec<u8>,
    /// Tagged `verifier-key[v6]` bytes, the `.verifier` file.
    pub verifier_key: Vec<u8>,
    pub k: u8,
}

/// Generates keys for IR given as `.zkir` JSON or `.bzkir` bytes.
pub fn keygen(ir_bytes: &[u8], params: &ParamsStore) -> Result<GeneratedKeys> {
    let (ir, k) = parse_ir_k(ir_bytes)?;
    // Keygen commits to the fixed columns and transforms them: our MSM and FFT serve it too,
    // with or without a prover.
    super::engines::install();
    params.get(k)?;
    let (pk, vk) = super::block_on::block_on(ir.keygen(&ReadyParams(params))).code(ErrorCode::InvalidIr, || format!("keygen (k={k})"))?;
    let mut prover_key = Vec::new();
    let mut verifier_key = Vec::new();
    serialize::tagged_serialize(&pk, &mut prover_key).expect("in-memory serialization");
    serialize::tagged_serialize(&vk, &mut verifier_key).expect("in-memory serialization");
    Ok(GeneratedKeys { prover_key, verifier_key, k })
}
