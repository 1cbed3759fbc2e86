//! Hostile input for every decoder of untrusted bytes: no panic, no abort, a typed error with the
//! expected code (or success). Inputs are the real fixtures (IR, keys, witnesses, payloads built as
//! midnight-js builds them), truncated, bit-flipped and spliced, plus random bytes and structured
//! IR with out-of-range operands.
//!
//! CI runs a fixed seed and case counts sized for well under a minute in release on two cores. For
//! a long run, set `PROPTEST_CASES` (cases per property) and `PROPTEST_RNG_SEED` (see
//! docs/fuzzing.md).
use super::circuit::{parse_ir, parse_ir_k, Artifacts, Circuit};
use super::error::{ErrorCode, Result};
use super::ir_check::{self, MAX_INPUTS};
use super::key_check::{read_prover_key, read_verifier_key};
use super::keygen::{keygen, GeneratedKeys};
use super::params::ParamsStore;
use super::wire::{check_with_ir, decode_check_request, decode_prove_request, ir_k, Versioned};
use super::witness::{serialize_preimage, Witness};
use base_crypto::fab::{Alignment, AlignmentAtom, AlignmentSegment};
use midnight_zkir::{Instruction, IrSource};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use transient_crypto::curve::Fr;
use transient_crypto::proofs::{ProofPreimage, ProvingKeyMaterial, WrappedIr};

/// The CI seed. Any failure it finds is reproducible by rerunning the same test.
const SEED: u64 = 0x6d69_646e_6967_6874;

/// Proptest settings: `cases` unless `PROPTEST_CASES` is set, the fixed seed unless
/// `PROPTEST_RNG_SEED` is set, no failure files written into the tree.
pub(crate) fn config(cases: u32) -> ProptestConfig {
    let env = ProptestConfig::default();
    ProptestConfig {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() { env.cases } else { cases },
        rng_seed: if std::env::var_os("PROPTEST_RNG_SEED").is_some() { env.rng_seed } else { RngSeed::Fixed(SEED) },
        failure_persistence: None,
        max_shrink_iters: 512,
        ..env
    }
}

/// The repository's root (this crate is crates/proving).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixtures() -> PathBuf {
    root().join("../shared/fixtures")
}

fn files_under(dir: &Path, ext: &[&str], out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files_under(&path, ext, out);
        } else if path.extension().is_some_and(|e| ext.iter().any(|x| e == *x)) && !path.to_string_lossy().contains(".witness.") {
            out.push(path);
        }
    }
}

/// Every real IR: the fixtures' `.zkir`/`.bzkir` and the test circuits.
fn real_ir_files() -> &'static [(PathBuf, Vec<u8>)] {
    static FILES: OnceLock<Vec<(PathBuf, Vec<u8>)>> = OnceLock::new();
    FILES.get_or_init(|| {
        let mut paths = Vec::new();
        files_under(&fixtures(), &["zkir", "bzkir"], &mut paths);
        files_under(&root().join("__test__/circuits"), &["zkir"], &mut paths);
        paths
            .into_iter()
            .map(|p| {
                let b = std::fs::read(&p).unwrap();
                (p, b)
            })
            .collect()
    })
}

/// The real IRs that are cheap to lay out (k ≤ 9), for properties that run the cost model per case
/// (the largest real circuits take seconds each).
fn small_irs() -> &'static [Vec<u8>] {
    const SMALL: &[&str] =
        &["arith", "bench_k6", "decimals", "name", "symbol", "totalSupply", "isRegistered", "composable-inner_get", "token-vault_depositUnshielded"];
    static IRS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    IRS.get_or_init(|| {
        let irs: Vec<Vec<u8>> = real_ir_files().iter().filter(|(p, _)| SMALL.iter().any(|s| p.file_stem().unwrap() == *s)).map(|(_, b)| b.clone()).collect();
        assert!(irs.len() >= 12, "{} small IRs", irs.len());
        irs
    })
}

