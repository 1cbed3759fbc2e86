//! Development parameters: a KZG setup whose secret follows from a public seed, for circuits
//! past the embedded SRS (k > 14) where Midnight's files are out of reach (tests, benches, CI).
//! Anyone who knows the seed can forge proofs against them, so they are labelled in the file
//! (see `file`), accepted only with `allow_unpinned`, and verified only against themselves.
use super::file;
use super::EMBEDDED_MAX_K;
use crate::error::{fail, ErrorCode, Result, WithCode};
use crate::{files, memory};
use base_crypto::data_provider::MidnightDataProvider;
use midnight_curves::{Bls12, G1Projective};
use midnight_proofs::poly::kzg::params::ParamsKZG;
use midnight_proofs::utils::SerdeFormat;
use rand::SeedableRng;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The largest k `generate` makes: 7 s at k = 15 on 2 cores (AMD EPYC), doubling with each k,
/// so about 4 minutes at k = 20.
pub const MAX_K: u8 = 20;

/// The seed when none is given: the same files on every machine.
pub const DEFAULT_SEED: &str = "midnight-native-prover development parameters";

/// Heap `generate` needs at its peak: both point vectors in projective form, then the file.
pub fn peak_bytes(k: u8) -> u64 {
    let projective = std::mem::size_of::<G1Projective>() as u64;
    (2u64 << k) * projective + file::layout_len(k) + file::TRAILER_LEN as u64
}

/// The `bls_midnight_2p{k}` file bytes of the setup drawn from `seed`, trailer included.
/// Refuses k outside 15..=20, or a k whose generation would need more than half the machine's
/// memory, before any work.
pub fn generate(k: u8, seed: &str) -> Result<Vec<u8>> {
    if !(EMBEDDED_MAX_K + 1..=MAX_K).contains(&k) {
        return fail(
            ErrorCode::InvalidArgument,
            format!(
                "k={k}: development parameters are made for k={}..={MAX_K} (k <= {EMBEDDED_MAX_K} proves with Midnight's embedded SRS)",
                EMBEDDED_MAX_K + 1
            ),
        );
    }
    let (need, have) = (peak_bytes(k), memory::physical_bytes() / 2);
    if need > have {
        return fail(ErrorCode::InvalidArgument, format!("k={k}: making the parameters needs {need} bytes, more than half this machine's memory ({have})"));
    }
    Ok(setup_file(k, seed))
}

/// The file of the setup drawn from `seed`, for any k.
fn setup_file(k: u8, seed: &str) -> Vec<u8> {
    let seed_digest: [u8; 32] = Sha256::digest(seed.as_bytes()).into();
    let setup = ParamsKZG::<Bls12>::unsafe_setup(u32::from(k), rand_chacha::ChaCha20Rng::from_seed(seed_digest));
    let mut bytes = Vec::with_capacity((file::layout_len(k) as usize) + file::TRAILER_LEN);
    setup.write_custom(&mut bytes, SerdeFormat::RawBytesUnchecked).expect("in-memory write");
    let trailer = file::trailer(&bytes, &seed_digest);
    bytes.extend_from_slice(&trailer);
    bytes
}

/// Writes `generate(k, seed)` as `dir/bls_midnight_2p{k}` (atomically, through a rename) and
/// returns its path. A file there that holds Midnight's parameters is never replaced.
pub fn write(k: u8, seed: &str, dir: &Path) -> Result<PathBuf> {
    let path = dir.join(MidnightDataProvider::name_k(k));
    if super::pin(k).is_some() && files::sha256_file(&path).as_deref() == super::pin(k) {
        return fail(ErrorCode::InvalidArgument, format!("{} holds Midnight's parameters; write development ones to another directory", path.display()));
    }
    let bytes = generate(k, seed)?;
    // Not the key cache: the error names the directory asked for, not the key cache's settings.
    kernels::cache_file::write_atomically(&path, &bytes)
        .code(ErrorCode::InvalidArgument, || format!("writing development parameters to {}", path.display()))?;
    Ok(path)
}

/// A directory holding development parameters for k = 15 (default seed), made once per test
/// process: for this crate's tests and, with `test-support`, the service's.
#[cfg(any(test, feature = "test-support"))]
pub fn dir_with_k15() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("mnp-dev-params-{}", std::process::id()));
        write(15, DEFAULT_SEED, &dir).unwrap();
        dir
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_one_labelled_file_and_another_seed_another() {
        let a = setup_file(4, "a");
        assert_eq!(a, setup_file(4, "a"), "deterministic");
        assert_ne!(a, setup_file(4, "b"));
        assert_eq!(a.len() as u64, file::layout_len(4) + file::TRAILER_LEN as u64);
        file::inspect(4, &a, "a").unwrap();
        let seed_digest: [u8; 32] = Sha256::digest(b"a").into();
        assert_eq!(&a[a.len() - 64..a.len() - 32], seed_digest, "the trailer names the seed");
        let text = String::from_utf8_lossy(&a[a.len() - file::TRAILER_LEN..]);
        assert!(text.contains("UNSAFE DEVELOPMENT PARAMETERS"), "{text}");
    }

    #[test]
    fn k_outside_15_to_20_is_refused_before_any_work() {
        for k in [0, 14, 21, 25, 255] {
            let started = std::time::Instant::now();
            assert_eq!(generate(k, DEFAULT_SEED).unwrap_err().code, ErrorCode::InvalidArgument, "k={k}");
            assert!(started.elapsed().as_millis() < 100, "k={k} was refused only after work");
        }
        assert!(peak_bytes(20) < 1 << 30, "k = 20 fits a small machine: {}", peak_bytes(20));
    }

    #[test]
    fn midnights_file_is_never_replaced() {
        let dir = std::env::temp_dir().join(format!("mnp-dev-pinned-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // A stand-in whose name is k = 14's: the only pinned file this test can make offline.
        std::fs::write(dir.join("bls_midnight_2p14"), super::super::embedded_file(14).unwrap()).unwrap();
        let err = write(14, DEFAULT_SEED, &dir).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert!(err.message.contains("holds Midnight's parameters"), "{}", err.message);
        assert_eq!(std::fs::read(dir.join("bls_midnight_2p14")).unwrap(), super::super::embedded_file(14).unwrap());
    }
}
