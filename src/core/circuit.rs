//! One circuit's artifacts, read and deserialized once: IR, prover key, verifier key.
use super::budget::Measured;
use super::error::{ErrorCode, Result, WithCode};
use super::files::read_file;
use midnight_zkir::IrSource;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;
use transient_crypto::proofs::{ProverKey, VerifierKey, Zkir};

pub struct Circuit {
    pub id: String,
    pub ir: IrSource,
    pub prover_key: ProverKey<IrSource>,
    pub verifier_key: VerifierKey,
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

/// A circuit's three artifacts in memory, each with a name for error messages.
pub struct Artifacts<'a> {
    pub ir: (&'a [u8], String),
    pub prover: (&'a [u8], String),
    pub verifier: (&'a [u8], String),
}

impl Circuit {
    /// Reads a circuit's files (with read(2), see `files::read_file`).
    pub fn load(id: &str, files: &CircuitFiles) -> Result<Circuit> {
        let read = |path: &Path| read_file(path, ErrorCode::CircuitNotFound);
        let (ir, prover, verifier) = (read(&files.ir)?, read(&files.prover)?, read(&files.verifier)?);
        let name = |p: &Path, what: &str| format!("{what} {}", p.display());
        Circuit::from_artifacts(
            id,
            Artifacts {
                ir: (&ir, name(&files.ir, "circuit IR")),
                prover: (&prover, name(&files.prover, "prover key")),
                verifier: (&verifier, name(&files.verifier, "verifier key")),
            },
        )
    }

    pub fn from_artifacts(id: &str, a: Artifacts) -> Result<Circuit> {
        let started = Instant::now();
        let ir = parse_ir(a.ir.0).code(ErrorCode::KeyCorrupt, || a.ir.1.clone())?;
        let prover_key: ProverKey<IrSource> = serialize::tagged_deserialize(&mut &a.prover.0[..]).code(ErrorCode::KeyCorrupt, || a.prover.1.clone())?;
        let pk = prover_key.init().code(ErrorCode::KeyCorrupt, || a.prover.1.clone())?;
        let verifier_key: VerifierKey = serialize::tagged_deserialize(&mut &a.verifier.0[..]).code(ErrorCode::KeyCorrupt, || a.verifier.1.clone())?;
        verifier_key.init().code(ErrorCode::KeyCorrupt, || a.verifier.1.clone())?;
        let k = ir.k();
        if pk.k() != k {
            return Err(super::error::ProverError::new(
                ErrorCode::KeyCorrupt,
                format!("{} is for k={}, but the circuit IR needs k={k}", a.prover.1, pk.k()),
            ));
        }
        Ok(Circuit {
            id: id.to_owned(),
            rows: ir.model().rows(),
            k,
            ir,
            prover_key_bytes: gzip_isize(a.prover.0),
            prover_key,
            verifier_key,
            load_ms: started.elapsed().as_secs_f64() * 1e3,
            peak_proof_bytes: AtomicU64::new(0),
            measured: Mutex::default(),
            load_bytes: AtomicU64::new(0),
        })
    }
}

/// Makes midnight-transient-crypto forget deserialized prover keys we no longer hold.
///
/// `ProverKey::init` keeps the last 5 deserialized keys in a process-wide LRU (`PK_CACHE`), so
/// an evicted circuit's key (147 MiB for the zswap output) would stay in memory until 5 other
/// keys were loaded. Initializing 5 tiny keys (a few KiB each) fills that cache with them: after
/// 5 accesses to 5 distinct keys, an LRU of 5 holds exactly those. Keys of circuits still loaded
/// stay alive through their own `Circuit`.
pub fn forget_evicted_keys() {
    static TINY: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    let tiny = TINY.get_or_init(|| {
        let params = super::params::ParamsStore::new(vec![]);
        (1..=5)
            .filter_map(|n| {
                let ir = format!(
                    r#"{{"version":{{"major":2,"minor":0}},"do_communications_commitment":false,"num_inputs":1,"instructions":[{{"op":"load_imm","imm":"0{n}"}},{{"op":"constrain_eq","a":0,"b":1}}]}}"#
                );
                super::keygen::keygen(ir.as_bytes(), &params).ok().map(|keys| keys.prover_key)
            })
            .collect()
    });
    for bytes in tiny {
        if let Ok(key) = serialize::tagged_deserialize::<ProverKey<IrSource>>(&mut &bytes[..]) {
            let _ = key.init();
        }
    }
}

/// IR from `.zkir` JSON or tagged `.bzkir` bytes, told apart by the JSON object's opening brace.
pub fn parse_ir(bytes: &[u8]) -> std::result::Result<IrSource, std::io::Error> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => IrSource::load(bytes),
        _ => serialize::tagged_deserialize(&mut &bytes[..]),
    }
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
    file.len()
        .checked_sub(4)
        .map(|at| u32::from_le_bytes(file[at..].try_into().expect("4 bytes")) as u64)
        .unwrap_or(0)
}
