//! Cache files that every process on a host shares (the MSM's fixed-base tables here, the
//! key maps above): written whole or not at all, named apart per writer, swept when a writer
//! was killed, and checked at memory speed when mapped again.
use rayon::prelude::*;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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

/// How a write ends before its rename.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Flush {
    /// fsync first: after a crash the file is there whole or not at all (files users keep).
    Durable,
    /// No fsync, for files that every reader checks (CRC-32 or SHA-256) and rebuilds when they
    /// fail: a crash can leave the renamed file torn, which costs one rebuild, never a wrong
    /// read. Flushing a 150 MiB key map took 80–110 ms of a 1.1 s first load at k = 14 (AMD
    /// EPYC, ext4, alternating runs).
    Checked,
}

/// Writes through a temporary file and a rename, so readers (other processes sharing the cache
/// too) see either no file or the whole file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomically_with(path, Flush::Durable, |out| out.write_all(bytes))
}

/// `write_atomically` of what `write` writes, buffered, ended as `flush` says.
pub fn write_atomically_with(path: &Path, flush: Flush, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    sweep_stale_temps(path);
    let tmp = temp_name(path);
    let written = std::fs::File::create(&tmp).and_then(|f| {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, f);
        write(&mut out)?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        match flush {
            Flush::Durable => file.sync_all(),
            Flush::Checked => Ok(()),
        }
    });
    let renamed = written.and_then(|_| std::fs::rename(&tmp, path));
    if renamed.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    renamed
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory of its own for each test, empty and not yet created (a run of an earlier
    /// process with the same id may have left one).
    fn scratch_dir() -> PathBuf {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("mnp-files-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn concurrent_writers_of_one_file_never_share_a_temp_name() {
        let dir = scratch_dir();
        let path = dir.join("k.prover");
        let names: std::collections::HashSet<PathBuf> = (0..100).map(|_| temp_name(&path)).collect();
        assert_eq!(names.len(), 100);
        // Half the writers fsync, half leave it to the readers' checks: both rename whole files.
        std::thread::scope(|s| {
            for i in 0..8u8 {
                let (path, flush) = (&path, if i % 2 == 0 { Flush::Durable } else { Flush::Checked });
                s.spawn(move || write_atomically_with(path, flush, |out| out.write_all(&vec![i; 4096])).unwrap());
            }
        });
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.len() == 4096 && bytes.iter().all(|b| *b == bytes[0]), "one writer's whole file");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temp file is left behind");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_write_sweeps_the_stale_temp_files_of_killed_writers_and_keeps_the_rest() {
        let dir = scratch_dir();
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
}
