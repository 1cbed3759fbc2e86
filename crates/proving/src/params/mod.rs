//! Prover parameters: one copy per k, made once and kept.
//!
//! k ≤ 14 comes from the Midnight SRS compiled into the addon, downsized once per k for the
//! whole process; larger k is read from `bls_midnight_2p{k}` in the configured directories
//! (the proof server's cache layout) once per store. Files on disk must hash to the SHA-256
//! Midnight pins (midnight-base-crypto's data provider, which also fetches missing ones from a
//! configured source and writes them atomically), unless development parameters are allowed
//! (`dev`), which are sized and checked first (`file`) and verified with their own setup.
pub mod dev;
pub mod file;

use super::error::{fail, ErrorCode, Result, WithCode};
use base_crypto::data_provider::{FetchMode, MidnightDataProvider, OutputMode};
use file::Points;
use kernels::sync::{lock, read, write};
use midnight_curves::Bls12;
use midnight_proofs::poly::kzg::params::ParamsKZG;
use midnight_proofs::utils::SerdeFormat;
use sha2::Digest;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use transient_crypto::proofs::{ParamsProver, ParamsProverProvider, ParamsVerifier};

static EMBEDDED_SRS: &[u8] = include_bytes!(env!("MIDNIGHT_SRS_2P14"));
pub const EMBEDDED_MAX_K: u8 = 14;
/// The largest k Midnight publishes parameters for (`bls_midnight_2p25`), as the proof server
/// serves them.
pub const MAX_K: u8 = 25;

/// (k, hex SHA-256) of Midnight's `bls_midnight_2p{k}` files, from midnight-base-crypto (see build.rs).
static PINS: &[(u8, &str)] = include!(concat!(env!("OUT_DIR"), "/params_pins.rs"));

/// Where parameters files come from beyond the embedded SRS.
#[derive(Default, Clone)]
pub struct ParamsSources {
    pub dirs: Vec<PathBuf>,
    /// Base URL to fetch missing files from (`{source}/bls_midnight_2p{k}`) into the first dir.
    pub fetch_from: Option<String>,
    /// Accept files that do not hash to Midnight's pins (development parameters).
    pub allow_unpinned: bool,
}

/// Whose setup parameters come from, which decides what verifies their proofs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Midnight's ceremony: the embedded SRS, or a file with Midnight's pinned hash. Proofs
    /// verify with Midnight's verifier parameters, as the ledger verifies them.
    Midnight,
    /// Any other setup (`allow_unpinned`): proofs verify with that setup's own `g2` and `s_g2`,
    /// never with Midnight's.
    Development,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Midnight => "midnight",
            Origin::Development => "development",
        }
    }
}

/// One k's parameters, both sides.
#[derive(Clone)]
pub struct Params {
    pub prover: ParamsProver,
    pub verifier: ParamsVerifier,
    pub origin: Origin,
}

impl Params {
    /// Both sides of `prover`'s setup: whatever its origin, its proofs verify with its own.
    fn of(prover: ParamsProver, origin: Origin) -> Self {
        Params { verifier: verifier_of(&prover.0), prover, origin }
    }
}

/// The verifier's side of a setup: its `g2` and `s_g2`, which is all a KZG verifier reads.
/// transient-crypto builds a `ParamsVerifier` only from a parameters file, so this writes the
/// smallest one (k = 0) that carries them. For Midnight's files it equals transient-crypto's
/// `PARAMS_VERIFIER`, which decodes the whole 2^14 SRS a second time to keep those two points.
pub fn verifier_of(setup: &ParamsKZG<Bls12>) -> ParamsVerifier {
    // Any point fills the k = 0 file's G1 slots: a verifier never reads them.
    let one = || vec![setup.g_lagrange()[0]];
    let smallest = ParamsKZG::<Bls12>::from_parts(0, one(), Some(one()), setup.g2(), setup.s_g2());
    let mut bytes = Vec::new();
    smallest.write_custom(&mut bytes, SerdeFormat::RawBytesUnchecked).expect("in-memory write");
    ParamsVerifier::read(&bytes[..]).expect("a k = 0 parameters file just written")
}