fn test_circuit(name: &str) -> Vec<u8> {
    std::fs::read(root().join("__test__/circuits").join(name)).unwrap()
}

/// Keys generated for the smallest test circuit (k=5), as `keygen` writes them.
fn arith_keys() -> &'static (Vec<u8>, GeneratedKeys) {
    static KEYS: OnceLock<(Vec<u8>, GeneratedKeys)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let ir = test_circuit("arith.zkir");
        let keys = keygen(&ir, &ParamsStore::new(vec![])).unwrap();
        (ir, keys)
    })
}

/// Real verifier keys: the fixtures' and the generated one.
fn real_verifier_keys() -> &'static [Vec<u8>] {
    static KEYS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut paths = Vec::new();
        files_under(&fixtures(), &["verifier"], &mut paths);
        let mut keys: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).unwrap()).collect();
        keys.push(arith_keys().1.verifier_key.clone());
        keys
    })
}

fn arith_preimage() -> ProofPreimage {
    Witness::Json(String::from_utf8(test_circuit("arith.witness.json")).unwrap()).into_preimage("arith").unwrap()
}

fn witness_jsons() -> &'static [Vec<u8>] {
    static W: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    W.get_or_init(|| {
        let mut names: Vec<PathBuf> = std::fs::read_dir(root().join("__test__/circuits"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".witness.json"))
            .collect();
        names.sort();
        names.iter().map(|p| std::fs::read(p).unwrap()).collect()
    })
}

/// `/prove` and `/check` bodies as `createProvingPayload` / `createCheckPayload` build them, with
/// real key material and IR.
fn payloads() -> &'static [Vec<u8>] {
    static P: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    P.get_or_init(|| {
        let (ir, keys) = arith_keys();
        let bzkir = std::fs::read(fixtures().join("builtin/zswap/sign.bzkir")).unwrap();
        let km = ProvingKeyMaterial { prover_key: keys.prover_key.clone(), verifier_key: keys.verifier_key.clone(), ir_source: ir.clone() };
        let mut bodies = Vec::new();
        for (km, binding) in [(None, None), (Some(km), Some(Fr::from(7u64)))] {
            let mut body = Vec::new();
            serialize::tagged_serialize(&(Versioned(arith_preimage()), km, binding), &mut body).unwrap();
            bodies.push(body);
        }
        for ir in [None, Some(WrappedIr(bzkir))] {
            let mut body = Vec::new();
            serialize::tagged_serialize(&(Versioned(arith_preimage()), ir), &mut body).unwrap();
            bodies.push(body);
        }
        bodies
    })
}

/// One change to a real input. Positions are taken modulo the input's length.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Set(usize, u8),
    Truncate(usize),
    Splice(usize, Vec<u8>),
    Remove(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip(at, bit)),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Set(at, b)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16)).prop_map(|(at, b)| Mutation::Splice(at, b)),
        1 => (any::<usize>(), 1usize..64).prop_map(|(at, n)| Mutation::Remove(at, n)),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop::collection::vec(mutation(), 1..4)
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        if bytes.is_empty() {
            break;
        }
        let len = bytes.len();
        match m {
            Mutation::Flip(at, bit) => bytes[at % len] ^= 1 << bit,
            Mutation::Set(at, b) => bytes[at % len] = *b,
            Mutation::Truncate(at) => bytes.truncate(at % len),
            Mutation::Splice(at, b) => drop(bytes.splice(at % len..at % len, b.iter().copied())),
            Mutation::Remove(at, n) => drop(bytes.drain(at % len..(at % len + n).min(len))),
        }
    }
    bytes
}

