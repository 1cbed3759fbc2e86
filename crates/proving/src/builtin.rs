//! The ledger's own circuits (`midnight/zswap/output|sign|spend`, `midnight/dust/spend`), with no
//! files from the user.
//!
//! IR and verifier keys are embedded from midnight-zswap / midnight-ledger (see build.rs). Prover
//! keys are not shipped by those crates (the proof server downloads them); we derive them with
//! keygen on first use, which reproduces the official bytes, and accept a key only when its
//! SHA-256 equals the official one the crates pin. The cache is laid out like a Compact output
//! directory, so loading goes through the same code as user circuits.
use super::circuit::{CircuitFiles, HashedKey};
use super::error::{fail, ErrorCode, Result, WithCode};
use super::files::{hex, read_file, write_atomically};
use super::keygen::keygen;
use super::params::ParamsStore;
use sha2::{Digest, Sha256};
use std::path::Path;

pub struct BuiltinData {
    /// The key location the ledger asks provers for.
    pub location: &'static str,
    /// The crate release the files come from.
    pub source: &'static str,
    /// `.bzkir` bytes.
    pub ir: &'static [u8],
    /// Official `.verifier` bytes.
    pub verifier: &'static [u8],
    /// Hex SHA-256 of the official `.prover` file.
    pub prover_sha256: &'static str,
}

pub static BUILTINS: &[BuiltinData] = include!(concat!(env!("OUT_DIR"), "/builtin_data.rs"));

pub fn find(location: &str) -> Option<&'static BuiltinData> {
    BUILTINS.iter().find(|b| b.location == location)
}

/// Where a built-in's files live in the cache: a Compact layout under its key location's directory.
pub fn files(data: &BuiltinData, cache: &Path) -> CircuitFiles {
    let (dir, name) = data.location.rsplit_once('/').expect("built-in locations have a directory");
    let dir = cache.join(dir);
    let file = |sub: &str, ext: &str| dir.join(sub).join(format!("{name}.{ext}"));
    CircuitFiles { prover: file("keys", "prover"), verifier: file("keys", "verifier"), ir: file("zkir", "bzkir") }
}

/// Makes the circuit's files present and genuine under `cache`, deriving the prover key when it
/// is missing or does not match the official hash (a truncated or altered cache file is rebuilt).
/// Returns the prover key as read and hashed, for the load to use as it is. `run` executes the
/// keygen computation (the prover's pool); the caller must not be a pool worker.
pub fn provision(
    data: &BuiltinData,
    cache: &Path,
    params: &ParamsStore,
    run: impl FnOnce(&(dyn Fn() -> Result<Vec<u8>> + Sync)) -> Result<Vec<u8>>,
) -> Result<(CircuitFiles, HashedKey)> {
    let files = files(data, cache);
    write_unless_equal(&files.ir, data.ir)?;
    write_unless_equal(&files.verifier, data.verifier)?;
    if let Ok(bytes) = read_file(&files.prover, ErrorCode::CircuitNotFound) {
        let sha256: [u8; 32] = Sha256::digest(&bytes).into();
        if hex(&sha256) == data.prover_sha256 {
            return Ok((files, HashedKey { bytes, sha256 }));
        }
    }
    let (_, k) = super::circuit::parse_ir_k(data.ir).code(ErrorCode::KeyCorrupt, || format!("embedded IR of {}", data.location))?;
    params.get(k)?;
    let prover = run(&|| Ok(keygen(data.ir, params)?.prover_key))?;
    let sha256: [u8; 32] = Sha256::digest(&prover).into();
    let actual = hex(&sha256);
    if actual != data.prover_sha256 {
        return fail(
            ErrorCode::KeyMismatch,
            format!(
                "the prover key derived for {} hashes to {actual}, not the official {} ({}); refusing to use it",
                data.location, data.prover_sha256, data.source
            ),
        );
    }
    write_atomically(&files.prover, &prover)?;
    Ok((files, HashedKey { bytes: prover, sha256 }))
}