pub struct ParamsStore {
    sources: ParamsSources,
    by_k: RwLock<HashMap<u8, Params>>,
    /// One lock per k: concurrent first uses of one k load it once, and a slow fetch of one k
    /// never holds up proofs of another.
    loading: Mutex<HashMap<u8, Arc<Mutex<()>>>>,
}

impl ParamsStore {
    pub fn new(dirs: Vec<PathBuf>) -> Self {
        Self::with_sources(ParamsSources { dirs, ..Default::default() })
    }

    pub fn with_sources(sources: ParamsSources) -> Self {
        ParamsStore { sources, by_k: RwLock::new(HashMap::new()), loading: Mutex::new(HashMap::new()) }
    }

    /// The parameters for `k`, loading them on first use.
    pub fn get(&self, k: u8) -> Result<Params> {
        if k <= EMBEDDED_MAX_K {
            return Ok(Params::of(embedded(k), Origin::Midnight));
        }
        if k > MAX_K {
            return fail(ErrorCode::ParamsNotFound, format!("k={k}: Midnight publishes parameters up to k={MAX_K}"));
        }
        if let Some(p) = read(&self.by_k).get(&k) {
            return Ok(p.clone());
        }
        let for_k = lock(&self.loading).entry(k).or_default().clone();
        let _guard = lock(&for_k);
        if let Some(p) = read(&self.by_k).get(&k) {
            return Ok(p.clone());
        }
        let params = self.read_from_disk(k)?;
        write(&self.by_k).insert(k, params.clone());
        Ok(params)
    }

    /// Whether parameters for `k` are at hand without asking a caller: embedded, held, or on disk.
    pub fn at_hand(&self, k: u8) -> bool {
        let name = MidnightDataProvider::name_k(k);
        k <= EMBEDDED_MAX_K || read(&self.by_k).contains_key(&k) || self.sources.dirs.iter().any(|d| d.join(&name).is_file())
    }

    /// Whose setup the parameters held for `k` come from; None before they are loaded.
    pub fn origin(&self, k: u8) -> Option<Origin> {
        if k <= EMBEDDED_MAX_K {
            return Some(Origin::Midnight);
        }
        read(&self.by_k).get(&k).map(|p| p.origin)
    }

    /// Parameters handed in as `bls_midnight_2p{k}` file bytes (a kmProvider's `getParams`),
    /// held once they hash to Midnight's pin (or unpinned files are allowed).
    pub fn add_file(&self, k: u8, bytes: &[u8]) -> Result<()> {
        let what = format!("the {} bytes handed in", MidnightDataProvider::name_k(k));
        let params = self.classify(k, bytes, &what)?;
        write(&self.by_k).insert(k, params);
        Ok(())
    }

    /// Midnight's parameters when `bytes` hash to its pin for `k`; else, when allowed,
    /// development parameters once their size, k and trailer check out.
    fn classify(&self, k: u8, bytes: &[u8], what: &str) -> Result<Params> {
        let pin = pin(k);
        let actual = super::files::hex(&sha2::Sha256::digest(bytes));
        // Midnight's pinned bytes are taken as they are; any other file's points are checked.
        let (points, origin) = if pin == Some(actual.as_str()) {
            (Points::Vouched, Origin::Midnight)
        } else if self.sources.allow_unpinned {
            file::inspect(k, bytes, what)?;
            (Points::Checked, Origin::Development)
        } else {
            return fail(
                ErrorCode::ParamsMismatch,
                format!("{what} hash to {actual}, not Midnight's pin {} (for development parameters, set allowUnpinnedParams)", pin.unwrap_or("(none)")),
            );
        };
        Ok(Params::of(parse(bytes, points, || format!("{what} are not a parameters file"))?, origin))
    }