/// Runs `f`, failing the case on a panic or an error whose code is not in `allowed`.
fn expect_codes<T>(what: &str, allowed: &[ErrorCode], f: impl FnOnce() -> Result<T>) -> std::result::Result<Option<T>, TestCaseError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Err(p) => Err(TestCaseError::fail(format!("{what} panicked: {}", crate::error::panic_text(&p)))),
        Ok(Ok(v)) => Ok(Some(v)),
        // The cost model's panic caught by the backstop means validation let something through.
        Ok(Err(e)) if e.message.contains(ir_check::LAYOUT_PANICKED) => Err(TestCaseError::fail(format!("{what}: validation gap: {e}"))),
        Ok(Err(e)) if allowed.contains(&e.code) && !e.message.is_empty() => Ok(None),
        Ok(Err(e)) => Err(TestCaseError::fail(format!("{what}: unexpected {e}"))),
    }
}

/// An IR that passed `parse_ir` (validation, no k): its k and its model must not panic (a panic
/// the k's backstop caught is a validation gap too), and checking a preimage against it
/// (`/check` with IR) gives a witness error or skips, never a panic (the IR VM's own panics on
/// witness values that are not curve points are caught there).
fn exercise_valid_ir(ir: &IrSource, bytes: &[u8], values: &[u64]) -> std::result::Result<(), TestCaseError> {
    expect_codes("ir_k", IR_CODES, || ir_k(bytes))?;
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| ir.model().rows()))
        .map_err(|p| TestCaseError::fail(format!("a validated IR panicked upstream: {}\n{ir:?}", crate::error::panic_text(&p))))?;
    let preimage = serialize_preimage(&preimage_for(ir, values));
    expect_codes("check_with_ir", &[ErrorCode::InvalidWitness, ErrorCode::WitnessUnsatisfied], || check_with_ir(bytes, &preimage))?;
    Ok(())
}

// ---- structured hostile IR ----

fn fr() -> impl Strategy<Value = Fr> {
    prop_oneof![any::<u64>().prop_map(Fr::from), Just(-Fr::from(1u64))]
}

fn alignment() -> impl Strategy<Value = Alignment> {
    let atom = prop_oneof![
        4 => Just(AlignmentSegment::Atom(AlignmentAtom::Field)),
        4 => (0u32..70).prop_map(|length| AlignmentSegment::Atom(AlignmentAtom::Bytes { length })),
        1 => Just(AlignmentSegment::Atom(AlignmentAtom::Compress)),
        1 => Just(AlignmentSegment::Option(vec![Alignment(vec![AlignmentSegment::Atom(AlignmentAtom::Field)])])),
    ];
    prop::collection::vec(atom, 0..4).prop_map(Alignment)
}

/// Instructions whose variable operands mostly fall among the first few variables (so many IRs
/// are valid and reach the cost model) and sometimes far out of range; widths and counts likewise.
fn instruction() -> impl Strategy<Value = Instruction> {
    let v = || prop_oneof![8 => 0u32..12, 1 => any::<u32>()];
    let bits = || prop_oneof![6 => 0u32..64, 2 => 240u32..260, 1 => any::<u32>()];
    let vars = || prop::collection::vec(v(), 0..6);
    prop_oneof![
        v().prop_map(|cond| Instruction::Assert { cond }),
        (v(), v(), v()).prop_map(|(bit, a, b)| Instruction::CondSelect { bit, a, b }),
        (v(), bits()).prop_map(|(var, bits)| Instruction::ConstrainBits { var, bits }),
        (v(), v()).prop_map(|(a, b)| Instruction::ConstrainEq { a, b }),
        v().prop_map(|var| Instruction::ConstrainToBoolean { var }),
        v().prop_map(|var| Instruction::Copy { var }),
        v().prop_map(|var| Instruction::DeclarePubInput { var }),
        (prop::option::of(v()), prop_oneof![4 => 0u32..4, 1 => any::<u32>()]).prop_map(|(guard, count)| Instruction::PiSkip { guard, count }),
        (v(), v(), v(), v()).prop_map(|(a_x, a_y, b_x, b_y)| Instruction::EcAdd { a_x, a_y, b_x, b_y }),
        (v(), v(), v()).prop_map(|(a_x, a_y, scalar)| Instruction::EcMul { a_x, a_y, scalar }),
        v().prop_map(|scalar| Instruction::EcMulGenerator { scalar }),
        vars().prop_map(|inputs| Instruction::HashToCurve { inputs }),
        fr().prop_map(|imm| Instruction::LoadImm { imm }),
        (v(), bits()).prop_map(|(var, bits)| Instruction::DivModPowerOfTwo { var, bits }),
        (v(), v(), bits()).prop_map(|(divisor, modulus, bits)| Instruction::ReconstituteField { divisor, modulus, bits }),
        v().prop_map(|var| Instruction::Output { var }),
        vars().prop_map(|inputs| Instruction::TransientHash { inputs }),
        (alignment(), vars()).prop_map(|(alignment, inputs)| Instruction::PersistentHash { alignment, inputs }),
        (v(), v()).prop_map(|(a, b)| Instruction::TestEq { a, b }),
        (v(), v()).prop_map(|(a, b)| Instruction::Add { a, b }),
        (v(), v()).prop_map(|(a, b)| Instruction::Mul { a, b }),
        v().prop_map(|a| Instruction::Neg { a }),
        v().prop_map(|a| Instruction::Not { a }),
        (v(), v(), bits()).prop_map(|(a, b, bits)| Instruction::LessThan { a, b, bits }),
        prop::option::of(v()).prop_map(|guard| Instruction::PublicInput { guard }),
        prop::option::of(v()).prop_map(|guard| Instruction::PrivateInput { guard }),
    ]
}

