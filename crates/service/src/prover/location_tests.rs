//! Key locations end to end: `contract:` locations choose keys by their verifier key's hash,
//! and `key_material_now` answers the files a proof would use.
use super::tests::{compact_dir_named, witness};
use super::*;
use proving::files::hex;
use sha2::{Digest, Sha256};
use std::path::Path;

/// Two key directories that both hold a circuit named `c`: `bench_k6` in the first, `arith`
/// in the second, as two contracts' output directories can.
fn two_contracts() -> (PathBuf, PathBuf, Arc<Prover>) {
    let params = ParamsStore::new(vec![]);
    let (first, second) = (compact_dir_named(&[("c", "bench_k6")], &params), compact_dir_named(&[("c", "arith")], &params));
    let config = ProverConfig {
        circuit_dirs: vec![first.clone(), second.clone()],
        params: ParamsSources::default(),
        threads: Some(2),
        max_concurrent: 1,
        max_queue: Some(8),
        memory_limit_bytes: None,
        key_cache_dir: std::env::temp_dir().join("mnp-test-keys"),
    };
    (first, second, Prover::new(config).unwrap())
}

fn vk_of(dir: &Path) -> String {
    hex(&Sha256::digest(std::fs::read(dir.join("keys/c.verifier")).unwrap()))
}

fn contract(circuit: &str, vk: &str) -> String {
    format!("contract:{}/{circuit}?vk={vk}", "0a".repeat(32))
}

#[test]
fn a_contract_location_proves_with_the_keys_its_vk_names_even_behind_a_namesake() {
    let (first, second, p) = two_contracts();
    let at_second = contract("c", &vk_of(&second));
    let out = p.prove_now(at_second.as_str(), witness("arith.witness.json"), None).unwrap();
    assert_eq!(out.circuit_id, "c");
    assert!(p.verify_now(&at_second, &out.proof, out.public_inputs.clone()).unwrap());
    assert_eq!(
        p.prove_now("c", witness("arith.witness.json"), None).err().unwrap().code,
        ErrorCode::InvalidWitness,
        "the plain id is the first directory's circuit"
    );
    p.prove_now(contract("c", &vk_of(&first)).as_str(), witness("bench_k6.witness.json"), None).unwrap();

    let other_address = at_second.replacen("0a0a", "FFFF", 1);
    p.prove_now(other_address.as_str(), witness("arith.witness.json"), None).unwrap();
    let loaded: Vec<String> = p.status().circuits.iter().map(|c| c.id.clone()).collect();
    assert_eq!(loaded, ["c", "c", "c"], "each (circuit, vk) loads once, whatever the address: {loaded:?}");
}

#[test]
fn a_vk_no_key_matches_proves_nothing_and_bad_locations_are_typed() {
    let (first, second, p) = two_contracts();
    let unknown_vk = contract("c", &"5".repeat(64));
    let err = p.prove_now(unknown_vk.as_str(), witness("arith.witness.json"), None).err().unwrap();
    assert_eq!(err.code, ErrorCode::KeyMismatch);
    for dir in [&first, &second] {
        assert!(err.message.contains(&vk_of(dir)), "names what it found: {}", err.message);
    }
    assert_eq!(p.key_material_now(&unknown_vk).err().unwrap().code, ErrorCode::KeyMismatch);
    assert_eq!(p.status().proofs_completed, 0);
    assert!(p.status().circuits.is_empty(), "nothing was loaded");

    let missing = contract("d", &vk_of(&first));
    assert_eq!(p.prove_now(missing.as_str(), witness("arith.witness.json"), None).err().unwrap().code, ErrorCode::CircuitNotFound);
    assert!(p.key_material_now(&missing).unwrap().is_none());
    for bad in [contract("c", &vk_of(&first).to_uppercase()), format!("contract:{}", "0".repeat(64)), "contract:".into()] {
        assert_eq!(p.prove_now(bad.as_str(), witness("arith.witness.json"), None).err().unwrap().code, ErrorCode::InvalidCircuitId, "{bad}");
        assert_eq!(p.key_material_now(&bad).err().unwrap().code, ErrorCode::InvalidCircuitId, "{bad}");
    }
}

#[test]
fn key_material_is_the_files_a_proof_would_load_and_none_for_an_unknown_location() {
    let (first, second, p) = two_contracts();
    let read = |dir: &Path, file: &str| std::fs::read(dir.join(file)).unwrap();
    let by_id = p.key_material_now("c").unwrap().unwrap();
    assert_eq!(by_id.prover_key, read(&first, "keys/c.prover"));
    assert_eq!(by_id.ir, read(&first, "zkir/c.zkir"));
    let by_vk = p.key_material_now(&contract("c", &vk_of(&second))).unwrap().unwrap();
    assert_eq!(by_vk.verifier_key, read(&second, "keys/c.verifier"));
    assert_eq!(by_vk.prover_key, read(&second, "keys/c.prover"));
    assert!(p.key_material_now("nope").unwrap().is_none());
    assert!(p.key_material_now("../c").unwrap().is_none(), "names no circuit it could hold");
    assert!(p.status().circuits.is_empty(), "a lookup loads nothing");
}

/// Writes `dir`'s contract manifest listing `c.verifier` with `hash`.
fn manifest(dir: &Path, hash: &str) {
    std::fs::create_dir_all(dir.join("compiler")).unwrap();
    let text = format!(r#"{{"manifest-version":"1","keys":{{"type":"directory","c.verifier":{{"type":"file","size":1,"hash":"{hash}"}}}}}}"#);
    std::fs::write(proving::manifest::path(dir), text).unwrap();
}

#[test]
fn a_contract_manifest_is_the_directorys_registry_and_the_loaded_key_must_still_match() {
    let (first, second, p) = two_contracts();
    let (vk_first, vk_second) = (vk_of(&first), vk_of(&second));
    // The first directory's manifest lists the second's key: its location now points at the
    // first directory, whose loaded verifier key does not hash to vk.
    manifest(&first, &vk_second);
    let err = p.prove_now(contract("c", &vk_second).as_str(), witness("arith.witness.json"), None).err().unwrap();
    assert_eq!(err.code, ErrorCode::KeyMismatch, "{}", err.message);
    assert!(err.message.contains(&vk_first), "{}", err.message);
    assert_eq!(p.key_material_now(&contract("c", &vk_second)).err().unwrap().code, ErrorCode::KeyMismatch);
    assert!(p.status().circuits.is_empty());
    // The first directory's own key is not listed under its hash, so nothing finds it.
    let err = p.prove_now(contract("c", &vk_first).as_str(), witness("bench_k6.witness.json"), None).err().unwrap();
    assert!(err.message.contains("contract-manifest.json"), "names the manifest it went by: {}", err.message);
    // An honest manifest resolves as the files do.
    manifest(&first, &vk_first);
    p.prove_now(contract("c", &vk_first).as_str(), witness("bench_k6.witness.json"), None).unwrap();
    p.prove_now(contract("c", &vk_second).as_str(), witness("arith.witness.json"), None).unwrap();
}
