use super::*;
use crate::scheduler::CancelHandle;
use proving::circuit::Circuit;
use proving::error::{guarded, ErrorCode};
use proving::keygen::keygen;
use std::path::Path;

pub(super) fn circuit_source(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../__test__/circuits").join(name)
}

pub(super) fn witness(name: &str) -> Witness {
    Witness::Json(std::fs::read_to_string(circuit_source(name)).unwrap())
}

/// A Compact-layout directory with keys generated for our test circuits.
fn compact_dir(ids: &[&str]) -> PathBuf {
    compact_dir_with(ids, &ParamsStore::new(vec![]))
}

/// `compact_dir` with keys generated on `params`.
fn compact_dir_with(ids: &[&str], params: &ParamsStore) -> PathBuf {
    let named: Vec<(&str, &str)> = ids.iter().map(|id| (*id, *id)).collect();
    compact_dir_named(&named, params)
}

/// A Compact-layout directory holding, under each `(id, source)`'s id, the test circuit `source`.
pub(super) fn compact_dir_named(circuits: &[(&str, &str)], params: &ParamsStore) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!("mnp-core-{}-{}", std::process::id(), N.fetch_add(1, SeqCst)));
    for sub in ["keys", "zkir"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    for (id, source) in circuits {
        let ir = std::fs::read(circuit_source(&format!("{source}.zkir"))).unwrap();
        let keys = keygen(&ir, params).unwrap();
        std::fs::write(dir.join("zkir").join(format!("{id}.zkir")), &ir).unwrap();
        std::fs::write(dir.join("keys").join(format!("{id}.prover")), keys.prover_key).unwrap();
        std::fs::write(dir.join("keys").join(format!("{id}.verifier")), keys.verifier_key).unwrap();
    }
    dir
}

fn prover_with(dir: PathBuf, max_concurrent: usize) -> Arc<Prover> {
    limited(dir, max_concurrent, None)
}

fn limited(dir: PathBuf, max_concurrent: usize, memory_limit_bytes: Option<u64>) -> Arc<Prover> {
    let key_cache_dir = std::env::temp_dir().join("mnp-test-keys");
    Prover::new(ProverConfig {
        circuit_dirs: vec![dir],
        params: ParamsSources::default(),
        threads: Some(2),
        max_concurrent,
        max_queue: Some(32),
        memory_limit_bytes,
        key_cache_dir,
    })
    .unwrap()
}

fn prover(dir: PathBuf) -> Arc<Prover> {
    prover_with(dir, 1)
}

#[test]
fn overlapping_proofs_on_one_pool_all_succeed() {
    // More proofs than drivers, all on one circuit: workers busy loading it or inside one
    // proof steal others' work. Before jobs ran on driver threads this deadlocked (a stolen
    // proof blocked on the circuit its own worker was loading).
    let p = prover_with(compact_dir(&["bench_k10"]), 2);
    let (tx, rx) = std::sync::mpsc::channel();
    for id in 0..12 {
        let tx = tx.clone();
        p.submit_prove(id, "bench_k10".into(), witness("bench_k10.witness.json"), None, &CancelHandle::default(), move |r| tx.send(r).unwrap());
    }
    for _ in 0..12 {
        let out = rx.recv().unwrap().unwrap();
        assert!(p.verify_now("bench_k10", &out.proof, out.public_inputs).unwrap());
    }
}

#[test]
fn a_proof_that_cannot_fit_the_budget_is_refused_and_one_that_fits_reserves_its_measured_peak() {
    let dir = compact_dir(&["arith"]);
    let refuse = |p: &Arc<Prover>| {
        let (tx, rx) = std::sync::mpsc::channel();
        p.submit_prove(1, "arith".into(), witness("arith.witness.json"), None, &CancelHandle::default(), move |r| tx.send(r).unwrap());
        rx.recv().unwrap().err().unwrap()
    };
    // Not loaded yet: its key's size says the load alone is beyond 64 KiB.
    let err = refuse(&limited(dir.clone(), 2, Some(64 << 10)));
    assert_eq!(err.code, ErrorCode::MemoryLimitExceeded);
    assert!(err.message.contains("the limit is 0.1 MiB (memoryLimit)"), "{}", err.message);
    let p = limited(dir, 2, Some(1 << 30));
    let (tx, rx) = std::sync::mpsc::channel();
    p.submit_prove(2, "arith".into(), witness("arith.witness.json"), None, &CancelHandle::default(), move |r| tx.send(r).unwrap());
    rx.recv().unwrap().unwrap();
    let status = p.status();
    let circuit = &status.circuits[0];
    assert!(status.budget.held >= circuit.load_bytes && circuit.load_bytes > 0, "the loaded key is held");
    assert_eq!(circuit.reserve_bytes, circuit.peak_proof_bytes, "the next proof reserves the peak measured alone");
    assert_eq!((status.budget.reserved, status.budget.reservations.len()), (0, 0), "freed when the proof ended");
    assert!(status.peak_native_bytes >= status.budget.held + circuit.peak_proof_bytes);
    assert_eq!(status.proofs_completed, 1);
}