fn hostile_ir() -> impl Strategy<Value = IrSource> {
    let num_inputs = prop_oneof![8 => 0u32..6, 1 => Just(1_000_000_000u32), 1 => any::<u32>()];
    (num_inputs, any::<bool>(), prop::collection::vec(instruction(), 0..10)).prop_map(|(num_inputs, do_communications_commitment, ins)| IrSource {
        num_inputs,
        do_communications_commitment,
        instructions: Arc::new(ins),
    })
}

fn preimage_for(ir: &IrSource, values: &[u64]) -> ProofPreimage {
    let mut p = arith_preimage();
    let take = |n: usize| values.iter().cycle().take(n).map(|v| Fr::from(*v % 3)).collect::<Vec<_>>();
    p.inputs = if ir.num_inputs <= MAX_INPUTS { take(ir.num_inputs as usize) } else { vec![] };
    p.private_transcript = take(3);
    p.public_transcript_outputs = take(2);
    p.communications_commitment = ir.do_communications_commitment.then(|| (Fr::from(1u64), Fr::from(2u64)));
    p
}

fn bzkir(ir: &IrSource) -> Vec<u8> {
    let mut out = Vec::new();
    serialize::tagged_serialize(ir, &mut out).unwrap();
    out
}

const IR_CODES: &[ErrorCode] = &[ErrorCode::InvalidIr];
const KEY_CODES: &[ErrorCode] = &[ErrorCode::KeyCorrupt];

proptest! {
    #![proptest_config(config(1500))]

    /// Random bytes, bare or behind the `.bzkir` tag or a JSON brace.
    #[test]
    fn ir_from_random_bytes(prefix in 0usize..3, body in prop::collection::vec(any::<u8>(), 0..256)) {
        let bytes = [[&b""[..], b"midnight:ir-source[v2]:", b"{"][prefix], &body[..]].concat();
        expect_codes("parse_ir", IR_CODES, || parse_ir(&bytes))?;
        expect_codes("ir_k", IR_CODES, || ir_k(&bytes))?;
    }

    /// Structured IR with out-of-range variables, widths, counts, alignments and input counts:
    /// INVALID_IR, or an IR whose k, model and check run without a panic.
    #[test]
    fn structured_hostile_ir(ir in hostile_ir(), values in prop::collection::vec(any::<u64>(), 1..8)) {
        let bytes = bzkir(&ir);
        // A check takes IR the cost model never saw (it skips the k): typed codes still.
        let preimage = serialize_preimage(&preimage_for(&ir, &values));
        expect_codes("check_with_ir", &[ErrorCode::InvalidIr, ErrorCode::InvalidWitness, ErrorCode::WitnessUnsatisfied], || check_with_ir(&bytes, &preimage))?;
        let from_bzkir = expect_codes("parse_ir", IR_CODES, || parse_ir(&bytes))?;
        if let Some(parsed) = &from_bzkir {
            prop_assert_eq!(parsed, &ir);
            exercise_valid_ir(parsed, &bytes, &values)?;
        }
        let json = serde_json::to_vec(&serde_json::json!({
            "version": {"major": 2, "minor": 0},
            "num_inputs": ir.num_inputs,
            "do_communications_commitment": ir.do_communications_commitment,
            "instructions": serde_json::to_value(&*ir.instructions).unwrap(),
        })).unwrap();
        let from_json = expect_codes("parse_ir(json)", IR_CODES, || parse_ir(&json))?;
        prop_assert_eq!(from_json.is_some(), from_bzkir.is_some());
    }
}