    /// An unpinned file, sized before it is read: its length bounds the read.
    fn read_unpinned(&self, k: u8, path: &Path) -> Result<Params> {
        let what = path.display().to_string();
        let file = std::fs::File::open(path).code(ErrorCode::ParamsNotFound, || what.clone())?;
        let len = file.metadata().code(ErrorCode::ParamsNotFound, || what.clone())?.len();
        file::check_len(k, len, &what)?;
        let mut bytes = Vec::with_capacity(len as usize);
        // One byte past the size seen: a file that grew since is refused by its length.
        file.take(len + 1).read_to_end(&mut bytes).code(ErrorCode::ParamsNotFound, || what.clone())?;
        self.classify(k, &bytes, &what)
    }

    /// The k values currently held (embedded ones are shared by every store).
    pub fn loaded_ks(&self) -> Vec<u8> {
        let mut ks: Vec<u8> = read(&self.by_k).keys().copied().collect();
        ks.extend((0..=EMBEDDED_MAX_K).filter(|&k| EMBEDDED[k as usize].get().is_some()));
        ks.sort_unstable();
        ks
    }

    fn read_from_disk(&self, k: u8) -> Result<Params> {
        let name = MidnightDataProvider::name_k(k);
        let dirs = &self.sources.dirs;
        let path = match dirs.iter().find(|d| d.join(&name).is_file()) {
            Some(dir) if self.sources.allow_unpinned => return self.read_unpinned(k, &dir.join(&name)),
            Some(dir) => verified(k, dir, None)?,
            None => match (&self.sources.fetch_from, dirs.first()) {
                (Some(source), Some(dir)) => verified(k, dir, Some(source))?,
                _ => {
                    let searched: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
                    return fail(
                        ErrorCode::ParamsNotFound,
                        format!("k={k} needs {name}, not found in [{}] (set paramsPath or MIDNIGHT_PP, or a paramsSource to fetch from)", searched.join(", ")),
                    );
                }
            },
        };
        // Hashed again as read: the pin vouches for exactly the bytes decoded unchecked.
        let bytes = std::fs::read(&path).code(ErrorCode::ParamsNotFound, || path.display().to_string())?;
        self.classify(k, &bytes, &path.display().to_string())
    }
}

/// The hex SHA-256 Midnight pins for `bls_midnight_2p{k}`.
fn pin(k: u8) -> Option<&'static str> {
    PINS.iter().find(|(pk, _)| *pk == k).map(|(_, h)| *h)
}

/// midnight-proofs' G2 reader panics on a point off the curve (unpinned files are not vetted by
/// a hash).
fn parse(bytes: &[u8], points: Points, what: impl FnOnce() -> String) -> Result<ParamsProver> {
    let read = std::panic::catch_unwind(|| file::decode(bytes, points));
    let params = read.unwrap_or_else(|_| Err(std::io::Error::other("malformed"))).code(ErrorCode::ParamsNotFound, what)?;
    Ok(ParamsProver(Arc::new(params)))
}

