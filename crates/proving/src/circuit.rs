//! One circuit's artifacts, read and deserialized once: IR, prover key, verifier key.
use super::cost::Measured;
use super::error::{fail, unwind_as, ErrorCode, Result, WithCode};
use super::files::read_file;
use super::ir_check::Size;
use super::key_check::{check_k, read_prover_key, read_prover_key_beside, KeyRead};
use super::key_map::{KeyMap, Sources};
use midnight_zkir::{IrSource, Preprocessed};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;
use transient_crypto::proofs::{ProofPreimage, ProverKey, VerifierKey};

pub struct Circuit {
    pub id: String,
    pub ir: IrSource,
    pub prover_key: ProverKey<IrSource>,
    pub verifier_key: VerifierKey,
    /// SHA-256 of the verifier key's file bytes: what a contract location's `vk=` names.
    pub verifier_sha256: [u8; 32],
    pub k: u8,
    pub rows: usize,
    /// Size of the prover key's uncompressed serialization; the deserialized key is several
    /// times larger (precomputed cosets), which `memory::live_bytes` shows.
    pub prover_key_bytes: u64,
    pub load_ms: f64,
    /// Highest heap a successful proof of this circuit needed (see `memory::ProofWindow`).
    pub peak_proof_bytes: AtomicU64,
    /// Peaks measured so far, which refine the reservations of its next proofs.
    pub measured: Mutex<Measured>,
    /// Native memory its load added to the budget's held bytes, given back on eviction.
    pub load_bytes: AtomicU64,
    /// The mapped key file whose pages the prover key's polynomials are, if it was mapped.
    /// Declared last: it must outlive `prover_key`, which borrows it (see `key_map`).
    pub key_map: Option<KeyMap>,
    /// Why a circuit loaded with a key cache holds its key in private memory.
    pub unmapped_because: Option<String>,
}

/// What a load makes of the IR and the prover key.
struct Parts {
    ir: IrSource,
    prover_key: ProverKey<IrSource>,
    verifier_key: VerifierKey,
    size: Size,
}

/// The files of circuit `id` inside a Compact output directory.
pub struct CircuitFiles {
    pub prover: PathBuf,
    pub verifier: PathBuf,
    pub ir: PathBuf,
}

impl CircuitFiles {
    pub fn in_dir(dir: &Path, id: &str) -> Self {
        let zkir = dir.join("zkir");
        let bzkir = zkir.join(format!("{id}.bzkir"));
        CircuitFiles {
            prover: dir.join("keys").join(format!("{id}.prover")),
            verifier: dir.join("keys").join(format!("{id}.verifier")),
            ir: if bzkir.is_file() { bzkir } else { zkir.join(format!("{id}.zkir")) },
        }
    }
}

/// A circuit's three files as bytes: the ledger's `ProvingKeyMaterial`.
pub struct KeyMaterial {
    pub prover_key: Vec<u8>,
    pub verifier_key: Vec<u8>,
    /// `.bzkir` bytes, or `.zkir` JSON where the directory has no `.bzkir`.
    pub ir: Vec<u8>,
}