proptest! {
    #![proptest_config(config(600))]

    /// Real IRs (JSON and tagged) truncated, bit-flipped and spliced. Only the IRs cheap to lay out
    /// are mutated, since every surviving case runs the cost model.
    #[test]
    fn ir_mutations(which in any::<prop::sample::Index>(), m in mutations(), values in prop::collection::vec(any::<u64>(), 1..8)) {
        let irs = small_irs();
        let bytes = apply(irs[which.index(irs.len())].clone(), &m);
        if let Some(ir) = expect_codes("parse_ir", IR_CODES, || parse_ir(&bytes))? {
            exercise_valid_ir(&ir, &bytes, &values)?;
        }
    }

    /// Serialized preimages and witness JSON, real ones mutated and random ones.
    #[test]
    fn witness_mutations(which in any::<prop::sample::Index>(), m in mutations(), random in prop::collection::vec(any::<u8>(), 0..128)) {
        let serialized = serialize_preimage(&arith_preimage());
        for bytes in [apply(serialized.clone(), &m), random.clone(), [&serialized[..24], &random[..]].concat()] {
            expect_codes("into_preimage(Serialized)", &[ErrorCode::InvalidWitness], || Witness::Serialized(bytes.into()).into_preimage("c"))?;
        }
        let jsons = witness_jsons();
        let json = apply(jsons[which.index(jsons.len())].clone(), &m);
        for text in [String::from_utf8_lossy(&json).into_owned(), String::from_utf8_lossy(&random).into_owned()] {
            expect_codes("into_preimage(Json)", &[ErrorCode::InvalidWitness], || Witness::Json(text).into_preimage("c"))?;
        }
    }

    /// `/prove` and `/check` bodies (with and without key material / IR), mutated.
    #[test]
    fn payload_mutations(which in any::<prop::sample::Index>(), m in mutations()) {
        let bodies = payloads();
        let body = apply(bodies[which.index(bodies.len())].clone(), &m);
        expect_codes("decode_prove_request", &[ErrorCode::InvalidArgument], || decode_prove_request(&body))?;
        if let Some(req) = expect_codes("decode_check_request", &[ErrorCode::InvalidArgument], || decode_check_request(&body))? {
            if let Some(ir) = req.ir {
                expect_codes("check_with_ir", &[ErrorCode::InvalidIr, ErrorCode::InvalidWitness, ErrorCode::WitnessUnsatisfied], || check_with_ir(&ir, &req.preimage))?;
            }
        }
    }
}

proptest! {
    #![proptest_config(config(500))]

    /// Prover keys (generated from a test circuit) and verifier keys (the fixtures' and
    /// generated), mutated: KEY_CORRUPT or a key that reads.
    #[test]
    fn key_mutations(which in any::<prop::sample::Index>(), m in mutations()) {
        let (_, keys) = arith_keys();
        let pk = apply(keys.prover_key.clone(), &m);
        expect_codes("read_prover_key", KEY_CODES, || read_prover_key(&pk, "pk", keys.k))?;
        let vks = real_verifier_keys();
        let vk = apply(vks[which.index(vks.len())].clone(), &m);
        expect_codes("read_verifier_key", KEY_CODES, || read_verifier_key(&vk, "vk"))?;
    }
}