fn write_unless_equal(path: &Path, bytes: &[u8]) -> Result<()> {
    if std::fs::read(path).is_ok_and(|on_disk| on_disk == bytes) {
        return Ok(());
    }
    write_atomically(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::circuit::Circuit;
    use crate::files::sha256_file;
    use std::path::PathBuf;

    fn cache() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("mnp-builtin-{}-{}", std::process::id(), rand::random::<u32>()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn direct(work: &(dyn Fn() -> Result<Vec<u8>> + Sync)) -> Result<Vec<u8>> {
        work()
    }

    #[test]
    fn embedded_files_are_the_ledgers() {
        let locations: Vec<&str> = BUILTINS.iter().map(|b| b.location).collect();
        assert_eq!(locations, ["midnight/zswap/output", "midnight/zswap/sign", "midnight/zswap/spend", "midnight/dust/spend"]);
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/builtin");
        for (b, fixture) in BUILTINS.iter().zip(["zswap/output", "zswap/sign", "zswap/spend", "dust/spend"]) {
            let file = |ext: &str| std::fs::read(fixtures.join(format!("{fixture}.{ext}"))).unwrap();
            assert_eq!(b.ir, &file("bzkir")[..], "{}", b.location);
            assert_eq!(b.verifier, &file("verifier")[..], "{}", b.location);
            assert!(String::from_utf8(file("prover.sha256")).unwrap().starts_with(b.prover_sha256), "{}", b.location);
        }
    }

    #[test]
    fn derives_the_official_key_once_and_rebuilds_an_altered_one() {
        let (cache, params) = (cache(), ParamsStore::new(vec![]));
        let sign = find("midnight/zswap/sign").unwrap();
        let (files, key) = provision(sign, &cache, &params, direct).unwrap();
        assert_eq!(sha256_file(&files.prover).unwrap(), sign.prover_sha256);
        assert_eq!((hex(&key.sha256), key.bytes), (sign.prover_sha256.to_owned(), std::fs::read(&files.prover).unwrap()));
        let circuit = Circuit::load(sign.location, &files, None).unwrap();
        assert_eq!(circuit.k, 13);

        let untouched = std::fs::metadata(&files.prover).unwrap().modified().unwrap();
        let refuse = |_: &(dyn Fn() -> Result<Vec<u8>> + Sync)| -> Result<Vec<u8>> { panic!("a genuine cached key must not be derived again") };
        provision(sign, &cache, &params, refuse).unwrap();
        assert_eq!(std::fs::metadata(&files.prover).unwrap().modified().unwrap(), untouched);

        let len = std::fs::metadata(&files.prover).unwrap().len();
        std::fs::OpenOptions::new().write(true).open(&files.prover).unwrap().set_len(len / 2).unwrap();
        provision(sign, &cache, &params, direct).unwrap();
        assert_eq!(sha256_file(&files.prover).unwrap(), sign.prover_sha256, "a truncated cache file is rebuilt");
        std::fs::remove_dir_all(cache).unwrap();
    }

    #[test]
    fn a_key_that_does_not_match_the_pin_is_refused_and_not_cached() {
        let (cache, params) = (cache(), ParamsStore::new(vec![]));
        let sign = find("midnight/zswap/sign").unwrap();
        let wrong_pin = BuiltinData { prover_sha256: find("midnight/dust/spend").unwrap().prover_sha256, ..*sign };
        let err = provision(&wrong_pin, &cache, &params, direct).err().expect("pin mismatch");
        assert_eq!(err.code, ErrorCode::KeyMismatch);
        assert!(err.message.contains(sign.location) && err.message.contains(wrong_pin.prover_sha256), "{}", err.message);
        assert!(!cache.join("midnight/zswap/keys/sign.prover").exists());
        std::fs::remove_dir_all(cache).unwrap();
    }
}
