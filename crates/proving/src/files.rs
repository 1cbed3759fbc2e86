//! File helpers shared by the key cache, the parameters store and circuit loading: the
//! kernels' cache files (`cache_file`) with our error codes, and reads that never map.
use super::error::{ErrorCode, Result, WithCode};
pub use kernels::cache_file::{checksum, hex, Flush};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::Path;

/// 32 bytes written as 64 lowercase hex digits (SHA-256 digests as Midnight's tools write them);
/// `None` for anything else, upper case included.
pub fn lower_hex_32(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut bytes = [0u8; 32];
    for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(bytes)
}

/// Hex SHA-256 of a file, or None when it cannot be read.
pub fn sha256_file(path: &Path) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).ok()?;
    Some(hex(&hasher.finalize()))
}

/// Reads a whole file with read(2), never through a memory map: a file truncated or rewritten
/// while a map of it is read raises SIGBUS, which kills the process. Read this way, a file that
/// changes underneath gives short or mixed bytes, which the deserializer rejects (KEY_CORRUPT).
/// `missing` is the code for a file that cannot be opened.
pub fn read_file(path: &Path, missing: ErrorCode) -> Result<Vec<u8>> {
    let mut file = std::fs::File::open(path).code(missing, || path.display().to_string())?;
    let mut bytes = Vec::with_capacity(file.metadata().map(|m| m.len() as usize).unwrap_or(0));
    file.read_to_end(&mut bytes).code(ErrorCode::KeyCorrupt, || path.display().to_string())?;
    Ok(bytes)
}

/// `cache_file::write_atomically` into the key cache: a failure is `KEY_CACHE_UNWRITABLE`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    kernels::cache_file::write_atomically(path, bytes).code(ErrorCode::KeyCacheUnwritable, || unwritable(path))
}

/// `cache_file::write_atomically_with` into the key cache: a failure is `KEY_CACHE_UNWRITABLE`.
pub fn write_atomically_with(path: &Path, flush: Flush, write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    kernels::cache_file::write_atomically_with(path, flush, write).code(ErrorCode::KeyCacheUnwritable, || unwritable(path))
}

fn unwritable(path: &Path) -> String {
    format!("writing {} (set keyCachePath or PROVER_KEY_CACHE to a writable directory)", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_truncated_under_the_reader_is_short_bytes_not_a_signal() {
        let dir = std::env::temp_dir().join(format!("mnp-files-{}-{}", std::process::id(), rand::random::<u32>()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("big");
        std::fs::write(&path, vec![7u8; 8 << 20]).unwrap();
        std::thread::scope(|s| {
            s.spawn(|| {
                for len in (0..8u64).rev() {
                    std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(len << 20).unwrap();
                }
            });
            for _ in 0..20 {
                let bytes = read_file(&path, ErrorCode::CircuitNotFound).unwrap();
                assert!(bytes.len() <= 8 << 20);
            }
        });
        assert_eq!(read_file(&dir.join("none"), ErrorCode::CircuitNotFound).unwrap_err().code, ErrorCode::CircuitNotFound);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