proptest! {
    #![proptest_config(config(120))]

    /// A whole circuit from artifacts where one of the three is mutated.
    #[test]
    fn circuit_from_mutated_artifacts(which in 0usize..3, m in mutations()) {
        let (ir, keys) = arith_keys();
        let mut parts = [ir.clone(), keys.prover_key.clone(), keys.verifier_key.clone()];
        parts[which] = apply(parts[which].clone(), &m);
        let artifacts = Artifacts { ir: (&parts[0], "ir".into()), prover: (&parts[1], "pk".into()), verifier: (&parts[2], "vk".into()) };
        expect_codes("from_artifacts", &[ErrorCode::InvalidIr, ErrorCode::KeyCorrupt], || Circuit::from_artifacts("arith", artifacts, None))?;
    }
}

// ---- the examples from issue 9, and the real circuits ----

#[test]
fn missing_variable_is_invalid_ir_naming_the_instruction() {
    let ir = br#"{"version":{"major":2,"minor":0},"num_inputs":0,"do_communications_commitment":false,"instructions":[{"op":"assert","cond":9}]}"#;
    for err in [parse_ir(ir).unwrap_err(), ir_k(ir).unwrap_err(), keygen(ir, &ParamsStore::new(vec![])).err().unwrap()] {
        assert_eq!(err.code, ErrorCode::InvalidIr, "{err}");
        assert!(err.message.contains("instruction 0 (assert) reads variable 9, but only 0 are defined"), "{err}");
    }
    let later = br#"{"version":{"major":2,"minor":0},"num_inputs":2,"do_communications_commitment":false,"instructions":[{"op":"add","a":0,"b":1},{"op":"neg","a":3}]}"#;
    let err = parse_ir(later).unwrap_err();
    assert!(err.message.contains("instruction 1 (neg) reads variable 3, but only 3 are defined"), "{err}");
}

#[test]
fn a_billion_inputs_is_invalid_ir_before_anything_is_allocated() {
    let ir = br#"{"version":{"major":2,"minor":0},"num_inputs":1000000000,"do_communications_commitment":false,"instructions":[]}"#;
    super::memory::reset_high_water();
    let before = super::memory::live_bytes();
    for err in [parse_ir(ir).unwrap_err(), keygen(ir, &ParamsStore::new(vec![])).err().unwrap()] {
        assert_eq!(err.code, ErrorCode::InvalidIr, "{err}");
        assert!(err.message.contains("num_inputs is 1000000000; at most 65536"), "{err}");
    }
    let grown = super::memory::high_water_bytes().saturating_sub(before);
    assert!(grown < 64 << 20, "validating grew the heap by {grown} bytes");
    let float = br#"{"version":{"major":2,"minor":0},"num_inputs":1e9,"do_communications_commitment":false,"instructions":[]}"#;
    assert_eq!(parse_ir(float).unwrap_err().code, ErrorCode::InvalidIr);
    let tagged = bzkir(&IrSource { num_inputs: u32::MAX, do_communications_commitment: false, instructions: Arc::new(vec![]) });
    assert_eq!(parse_ir(&tagged).unwrap_err().code, ErrorCode::InvalidIr);
}

/// A `.bzkir` whose instruction vector declares 2^32 - 1 entries and has none: midnight-serialize
/// caps the preallocation (32 MiB of capacity) and fails at the end of the bytes.
#[test]
fn a_huge_declared_vector_length_allocates_boundedly() {
    let empty = bzkir(&IrSource::default());
    // ... `num_inputs` 0, `do_communications_commitment` false, then the vector's SCALE length
    // (0x00 for empty); replaced by the four-byte form of u32::MAX.
    assert_eq!(empty.last(), Some(&0));
    let huge = [&empty[..empty.len() - 1], &[0b11, 0xff, 0xff, 0xff, 0xff]].concat();
    super::memory::reset_high_water();
    let before = super::memory::live_bytes();
    let err = parse_ir(&huge).unwrap_err();
    let grown = super::memory::high_water_bytes().saturating_sub(before);
    assert_eq!(err.code, ErrorCode::InvalidIr, "{err}");
    assert!(grown <= (32 << 20) + (1 << 20), "decoding grew the heap by {grown} bytes");
}