#[test]
fn idle_circuits_are_evicted_least_recent_first_and_one_in_use_never_is() {
    let dir = compact_dir(&["arith", "ecc"]);
    let probe = limited(dir.clone(), 1, None);
    probe.preload_now(&["arith".into(), "ecc".into()]).unwrap();
    let load_of = |s: &Status, id: &str| s.circuits.iter().find(|c| c.id == id).unwrap().load_bytes;
    let (held_both, arith_load, ecc_load) = {
        let s = probe.status();
        (s.budget.held, load_of(&s, "arith"), load_of(&s, "ecc"))
    };
    assert!(arith_load > 0);

    // Room for less than both: loading ecc evicts arith, the least recently used.
    let p = limited(dir.clone(), 1, Some(held_both - 1));
    p.preload_now(&["arith".into()]).unwrap();
    p.preload_now(&["ecc".into()]).unwrap();
    let s = p.status();
    assert_eq!(s.circuits.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["ecc"]);
    // A load's size is measured, and a reload may measure a few KiB more (another thread's
    // allocation in between); held memory is the parameters plus ecc's load as measured now.
    let expected = held_both - arith_load - ecc_load + load_of(&s, "ecc");
    assert_eq!((s.circuits_evicted, s.budget.held), (1, expected), "held memory shrank by arith's load");
    // Proving arith again reloads it (evicting ecc to make room) and succeeds.
    let out = p.prove_now("arith", witness("arith.witness.json"), None).unwrap();
    assert!(p.verify_now("arith", &out.proof, out.public_inputs).unwrap());

    // A circuit in use is never evicted, even past the limit.
    let q = limited(dir, 1, Some(held_both - 1));
    let in_use = q.circuit("arith").unwrap();
    q.preload_now(&["ecc".into()]).unwrap();
    assert_eq!(q.status().circuits.len(), 2);
    assert_eq!(q.status().circuits_evicted, 0);
    drop(in_use);

    // A failed load leaves no entry behind.
    let before = q.keys.len();
    assert_eq!(q.circuit("nope").err().unwrap().code, ErrorCode::CircuitNotFound);
    assert_eq!(q.keys.len(), before);
}

#[test]
fn release_ends_the_provers_threads() {
    let p = prover(compact_dir(&["arith"]));
    p.prove_now("arith", witness("arith.witness.json"), None).unwrap();
    assert!(p.status().live_threads >= 2, "a driver and the pool's workers");
    p.close();
    p.release();
    let deadline = Instant::now() + std::time::Duration::from_secs(5);
    while p.status().live_threads > 0 && Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(p.status().live_threads, 0);
    assert_eq!(p.prove_now("arith", witness("arith.witness.json"), None).err().unwrap().code, ErrorCode::ProverClosed);
}

#[test]
fn concurrent_first_uses_share_one_load() {
    let p = prover(compact_dir(&["arith"]));
    let loaded: Vec<Arc<Circuit>> =
        std::thread::scope(|s| (0..4).map(|_| s.spawn(|| p.circuit("arith").unwrap())).collect::<Vec<_>>().into_iter().map(|h| h.join().unwrap()).collect());
    assert!(loaded.iter().all(|c| Arc::ptr_eq(c, &loaded[0])));
    assert_eq!(p.status().circuits.len(), 1);
}