/// A circuit's three artifacts in memory, each with a name for error messages.
#[derive(Clone)]
pub struct Artifacts<'a> {
    pub ir: (&'a [u8], String),
    pub prover: (&'a [u8], String),
    pub verifier: (&'a [u8], String),
}

/// A prover key file's bytes as read once, with their SHA-256 (a built-in's, found equal to
/// the official one): loading it neither reads nor hashes it again.
pub struct HashedKey {
    pub bytes: Vec<u8>,
    pub sha256: [u8; 32],
}

impl Circuit {
    /// Reads a circuit's files (with read(2), see `files::read_file`); `cache` as in
    /// `from_artifacts`.
    pub fn load(id: &str, files: &CircuitFiles, cache: Option<&Path>) -> Result<Circuit> {
        Circuit::load_with(id, files, None, cache)
    }

    /// `load`, with the prover key already read when `prover` is given.
    pub fn load_with(id: &str, files: &CircuitFiles, prover: Option<&HashedKey>, cache: Option<&Path>) -> Result<Circuit> {
        let read = |path: &Path| read_file(path, ErrorCode::CircuitNotFound);
        let ir = read(&files.ir)?;
        let read_here;
        let prover_bytes = match prover {
            Some(key) => &key.bytes[..],
            None => {
                read_here = read(&files.prover)?;
                &read_here[..]
            }
        };
        let verifier = read(&files.verifier)?;
        let name = |p: &Path, what: &str| format!("{what} {}", p.display());
        let a = Artifacts {
            ir: (&ir, name(&files.ir, "circuit IR")),
            prover: (prover_bytes, name(&files.prover, "prover key")),
            verifier: (&verifier, name(&files.verifier, "verifier key")),
        };
        Circuit::from_hashed_artifacts(id, a, prover.map(|p| p.sha256), cache)
    }

    /// The circuit of these artifacts. With a key cache directory, its prover key is mapped from
    /// the key map there (`key_map`), which the first load writes; a map that cannot be written
    /// or opened leaves the key in private memory, as without a cache.
    pub fn from_artifacts(id: &str, a: Artifacts, cache: Option<&Path>) -> Result<Circuit> {
        Circuit::from_hashed_artifacts(id, a, None, cache)
    }

    /// `from_artifacts`, with the prover key's SHA-256 when it is known.
    fn from_hashed_artifacts(id: &str, a: Artifacts, prover_sha256: Option<[u8; 32]>, cache: Option<&Path>) -> Result<Circuit> {
        let started = Instant::now();
        let Some(dir) = cache else { return Circuit::decode(id, a, started) };
        let sources = Sources::of(prover_sha256.unwrap_or_else(|| Sha256::digest(a.prover.0).into()), a.verifier.0, a.ir.0);
        if let Some(map) = KeyMap::open(dir, &sources) {
            if let Ok(mapped) = Circuit::mapped(id, &a, map, started) {
                return Ok(mapped);
            }
        }
        let mut decoded = Circuit::decode(id, a.clone(), started)?;
        let saved = decoded.save_map(dir, &sources);
        match saved.and_then(|()| KeyMap::open(dir, &sources).ok_or_else(|| "the key map written did not open".to_owned())) {
            Ok(map) => Circuit::mapped(id, &a, map, started).or(Ok(decoded)),
            Err(why) => {
                decoded.unmapped_because = Some(why);
                Ok(decoded)
            }
        }
    }

    /// Writes this circuit's key map into `dir`, or says why not.
    fn save_map(&self, dir: &Path, sources: &Sources) -> std::result::Result<(), String> {
        let pk = self.prover_key.init().map_err(|e| e.to_string())?;
        let size = Size { k: self.k, rows: self.rows };
        KeyMap::write(dir, sources, size, &pk.pk().polynomials()).map_err(|e| e.message)
    }

    /// The circuit, its prover key's polynomials taken from `map` (computed nothing).
    fn mapped(id: &str, a: &Artifacts, map: KeyMap, started: Instant) -> Result<Circuit> {
        let Size { k, rows } = map.size;
        // The prover key's decode is the long pole; the IR and the verifier key (its points
        // decompressed) are read beside it.
        let ((ir, verifier_key), prover_key) = rayon::join(
            || rayon::join(|| super::ir_check::parse_unsized(a.ir.0).map_err(|e| e.about(&a.ir.1)), || read_verifier_key(a)),
            || super::key_check::read_prover_key_with(a.prover.0, &a.prover.1, k, map.polynomials()),
        );
        let parts = Parts { ir: ir?, prover_key: prover_key?, verifier_key: verifier_key?, size: Size { k, rows } };
        Circuit::assemble(id, a, parts, Some(map), started)
    }

    /// The circuit, its prover key decoded and its polynomials computed here.
    fn decode(id: &str, a: Artifacts, started: Instant) -> Result<Circuit> {
        // The IR's cost model (serial) and the key's decode take about as long at every k: the
        // key is read beside it, for the k its header claims, and checked against the IR's after.
        let ir_k = OnceLock::new();
        let ((ir, verifier_key), early) = rayon::join(
            || {
                let parsed = super::ir_check::parse(a.ir.0);
                let _ = ir_k.set(parsed.as_ref().ok().map(|(_, size)| size.k));
                (parsed.map_err(|e| e.about(&a.ir.1)), read_verifier_key(&a))
            },
            || read_prover_key_beside(a.prover.0, &a.prover.1, &ir_k),
        );
        let (ir, Size { k, rows }) = ir?;
        let prover_key = match early? {
            // Another k first, as a read knowing the k reports it, whatever else the read found.
            KeyRead::Read { key, k: claimed } => check_k(claimed, k, &a.prover.1).and(key)?,
            KeyRead::Deferred => read_prover_key(a.prover.0, &a.prover.1, k)?,
        };
        Circuit::assemble(id, &a, Parts { ir, prover_key, verifier_key: verifier_key?, size: Size { k, rows } }, None, started)
    }

    fn assemble(id: &str, a: &Artifacts, parts: Parts, key_map: Option<KeyMap>, started: Instant) -> Result<Circuit> {
        Ok(Circuit {
            id: id.to_owned(),
            rows: parts.size.rows,
            k: parts.size.k,
            ir: parts.ir,
            prover_key_bytes: gzip_isize(a.prover.0),
            prover_key: parts.prover_key,
            verifier_key: parts.verifier_key,
            verifier_sha256: Sha256::digest(a.verifier.0).into(),
            load_ms: started.elapsed().as_secs_f64() * 1e3,
            peak_proof_bytes: AtomicU64::new(0),
            measured: Mutex::default(),
            load_bytes: AtomicU64::new(0),
            key_map,
            unmapped_because: None,
        })
    }
}

fn read_verifier_key(a: &Artifacts) -> Result<VerifierKey> {
    super::key_check::read_verifier_key(a.verifier.0, &a.verifier.1)
}

/// IR from `.zkir` JSON or tagged `.bzkir` bytes, validated (see `ir_check`): `INVALID_IR` naming
/// what is wrong, never a panic. Every IR from outside enters here or through `parse_ir_k`. This
/// one does not work out the k (the cost model: 0.1–2.6 s for arttt's circuits), which only
/// proving needs: it is for checks against bare IR.
pub fn parse_ir(bytes: &[u8]) -> Result<IrSource> {
    super::ir_check::parse_unsized(bytes)
}

/// `parse_ir` and the k the IR needs, which validation computes anyway (the cost model takes
/// seconds on the largest circuits, so it is not run twice).
pub fn parse_ir_k(bytes: &[u8]) -> Result<(IrSource, u8)> {
    super::ir_check::parse(bytes).map(|(ir, size)| (ir, size.k))
}

/// The serialized size of a prover key file, read from its last four bytes without loading it.
pub fn prover_key_size(path: &Path) -> Option<u64> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = File::open(path).ok()?;
    file.seek(SeekFrom::End(-4)).ok()?;
    let mut tail = [0u8; 4];
    file.read_exact(&mut tail).ok()?;
    Some(gzip_isize(&tail))
}

/// A prover key file ends with a gzip stream whose last four bytes (ISIZE) hold the
/// uncompressed length mod 2^32.
pub fn gzip_isize(file: &[u8]) -> u64 {
    file.len().checked_sub(4).map(|at| u32::from_le_bytes(file[at..].try_into().expect("4 bytes")) as u64).unwrap_or(0)
}

/// Checks the preimage against the circuit and returns the IR VM's run, which the proof is made
/// from (`Zkir::prove` would run the VM again). Errors as in `check_against_ir`.
pub fn check_preimage(circuit: &Circuit, preimage: &ProofPreimage) -> Result<Preprocessed> {
    preprocess(&circuit.ir, &circuit.id, preimage)
}

/// `check` against bare IR (no keys needed), as the proof server's `/check` does with the IR a
/// client sends; `id` names the circuit in messages.
pub fn check_against_ir(ir: &IrSource, id: &str, preimage: &ProofPreimage) -> Result<Vec<Option<usize>>> {
    Ok(preprocess(ir, id, preimage)?.pi_skips)
}

/// Shape errors are the caller's (INVALID_WITNESS); a VM failure means the witness does not
/// satisfy the circuit (WITNESS_UNSATISFIED), and its message says which constraint failed.
fn preprocess(ir: &IrSource, id: &str, preimage: &ProofPreimage) -> Result<Preprocessed> {
    let expected = ir.num_inputs as usize;
    if preimage.inputs.len() != expected {
        return fail(ErrorCode::InvalidWitness, format!("{id} takes {expected} inputs, the witness has {}", preimage.inputs.len()));
    }
    if ir.do_communications_commitment && preimage.communications_commitment.is_none() {
        return fail(ErrorCode::InvalidWitness, format!("{id} needs witness.communicationsCommitment"));
    }
    // The VM panics on witness values no check can rule out beforehand (EC coordinates that are
    // not a point): that is the witness failing the circuit too.
    unwind_as(
        ErrorCode::WitnessUnsatisfied,
        || format!("{id} rejects the witness (the IR VM panicked)"),
        || ir.preprocess(preimage).code(ErrorCode::WitnessUnsatisfied, || format!("{id} rejects the witness")),
    )
}