#[test]
fn widths_skips_and_alignments_the_circuit_cannot_take_are_invalid_ir() {
    let ir = |ins: Vec<Instruction>| bzkir(&IrSource { num_inputs: 2, do_communications_commitment: false, instructions: Arc::new(ins) });
    for (ins, says) in [
        (vec![Instruction::DivModPowerOfTwo { var: 0, bits: 256 }], "instruction 0 (div_mod_power_of_two) has bits 256; at most 254"),
        (vec![Instruction::ReconstituteField { divisor: 0, modulus: 1, bits: 300 }], "(reconstitute_field) has bits 300"),
        (vec![Instruction::LessThan { a: 0, b: 1, bits: 253 }], "instruction 0 (less_than) has bits 253; at most 252"),
        (
            vec![Instruction::DeclarePubInput { var: 0 }, Instruction::PiSkip { guard: None, count: 2 }],
            "instruction 1 (pi_skip) groups 2 public inputs, but only 1",
        ),
        (
            vec![Instruction::PersistentHash { alignment: Alignment(vec![AlignmentSegment::Atom(AlignmentAtom::Bytes { length: 64 })]), inputs: vec![0, 1] }],
            "alignment of 3 field elements, but reads only 2",
        ),
        (
            vec![Instruction::PersistentHash { alignment: Alignment(vec![AlignmentSegment::Atom(AlignmentAtom::Compress)]), inputs: vec![0] }],
            "compressed alignment atom",
        ),
        (vec![Instruction::TransientHash { inputs: vec![0; ir_check::MAX_HASH_INPUTS + 1] }], "reads 4097 variables"),
    ] {
        let err = parse_ir(&ir(ins)).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidIr);
        assert!(err.message.contains(says), "{err}\nexpected: {says}");
    }
}

/// Found by the long fuzz run: the IR VM panics (midnight-circuits' "Failed here", "Point should be
/// part of the subgroup") on EC coordinates that do not decode as a point, which only the witness
/// decides. `/check` with IR answers WITNESS_UNSATISFIED.
#[test]
fn points_that_do_not_decode_are_witness_unsatisfied_not_a_panic() {
    let ir =
        bzkir(&IrSource { num_inputs: 4, do_communications_commitment: false, instructions: Arc::new(vec![Instruction::EcMul { a_x: 0, a_y: 0, scalar: 0 }]) });
    let mut preimage = arith_preimage();
    preimage.inputs = vec![Fr::from(0u64); 4];
    preimage.public_transcript_inputs = vec![];
    let err = check_with_ir(&ir, &serialize_preimage(&preimage)).unwrap_err();
    assert_eq!(err.code, ErrorCode::WitnessUnsatisfied, "{err}");
    assert!(err.message.contains("rejects the witness (the IR VM panicked)"), "{err}");
    // The real EC test circuit with its off-curve witness, through the same path.
    let ecc = test_circuit("ecc.zkir");
    let bad = Witness::Json(String::from_utf8(test_circuit("ecc.bad-offcurve.witness.json")).unwrap()).into_preimage("ecc").unwrap();
    assert_eq!(check_with_ir(&ecc, &serialize_preimage(&bad)).unwrap_err().code, ErrorCode::WitnessUnsatisfied);
}