#[test]
fn proves_and_verifies_on_the_pool() {
    let p = prover(compact_dir(&["arith"]));
    let (tx, rx) = std::sync::mpsc::channel();
    let events = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = events.clone();
    p.set_listener(Arc::new(move |e: ProofEvent| seen.lock().unwrap().push(e)));
    p.submit_prove(7, "arith".into(), witness("arith.witness.json"), None, &CancelHandle::default(), move |r| tx.send(r).unwrap());
    let out = rx.recv().unwrap().unwrap();
    let events = events.lock().unwrap().clone();
    assert_eq!(events.iter().map(|e| (e.kind, e.proof_id)).collect::<Vec<_>>(), vec![("started", 7), ("finished", 7)]);
    let peak = events[1].peak_bytes.unwrap();
    assert!(peak > 0 && events[1].duration_ms.unwrap() > 0.0);
    assert_eq!(p.status().circuits[0].peak_proof_bytes, peak);
    assert!(out.proof.starts_with(b"midnight:proof[v5]:"));
    assert!(p.verify_now("arith", &out.proof, out.public_inputs.clone()).unwrap());
    let mut wrong = out.public_inputs.clone();
    wrong[1] = wrong[1] + Fr::from(1u64);
    assert!(!p.verify_now("arith", &out.proof, wrong).unwrap());
    assert_eq!(p.status().proofs_completed, 1);
}

/// Proves `id` with a seeded RNG with our engines off, then on: the proofs must be equal byte
/// for byte, and our gate evaluator and FFT must have run.
fn engines_on_and_off_prove_alike(p: &Prover, id: &str) -> ProofOutput {
    use rand::SeedableRng;
    let circuit = p.circuit(id).unwrap();
    let engines = |on: bool| {
        proving::engines::set_enabled(on);
    };
    let prove = |on: bool| {
        engines(on);
        let out = p.prove_with_rng(&circuit, witness(&format!("{id}.witness.json")), None, rand::rngs::StdRng::seed_from_u64(11));
        engines(true);
        out.unwrap()
    };
    let upstream = prove(false);
    let (evaluated, transforms) = (proving::engines::gates::evaluated(), proving::engines::transforms());
    let ours = prove(true);
    assert!(proving::engines::gates::evaluated() > evaluated, "our gate evaluator ran");
    assert!(proving::engines::transforms() > transforms, "our FFT ran");
    assert_eq!(upstream.proof, ours.proof, "{id}");
    for (backend, out) in kernels::backend::each(|_| prove(true)) {
        assert_eq!(out.proof, ours.proof, "{id} on {backend:?}");
    }
    assert!(p.verify_now(id, &ours.proof, ours.public_inputs.clone()).unwrap());
    ours
}

#[test]
fn proofs_with_our_msm_gate_and_fft_engines_equal_those_without_byte_for_byte() {
    let p = prover(compact_dir(&["bench_k10"]));
    engines_on_and_off_prove_alike(&p, "bench_k10");
    assert!(p.status().msm.bytes >= 2 * 1024 * 96, "the k=10 SRS vectors are held affine");
}

/// A prover of `ids` whose keys are made on the k = 15 development parameters, which it accepts.
fn dev_prover(ids: &[&str]) -> Arc<Prover> {
    let sources = ParamsSources { dirs: vec![proving::params::dev::dir_with_k15().to_path_buf()], allow_unpinned: true, ..Default::default() };
    let dir = compact_dir_with(ids, &ParamsStore::with_sources(sources.clone()));
    let key_cache_dir = std::env::temp_dir().join("mnp-test-keys");
    let config = ProverConfig {
        circuit_dirs: vec![dir],
        params: sources,
        threads: Some(2),
        max_concurrent: 1,
        max_queue: Some(4),
        memory_limit_bytes: None,
        key_cache_dir,
    };
    Prover::new(config).unwrap()
}

#[test]
fn past_k14_proofs_with_our_engines_and_fixed_base_tables_equal_those_without() {
    use kernels::msm::Path;
    let p = dev_prover(&["bench_k15"]);
    engines_on_and_off_prove_alike(&p, "bench_k15");
    let k15 = p.status().msm.vectors.into_iter().filter(|v| v.points == 1 << 15).collect::<Vec<_>>();
    assert!(k15.iter().any(|v| v.path == Path::Fixed && v.fixed_bytes > 0), "k = 15 commitments took fixed-base tables: {k15:?}");
}