/// `dir/bls_midnight_2p{k}` once it hashes to Midnight's pin, fetched from `source` first when
/// given and missing. Runs the data provider's future on a runtime of its own, blocking the
/// calling thread: a prover's pool worker (which then decodes the file in parallel), a driver or
/// a task thread, never a thread of an async runtime.
pub fn verified(k: u8, dir: &Path, source: Option<&str>) -> Result<PathBuf> {
    let name = MidnightDataProvider::name_k(k);
    let base_url = match source {
        Some(s) => url::Url::parse(&format!("{}/", s.trim_end_matches('/'))).code(ErrorCode::InvalidOptions, || format!("paramsSource {s:?} is not a URL"))?,
        None => base_crypto::data_provider::BASE_URL.clone(),
    };
    let provider = MidnightDataProvider {
        fetch_mode: if source.is_some() { FetchMode::OnDemand } else { FetchMode::Synchronous },
        base_url,
        output_mode: OutputMode::Log,
        expected_data: vec![],
        dir: dir.to_path_buf(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().code(ErrorCode::ParamsNotFound, || "starting the fetch runtime".into())?;
    match runtime.block_on(provider.get_file(&name, "parameters")) {
        Ok(_) => Ok(dir.join(&name)),
        // On disk, InvalidData is a hash mismatch; a fetch reports every failure (unreachable
        // source, or wrong bytes three times) as InvalidData after its retries.
        Err(e) if source.is_none() && e.kind() == std::io::ErrorKind::InvalidData => {
            fail(ErrorCode::ParamsMismatch, format!("{e} (for development parameters, set allowUnpinnedParams)"))
        }
        Err(e) => fail(ErrorCode::ParamsNotFound, format!("no {name} with Midnight's pinned SHA-256 from {}: {e}", source.unwrap_or("disk"))),
    }
}

/// Parsing the 2^14 SRS is the slow part; do it once per process (on the caller's pool).
fn embedded_base() -> &'static ParamsProver {
    static BASE: OnceLock<ParamsProver> = OnceLock::new();
    BASE.get_or_init(|| parse(EMBEDDED_SRS, Points::Vouched, String::new).expect("embedded SRS is checked at build time"))
}

static EMBEDDED: [OnceLock<ParamsProver>; EMBEDDED_MAX_K as usize + 1] = [const { OnceLock::new() }; EMBEDDED_MAX_K as usize + 1];

fn embedded(k: u8) -> ParamsProver {
    EMBEDDED[k as usize]
        .get_or_init(|| {
            let base = embedded_base();
            if k == EMBEDDED_MAX_K {
                return base.clone();
            }
            let mut params = base.0.as_ref().clone();
            params.downsize(k as u32);
            ParamsProver(Arc::new(params))
        })
        .clone()
}

/// The `bls_midnight_2p{k}` file for k ≤ 14 as the proof server stores it, made from the embedded
/// SRS (what @midnight-ntwrk/zkir-v2's `getParams(k)` expects: it does not downsize by itself).
pub fn embedded_file(k: u8) -> Result<Vec<u8>> {
    if k > EMBEDDED_MAX_K {
        return fail(ErrorCode::InvalidArgument, format!("k={k}: the embedded SRS covers k <= {EMBEDDED_MAX_K}"));
    }
    let mut bytes = Vec::new();
    embedded(k).0.write_custom(&mut bytes, SerdeFormat::RawBytesUnchecked).expect("in-memory write");
    Ok(bytes)
}

/// Adapter for midnight's async provider trait; every k it is asked for was loaded beforehand
/// through `ParamsStore::get`, so this never does I/O.
pub struct ReadyParams<'a>(pub &'a ParamsStore);

