//! Prover parameters: one copy per k, made once and kept.
//!
//! k ≤ 14 comes from the Midnight SRS compiled into the addon, downsized once per k for the
//! whole process; larger k is read from `bls_midnight_2p{k}` in the configured directories
//! (the proof server's cache layout) once per store. Files on disk must hash to the SHA-256
//! Midnight pins (midnight-base-crypto's data provider, which also fetches missing ones from a
//! configured source and writes them atomically), unless development parameters are allowed.
use super::error::{fail, ErrorCode, Result, WithCode};
use super::sync::{lock, read, write};
use base_crypto::data_provider::{FetchMode, MidnightDataProvider, OutputMode};
use sha2::Digest;
use midnight_proofs::utils::SerdeFormat;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use transient_crypto::proofs::{ParamsProver, ParamsProverProvider};

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

pub struct ParamsStore {
    sources: ParamsSources,
    by_k: RwLock<HashMap<u8, ParamsProver>>,
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
    pub fn get(&self, k: u8) -> Result<ParamsProver> {
        if k <= EMBEDDED_MAX_K {
            return Ok(embedded(k));
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

    /// Parameters handed in as `bls_midnight_2p{k}` file bytes (a kmProvider's `getParams`),
    /// held once they hash to Midnight's pin (or unpinned files are allowed).
    pub fn add_file(&self, k: u8, bytes: &[u8]) -> Result<()> {
        let name = MidnightDataProvider::name_k(k);
        let pin = PINS.iter().find(|(pk, _)| *pk == k).map(|(_, h)| *h);
        let actual = super::files::hex(&sha2::Sha256::digest(bytes));
        if !self.sources.allow_unpinned && pin != Some(actual.as_str()) {
            return fail(
                ErrorCode::ParamsMismatch,
                format!("the {name} bytes handed in hash to {actual}, not Midnight's pin {} (for development parameters, set allowUnpinnedParams)", pin.unwrap_or("(none)")),
            );
        }
        let params = parse(bytes, || format!("the {name} bytes handed in are not a parameters file"))?;
        write(&self.by_k).insert(k, params);
        Ok(())
    }

    /// The k values currently held (embedded ones are shared by every store).
    pub fn loaded_ks(&self) -> Vec<u8> {
        let mut ks: Vec<u8> = read(&self.by_k).keys().copied().collect();
        ks.extend((0..=EMBEDDED_MAX_K).filter(|&k| EMBEDDED[k as usize].get().is_some()));
        ks.sort_unstable();
        ks
    }

    fn read_from_disk(&self, k: u8) -> Result<ParamsProver> {
        let name = MidnightDataProvider::name_k(k);
        let dirs = &self.sources.dirs;
        let path = match dirs.iter().find(|d| d.join(&name).is_file()) {
            Some(dir) if self.sources.allow_unpinned => dir.join(&name),
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
        let file = std::fs::File::open(&path).code(ErrorCode::ParamsNotFound, || path.display().to_string())?;
        parse(std::io::BufReader::new(file), || format!("{} is not a parameters file", path.display()))
    }
}

/// The reader panics on some malformed input (unpinned files are not vetted by a hash).
fn parse(reader: impl std::io::Read, what: impl FnOnce() -> String) -> Result<ParamsProver> {
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| ParamsProver::read(reader)));
    read.unwrap_or_else(|_| Err(std::io::Error::other("malformed"))).code(ErrorCode::ParamsNotFound, what)
}

/// `dir/bls_midnight_2p{k}` once it hashes to Midnight's pin, fetched from `source` first when
/// given and missing. Runs the data provider's future on a runtime of its own: callers are
/// driver or task threads, never pool workers.
pub fn verified(k: u8, dir: &Path, source: Option<&str>) -> Result<PathBuf> {
    let name = MidnightDataProvider::name_k(k);
    let base_url = match source {
        Some(s) => url::Url::parse(&format!("{}/", s.trim_end_matches('/')))
            .code(ErrorCode::InvalidOptions, || format!("paramsSource {s:?} is not a URL"))?,
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
        Err(e) => fail(
            ErrorCode::ParamsNotFound,
            format!("no {name} with Midnight's pinned SHA-256 from {}: {e}", source.unwrap_or("disk")),
        ),
    }
}

/// Parsing the 2^14 SRS is the slow part; do it once per process.
fn embedded_base() -> &'static ParamsProver {
    static BASE: OnceLock<ParamsProver> = OnceLock::new();
    BASE.get_or_init(|| ParamsProver::read(EMBEDDED_SRS).expect("embedded SRS is checked at build time"))
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
        self.0.get(k).map_err(|e| std::io::Error::new(std::io::ErrorKind::NotFound, e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use midnight_proofs::poly::commitment::Params;

    #[test]
    fn downsizes_once_per_k() {
        let a = ParamsStore::new(vec![]).get(10).unwrap();
        let b = ParamsStore::new(vec![]).get(10).unwrap();
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

    #[test]
    fn missing_large_k_names_file_and_dirs() {
        let store = ParamsStore::new(vec![PathBuf::from("/nonexistent-a"), PathBuf::from("/nonexistent-b")]);
        let err = store.get(15).err().expect("k=15 is not on disk");
        assert_eq!(err.code, ErrorCode::ParamsNotFound);
        assert!(err.message.contains("bls_midnight_2p15"), "{}", err.message);
        assert!(err.message.contains("/nonexistent-a") && err.message.contains("/nonexistent-b"), "{}", err.message);
    }
}
