//! File helpers shared by the key cache, the parameters store and circuit loading.
use super::error::{ErrorCode, Result, WithCode};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

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

/// A temporary name beside `path` that no other writer uses: the pid tells processes apart,
/// the counter tells writers of one process apart (several provers may share a cache).
fn temp_name(path: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.{}.tmp", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)))
}

/// A writer killed mid-write (kill -9, OOM, power) leaves its temporary file behind, and table
/// files are hundreds of MB: each write first removes the temporary files of the same target
/// that are stale. Stale means untouched for `STALE_AFTER` (a live writer's file grows, then is
/// renamed at once) and written by a process that no longer runs here. A writer in another pid
/// namespace (a container sharing the volume) looks dead from here, so age alone must exclude it.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(120);

fn sweep_stale_temps(path: &Path) {
    let (Some(parent), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else { return };
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    let prefix = format!(".{name}.");
    for entry in entries.filter_map(|e| e.ok()) {
        let file = entry.file_name();
        let Some(pid) = file.to_str().and_then(|f| f.strip_prefix(&prefix)?.strip_suffix(".tmp")?.split('.').next()?.parse::<u32>().ok()) else { continue };
        let age = entry.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
        if pid != std::process::id() && age.is_some_and(|a| a > STALE_AFTER) && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// CRC-32 of `bytes`, over 8 MiB chunks on the current rayon pool: how cache files (key maps,
/// MSM tables) are checked at every map, at memory speed. It catches what a disk or a partial
/// write does to a file; what we read is checked against what we wrote, not against an
/// adversary (one who can write the key cache can write a matching checksum too).
pub fn checksum(bytes: &[u8]) -> u32 {
    use rayon::prelude::*;
    let chunks: Vec<crc32fast::Hasher> = bytes
        .par_chunks(8 << 20)
        .map(|chunk| {
            let mut h = crc32fast::Hasher::new();
            h.update(chunk);
            h
        })
        .collect();
    let mut all = crc32fast::Hasher::new();
    for chunk in &chunks {
        all.combine(chunk);
    }
    all.finalize()
}

/// Writes through a temporary file and a rename, so readers (other processes sharing the cache
/// too) see either no file or the whole file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically_with(path, |out| out.write_all(bytes))
}

/// `write_atomically` of what `write` writes, buffered.
pub fn write_atomically_with(path: &Path, write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let describe = || format!("writing {} (set keyCachePath or PROVER_KEY_CACHE to a writable directory)", path.display());
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).code(ErrorCode::KeyCacheUnwritable, describe)?;
    sweep_stale_temps(path);
    let tmp = temp_name(path);
    let written = std::fs::File::create(&tmp).and_then(|f| {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, f);
        write(&mut out)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()
    });
    let renamed = written.and_then(|_| std::fs::rename(&tmp, path));
    if renamed.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    renamed.code(ErrorCode::KeyCacheUnwritable, describe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_writers_of_one_file_never_share_a_temp_name() {
        let dir = std::env::temp_dir().join(format!("mnp-files-{}-{}", std::process::id(), rand::random::<u32>()));
        let path = dir.join("k.prover");
        let names: std::collections::HashSet<PathBuf> = (0..100).map(|_| temp_name(&path)).collect();
        assert_eq!(names.len(), 100);
        std::thread::scope(|s| {
            for i in 0..8u8 {
                let path = &path;
                s.spawn(move || write_atomically(path, &vec![i; 4096]).unwrap());
            }
        });
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.len() == 4096 && bytes.iter().all(|b| *b == bytes[0]), "one writer's whole file");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temp file is left behind");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_write_sweeps_the_stale_temp_files_of_killed_writers_and_keeps_the_rest() {
        let dir = std::env::temp_dir().join(format!("mnp-files-{}-{}", std::process::id(), rand::random::<u32>()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.bin");
        let old = std::time::SystemTime::now() - 2 * STALE_AFTER;
        let temp = |name: &str, modified: std::time::SystemTime| {
            let file = std::fs::File::create(dir.join(name)).unwrap();
            file.set_modified(modified).unwrap();
        };
        // Pid 0x7fffffff does not run here; pid 1 does.
        temp(".t.bin.2147483647.0.tmp", old);
        temp(".t.bin.2147483647.1.tmp", std::time::SystemTime::now());
        temp(".t.bin.1.0.tmp", old);
        temp(".other.bin.2147483647.0.tmp", old);
        write_atomically(&path, b"whole").unwrap();
        let mut left: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        left.sort();
        assert_eq!(left, [".other.bin.2147483647.0.tmp", ".t.bin.1.0.tmp", ".t.bin.2147483647.1.tmp", "t.bin"]);
        std::fs::remove_dir_all(dir).unwrap();
    }

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