#[test]
fn unsatisfied_witness_and_panics_are_typed_errors() {
    let p = prover(compact_dir(&["arith", "ecc"]));
    let err = p.prove_now("arith", witness("arith.bad.witness.json"), None).err().unwrap();
    assert_eq!(err.code, ErrorCode::WitnessUnsatisfied);
    assert!(err.message.contains("Failed equality constraint"), "{}", err.message);
    let err = p.prove_now("ecc", witness("ecc.bad-offcurve.witness.json"), None).err().unwrap();
    assert_eq!(err.code, ErrorCode::WitnessUnsatisfied, "an off-curve point fails the circuit: {}", err.message);
    let err = guarded(|| -> Result<()> { panic!("a bug") }).unwrap_err();
    assert_eq!((err.code, err.message.as_str()), (ErrorCode::ProverPanic, "the prover panicked: a bug"));
    assert!(p.prove_now("arith", witness("arith.witness.json"), None).is_ok());
}

#[test]
fn cancelled_queued_proof_never_runs_and_closed_prover_rejects() {
    let p = prover(compact_dir(&["arith"]));
    let cancel = CancelHandle::default();
    cancel.cancel();
    let (tx, rx) = std::sync::mpsc::channel();
    p.submit_prove(1, "arith".into(), witness("arith.witness.json"), None, &cancel, move |r| tx.send(r).unwrap());
    assert_eq!(rx.recv().unwrap().err().unwrap().code, ErrorCode::Aborted);
    assert_eq!(p.status().proofs_completed + p.status().proofs_failed, 0);
    p.close();
    let (tx, rx) = std::sync::mpsc::channel();
    p.submit_task(|p| p.check_now("arith", witness("arith.witness.json")), move |r| tx.send(r).unwrap());
    assert_eq!(rx.recv().unwrap().err().unwrap().code, ErrorCode::ProverClosed);
}

#[test]
fn circuit_k_comes_from_the_ir_until_the_material_is_loaded_then_from_the_circuit() {
    let dir = compact_dir(&["arith"]);
    let p = prover(dir.clone());
    let file = |sub: &str, ext: &str| std::fs::read(dir.join(sub).join(format!("arith.{ext}"))).unwrap();
    let material = |prover_key: Vec<u8>| CircuitRef::Material {
        location: "arith".into(),
        ir: file("zkir", "zkir").into(),
        prover: prover_key.into(),
        verifier: file("keys", "verifier").into(),
    };
    // Keys unread: a material whose prover key is empty still answers its IR's k.
    assert_eq!(p.circuit_k_now(material(Vec::new())).unwrap(), 5);
    assert_eq!(p.status().circuits.len(), 0, "asking for k loads nothing");
    let full = material(file("keys", "prover"));
    p.check_now(material(file("keys", "prover")), witness("arith.witness.json")).unwrap();
    assert_eq!(p.circuit_k_now(full).unwrap(), 5);
    assert_eq!(p.circuit_k_now("arith".to_owned()).unwrap(), 5);
    assert_eq!(
        p.circuit_k_now(CircuitRef::Material { location: "x".into(), ir: b"{".to_vec().into(), prover: Vec::new().into(), verifier: Vec::new().into() })
            .unwrap_err()
            .code,
        ErrorCode::InvalidIr
    );
}