/// Every real circuit passes validation, with the k it had before validation existed (upstream's
/// unvalidated decode and cost model) and the k the fixtures document.
#[test]
fn real_circuits_pass_validation_with_their_k_unchanged() {
    let documented: &[(&str, u8)] = &[
        ("builtin/zswap/output", 14),
        ("builtin/zswap/sign", 13),
        ("builtin/zswap/spend", 15),
        ("builtin/dust/spend", 13),
        ("arttt/zkir/decimals", 6),
        ("arttt/zkir/name", 6),
        ("arttt/zkir/symbol", 6),
        ("arttt/zkir/totalSupply", 6),
        ("arttt/zkir/isRegistered", 9),
        ("arttt/zkir/allowance", 10),
        ("arttt/zkir/balanceOf", 10),
        ("arttt/zkir/pendingOf", 10),
        ("arttt/zkir/clearMemos", 13),
        ("arttt/zkir/register", 13),
        ("arttt/zkir/sweep", 13),
        ("arttt/zkir/burn", 14),
        ("arttt/zkir/approve", 15),
        ("arttt/zkir/burnFrom", 15),
        ("arttt/zkir/mint", 15),
        ("arttt/zkir/_move", 16),
        ("arttt/zkir/transfer", 16),
        ("arttt/zkir/transferFrom", 16),
        ("precompiles/composable-inner_get", 6),
        ("precompiles/token-vault_depositUnshielded", 9),
        ("precompiles/micro-dao_buyIn", 16),
    ];
    let expected: serde_json::Value = serde_json::from_slice(&test_circuit("expected.json")).unwrap();
    let mut checked = 0;
    let mut seen: Vec<(IrSource, u8)> = Vec::new();
    for (path, bytes) in real_ir_files() {
        let stem = path.with_extension("").to_string_lossy().into_owned();
        let upstream = match bytes[0] {
            b'{' => IrSource::load(&bytes[..]).unwrap(),
            _ => serialize::tagged_deserialize(&mut &bytes[..]).unwrap(),
        };
        let started = std::time::Instant::now();
        // The `.zkir` and `.bzkir` of one circuit are the same IR: it is laid out once (the cost
        // model takes seconds on the largest), the other file is decoded and validated.
        let k = match seen.iter().find(|(ir, _)| *ir == upstream) {
            Some((_, k)) => {
                ir_check::validate(&upstream).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                *k
            }
            None => {
                let (ir, k) = parse_ir_k(bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                assert_eq!(ir, upstream);
                seen.push((ir, k));
                k
            }
        };
        eprintln!("{}: k={k}, validated in {:.2?}", path.display(), started.elapsed());
        let want = documented.iter().find(|(s, _)| stem.ends_with(s)).map(|(_, k)| *k).or_else(|| {
            let name = path.file_stem()?.to_str()?;
            expected.get(name)?.get("k")?.as_u64().map(|k| k as u8)
        });
        let want = want.unwrap_or_else(|| panic!("no documented k for {}", path.display()));
        assert_eq!(k, want, "{}", path.display());
        checked += 1;
    }
    assert!(checked >= 55, "only {checked} real IRs found");
}

/// Real keys read through the bounded reader as they did through transient-crypto's `init`.
#[test]
fn real_keys_read_through_the_bounded_reader() {
    let (ir, keys) = arith_keys();
    Circuit::from_artifacts(
        "arith",
        Artifacts { ir: (ir, "ir".into()), prover: (&keys.prover_key, "pk".into()), verifier: (&keys.verifier_key, "vk".into()) },
        None,
    )
    .unwrap();
    let arttt = fixtures().join("contracts/arttt");
    for id in ["decimals", "isRegistered"] {
        Circuit::load(id, &super::circuit::CircuitFiles::in_dir(&arttt, id), None).unwrap_or_else(|e| panic!("{id}: {e}"));
    }
    for vk in real_verifier_keys() {
        read_verifier_key(vk, "vk").unwrap();
    }
    // A key for another k is refused before anything is sized by its k.
    let err = read_prover_key(&keys.prover_key, "pk", keys.k + 1).unwrap_err();
    assert_eq!(err.code, ErrorCode::KeyCorrupt);
    assert!(err.message.contains(&format!("is for k={}, but the circuit IR needs k={}", keys.k, keys.k + 1)), "{err}");
}