impl ParamsProverProvider for ReadyParams<'_> {
    async fn get_params(&self, k: u8) -> std::io::Result<ParamsProver> {
        self.0.get(k).map(|p| p.prover).map_err(|e| std::io::Error::new(std::io::ErrorKind::NotFound, e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use midnight_proofs::poly::commitment::Params;

    #[test]
    fn downsizes_once_per_k() {
        let a = ParamsStore::new(vec![]).get(10).unwrap().prover;
        let b = ParamsStore::new(vec![]).get(10).unwrap().prover;
        assert!(Arc::ptr_eq(&a.0, &b.0), "another get must reuse the downsized params");
        assert_eq!(a.0.max_k(), 10);
        assert!(ParamsStore::new(vec![]).loaded_ks().contains(&10));
    }

    #[test]
    fn embedded_file_of_k14_is_the_srs_itself() {
        assert_eq!(embedded_file(14).unwrap(), EMBEDDED_SRS);
        let k10 = embedded_file(10).unwrap();
        let reread = ParamsProver::read(&k10[..]).unwrap();
        assert_eq!(reread.0.max_k(), 10);
        assert_eq!(embedded_file(15).err().unwrap().code, ErrorCode::InvalidArgument);
    }

    #[test]
    fn handed_in_files_must_hash_to_the_pin() {
        let store = ParamsStore::new(vec![]);
        let mut file = embedded_file(12).unwrap();
        store.add_file(12, &file).expect("the official 2p12 matches its pin");
        assert!(store.by_k.read().unwrap().contains_key(&12));
        file[200] ^= 1;
        assert_eq!(store.add_file(12, &file).err().unwrap().code, ErrorCode::ParamsMismatch);
        assert_eq!(store.add_file(11, &embedded_file(12).unwrap()).err().unwrap().code, ErrorCode::ParamsMismatch, "pinned per k");
    }

    fn dev_store(dir: &Path, allow_unpinned: bool) -> ParamsStore {
        ParamsStore::with_sources(ParamsSources { dirs: vec![dir.to_path_buf()], allow_unpinned, ..Default::default() })
    }

    #[test]
    fn development_parameters_need_allow_unpinned_and_verify_with_their_own_setup() {
        let dir = dev::dir_with_k15();
        assert_eq!(dev_store(dir, false).get(15).err().unwrap().code, ErrorCode::ParamsMismatch);
        let store = dev_store(dir, true);
        assert_eq!(store.origin(15), None, "not loaded yet");
        let params = store.get(15).unwrap();
        assert_eq!((params.origin, store.origin(15)), (Origin::Development, Some(Origin::Development)));
        assert_eq!(params.prover.0.max_k(), 15);
        assert_eq!(store.get(14).unwrap().origin, Origin::Midnight, "k <= 14 is always the embedded SRS");
        let bytes = std::fs::read(dir.join("bls_midnight_2p15")).unwrap();
        let held = ParamsStore::with_sources(ParamsSources { allow_unpinned: true, ..Default::default() });
        held.add_file(15, &bytes).unwrap();
        assert_eq!(held.origin(15), Some(Origin::Development));
        assert_eq!(ParamsStore::new(vec![]).add_file(15, &bytes).err().unwrap().code, ErrorCode::ParamsMismatch);
    }

    #[test]
    fn a_changed_development_file_is_refused_with_a_code() {
        let source = std::fs::read(dev::dir_with_k15().join("bls_midnight_2p15")).unwrap();
        let dir = std::env::temp_dir().join(format!("mnp-params-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut flipped = source.clone();
        flipped[123_456] ^= 1;
        let mut other_k = source.clone();
        other_k[0] = 16;
        for (what, bytes) in [("truncated", &source[..source.len() / 2]), ("flipped", &flipped[..]), ("another k", &other_k[..]), ("empty", &[][..])] {
            std::fs::write(dir.join("bls_midnight_2p15"), bytes).unwrap();
            assert_eq!(dev_store(&dir, true).get(15).err().map(|e| e.code), Some(ErrorCode::ParamsMismatch), "{what} on disk");
            let store = ParamsStore::with_sources(ParamsSources { allow_unpinned: true, ..Default::default() });
            assert_eq!(store.add_file(15, bytes).err().map(|e| e.code), Some(ErrorCode::ParamsMismatch), "{what} handed in");
        }
    }

    #[test]
    fn missing_large_k_names_file_and_dirs() {
        let store = ParamsStore::new(vec![PathBuf::from("/nonexistent-a"), PathBuf::from("/nonexistent-b")]);
        let err = store.get(15).err().expect("k=15 is not on disk");
        assert_eq!(err.code, ErrorCode::ParamsNotFound);
        assert!(err.message.contains("bls_midnight_2p15"), "{}", err.message);
        assert!(err.message.contains("/nonexistent-a") && err.message.contains("/nonexistent-b"), "{}", err.message);
    }
}