#[test]
fn development_proofs_verify_only_with_their_parameters_and_midnights_only_with_midnights() {
    use proving::params::Origin;
    use transient_crypto::proofs::PARAMS_VERIFIER;
    let p = dev_prover(&["bench_k15", "arith"]);
    let dev = p.prove_now("bench_k15", witness("bench_k15.witness.json"), None).unwrap();
    let midnight = p.prove_now("arith", witness("arith.witness.json"), None).unwrap();
    assert_eq!((dev.k, midnight.k), (15, 5));
    assert!(p.verify_now("bench_k15", &dev.proof, dev.public_inputs.clone()).unwrap());
    assert!(p.verify_now("arith", &midnight.proof, midnight.public_inputs.clone()).unwrap());
    let mut tampered = dev.proof.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(!p.verify_now("bench_k15", &tampered, dev.public_inputs.clone()).unwrap(), "a tampered development proof");

    let dev_verifier = p.params.get(15).unwrap().verifier;
    let verifies = |id: &str, out: &ProofOutput, params| {
        let proof = serialize::tagged_deserialize::<Proof>(&mut &out.proof[..]).unwrap();
        p.circuit(id).unwrap().verifier_key.verify(params, &proof, out.public_inputs.iter().copied()).is_ok()
    };
    assert!(!verifies("bench_k15", &dev, &PARAMS_VERIFIER), "a development proof against Midnight's parameters");
    assert!(!verifies("arith", &midnight, &dev_verifier), "a proof on Midnight's parameters against development ones");
    assert!(verifies("bench_k15", &dev, &dev_verifier) && verifies("arith", &midnight, &PARAMS_VERIFIER));
    // Midnight's verifier as the store builds it (from the SRS's G2 points alone) rules as
    // transient-crypto's `PARAMS_VERIFIER` does.
    let ours = p.params.get(5).unwrap().verifier;
    assert!(verifies("arith", &midnight, &ours) && !verifies("bench_k15", &dev, &ours));

    let origins: std::collections::HashMap<String, Option<Origin>> = p.status().circuits.into_iter().map(|c| (c.id, c.params)).collect();
    assert_eq!(origins["bench_k15"], Some(Origin::Development));
    assert_eq!(origins["arith"], Some(Origin::Midnight));
}

fn with_key_cache(dir: PathBuf, key_cache_dir: PathBuf) -> Arc<Prover> {
    Prover::new(ProverConfig {
        circuit_dirs: vec![dir],
        params: ParamsSources::default(),
        threads: Some(2),
        max_concurrent: 1,
        max_queue: Some(4),
        memory_limit_bytes: None,
        key_cache_dir,
    })
    .unwrap()
}

fn fresh_key_cache() -> PathBuf {
    std::env::temp_dir().join(format!("mnp-keymaps-{}-{}", std::process::id(), rand::random::<u64>()))
}

#[test]
fn a_mapped_prover_key_proves_byte_for_byte_as_the_decoded_one() {
    use proving::circuit::CircuitFiles;
    use rand::SeedableRng;
    let (dir, cache) = (compact_dir(&["bench_k10"]), fresh_key_cache());
    let p = prover(dir.clone());
    let files = CircuitFiles::in_dir(&dir, "bench_k10");
    let load = |cache: Option<&std::path::Path>| Arc::new(Circuit::load("bench_k10", &files, cache).unwrap());
    let (private, written, mapped) = (load(None), load(Some(&cache)), load(Some(&cache)));
    assert!(private.key_map.is_none() && written.key_map.is_some() && mapped.key_map.is_some());
    let prove = |c: &Arc<Circuit>| p.prove_with_rng(c, witness("bench_k10.witness.json"), None, rand::rngs::StdRng::seed_from_u64(5)).unwrap().proof;
    let expected = prove(&private);
    assert_eq!(prove(&written), expected);
    assert_eq!(prove(&mapped), expected);
    std::fs::remove_dir_all(cache).unwrap();
}

#[test]
fn a_key_map_truncated_under_a_loaded_circuit_fails_one_proof_typed_then_is_rebuilt() {
    let cache = fresh_key_cache();
    let p = with_key_cache(compact_dir(&["bench_k10"]), cache.clone());
    let circuit = p.circuit("bench_k10").unwrap();
    let map = circuit.key_map.as_ref().expect("mapped").path.clone();
    let (len, faults) = (std::fs::metadata(&map).unwrap().len(), kernels::mapping::faults_total());
    drop(circuit);
    std::fs::OpenOptions::new().write(true).open(&map).unwrap().set_len(4096).unwrap();
    let Err(err) = p.prove_now("bench_k10", witness("bench_k10.witness.json"), None) else { panic!("proved from a truncated key map") };
    assert_eq!(err.code, ErrorCode::ProofFailed, "{err}");
    assert!(err.message.contains("changed under the proof"), "{err}");
    assert!(kernels::mapping::faults_total() > faults);
    let out = p.prove_now("bench_k10", witness("bench_k10.witness.json"), None).unwrap();
    assert!(p.verify_now("bench_k10", &out.proof, out.public_inputs).unwrap());
    assert_eq!(std::fs::metadata(&map).unwrap().len(), len, "rebuilt whole");
    assert!(p.status().circuits[0].mapped_bytes > 0);
    std::fs::remove_dir_all(cache).unwrap();
}
