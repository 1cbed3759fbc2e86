//! Mapped prover keys: what loading a prover key computes, saved once in the key cache and
//! mapped by every later load, in this process or another.
//!
//! Loading a key from its file inflates it and runs about a dozen FFTs per column over the
//! extended domain (1 s for the zswap output circuit at k = 14, 10 s at k = 17). Those results
//! (the proving key's polynomials) are saved beside the key, laid out as they sit in memory, and
//! later loads hand midnight-proofs `Vec`s whose buffers are the mapping's pages (the
//! `plonk::supplied` hook of our midnight-proofs patch). Processes that hold the same circuit
//! share those pages through the page cache.
//!
//! Layout, all little-endian (one `ALIGN`ed header, then each polynomial `ALIGN`ed):
//! magic, format, header length, build, SHA-256 of the prover key, verifier key and IR files,
//! k and rows of the IR's cost model, the number of polynomials, then per polynomial its length
//! in elements and the CRC-32 of its bytes. A file is used only if every field matches, its
//! size is exactly what its lengths add up to, and every polynomial's CRC checks: a truncated,
//! bit-flipped, foreign or stale file is rebuilt, never trusted. The parameters are not named:
//! the polynomials are a function of the prover key's bytes alone, which are.
use super::files::{self, Flush};
use super::ir_check::Size;
use kernels::mapping::{Mapping, ALIGN};
use midnight_curves::Fq;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

const MAGIC: &[u8; 8] = b"MNPKMAP\x01";
const FORMAT: u32 = 1;
/// The code that computed the polynomials and how it lays out a field element: a file from
/// other versions or another machine is stale.
const BUILD: &str = concat!("midnight-proofs 0.7.3+supplied; midnight-zk-stdlib 1.3.0; midnight-native-prover ", env!("CARGO_PKG_VERSION"));
const BUILD_LEN: usize = 96;
const FIXED_HEADER: usize = 8 + 4 + 4 + BUILD_LEN + 3 * 32 + 8 + 8 + 8;
/// No circuit has this many polynomials (three per fixed or permutation column, plus three);
/// a header claiming more is refused before anything is sized from it.
const MAX_POLYS: usize = 1 << 14;
const ELEMENT: usize = size_of::<Fq>();

/// The SHA-256 of a circuit's three files: what a key map was computed from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Sources {
    pub prover: [u8; 32],
    pub verifier: [u8; 32],
    pub ir: [u8; 32],
}

impl Sources {
    /// The sources of a prover key of this SHA-256, and of these verifier key and IR bytes.
    pub fn of(prover: [u8; 32], verifier: &[u8], ir: &[u8]) -> Sources {
        let sha = |b: &[u8]| -> [u8; 32] { Sha256::digest(b).into() };
        Sources { prover, verifier: sha(verifier), ir: sha(ir) }
    }

    /// The key map's file in `dir`, named by all three.
    pub fn path_in(&self, dir: &Path) -> PathBuf {
        let mut h = Sha256::new();
        for part in [&self.prover, &self.verifier, &self.ir] {
            h.update(part);
        }
        dir.join(format!("prover-{}.keymap", &files::hex(&h.finalize())[..32]))
    }
}

/// A mapped key file whose header and checksums held when it was opened.
pub struct KeyMap {
    mapping: Mapping,
    pub size: Size,
    /// Byte offset and element count of each polynomial.
    polys: Vec<(usize, usize)>,
    sources: Sources,
    pub path: PathBuf,
}

static REFUSED: AtomicU64 = AtomicU64::new(0);

/// Key map files found and refused since the process began.
pub fn refused() -> u64 {
    REFUSED.load(Relaxed)
}

impl KeyMap {
    /// The key map of `sources` in `dir`, if one is there and checks out; a file there that
    /// does not is counted (`refused`) and left to be replaced.
    pub fn open(dir: &Path, sources: &Sources) -> Option<KeyMap> {
        let path = sources.path_in(dir);
        let file = std::fs::File::open(&path).ok()?;
        // Its modification time marks its last use, for `prune` (best effort: another user's
        // file keeps its time).
        let _ = file.set_modified(std::time::SystemTime::now());
        let mapping = Mapping::new(&file).ok()?;
        // The header and sizes first, from the first pages: a stale or foreign map is refused
        // before the prefetch reads the whole file in.
        let layout = layout(mapping.bytes(), sources);
        if layout.is_some() {
            mapping.prefetch();
        }
        let Some(Layout { size, polys, .. }) = layout.filter(|l| l.intact(mapping.bytes())) else {
            REFUSED.fetch_add(1, Relaxed);
            return None;
        };
        Some(KeyMap { mapping, size, polys, sources: *sources, path })
    }

    /// Whether the file still holds what was mapped: no page lost, every checksum as written.
    pub fn intact(&self) -> bool {
        self.faults() == 0 && layout(self.mapping.bytes(), &self.sources).is_some_and(|l| l.intact(self.mapping.bytes()))
    }

    /// Writes the key map of `sources` into `dir`: `polys` in `ProvingKey::polynomials` order.
    /// The least recently used maps go first if the directory would pass `MAX_FILES` or
    /// `MAX_BYTES`.
    pub fn write(dir: &Path, sources: &Sources, size: Size, polys: &[&[Fq]]) -> super::error::Result<()> {
        let bytes = polys.iter().map(|p| size_of_val(*p).next_multiple_of(ALIGN) as u64).sum::<u64>();
        prune(dir, bytes);
        let crcs: Vec<u32> = polys.par_iter().map(|p| files::checksum(as_bytes(p))).collect();
        let header = header(sources, size, polys, &crcs);
        // Every open checks the CRCs, so a map torn by a crash is rebuilt: no fsync.
        files::write_atomically_with(&sources.path_in(dir), Flush::Checked, |out: &mut dyn Write| {
            out.write_all(&header)?;
            for p in polys {
                out.write_all(as_bytes(p))?;
                out.write_all(&[0u8; ALIGN][..padding(size_of_val(*p))])?;
            }
            Ok(())
        })
    }

    /// The polynomials as `Vec`s borrowing the mapping's pages, for `plonk::supplied`.
    ///
    /// Whoever holds them must drop them before this map: `Circuit` keeps its key map after its
    /// prover key. The allocator leaves their buffers alone (`mapping::borrowed`).
    pub fn polynomials(&self) -> Vec<Vec<Fq>> {
        let base = self.mapping.bytes().as_ptr() as *mut Fq;
        self.polys
            .iter()
            // SAFETY: `check` put every range inside the mapping, `ALIGN`ed (so aligned for Fq)
            // and of `len` elements; any bit pattern of four words is an Fq in Montgomery form,
            // and the CRC says these are the ones computed. The buffer is never freed through
            // the allocator, and the mapping is private, so a write would stay in this process.
            .map(|&(offset, len)| unsafe { Vec::from_raw_parts(base.add(offset / ELEMENT), len, len) })
            .collect()
    }

    pub fn bytes(&self) -> u64 {
        self.mapping.bytes().len() as u64
    }

    /// Pages of the file lost under the mapping since it was opened (see `mapping`).
    pub fn faults(&self) -> u64 {
        self.mapping.faults()
    }
}

/// Key maps kept in one key cache directory, and their bytes: a cache of every circuit a host
/// ever loaded would otherwise grow without end (a k = 17 key map is 696 MiB).
pub const MAX_FILES: usize = 64;
pub const MAX_BYTES: u64 = 16 << 30;

/// Deletes the least recently used key maps in `dir` until one of `incoming` bytes fits the
/// bounds. A process that has one mapped keeps its pages: deleting a name does not take them.
fn prune(dir: &Path, incoming: u64) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut maps: Vec<(std::time::SystemTime, u64, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_str().is_some_and(|n| n.starts_with("prover-") && n.ends_with(".keymap")))
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            Some((meta.modified().ok()?, meta.len(), e.path()))
        })
        .collect();
    maps.sort();
    let mut total: u64 = maps.iter().map(|m| m.1).sum::<u64>() + incoming;
    let mut count = maps.len() + 1;
    for (_, len, path) in maps {
        if count <= MAX_FILES && total <= MAX_BYTES {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            total -= len;
            count -= 1;
        }
    }
}

fn as_bytes(p: &[Fq]) -> &[u8] {
    // SAFETY: Fq is four u64 words with no padding.
    unsafe { std::slice::from_raw_parts(p.as_ptr() as *const u8, size_of_val(p)) }
}

fn padding(len: usize) -> usize {
    len.next_multiple_of(ALIGN) - len
}

fn build_tag() -> [u8; BUILD_LEN] {
    let mut tag = [0u8; BUILD_LEN];
    let text = format!("{BUILD}; {} {}-endian; Fq {ELEMENT} bytes", std::env::consts::ARCH, if cfg!(target_endian = "little") { "little" } else { "big" });
    let n = text.len().min(BUILD_LEN);
    tag[..n].copy_from_slice(&text.as_bytes()[..n]);
    tag
}

fn header(sources: &Sources, size: Size, polys: &[&[Fq]], crcs: &[u32]) -> Vec<u8> {
    let len = (FIXED_HEADER + 16 * polys.len()).next_multiple_of(ALIGN);
    let mut h = Vec::with_capacity(len);
    h.extend_from_slice(MAGIC);
    h.extend_from_slice(&FORMAT.to_le_bytes());
    h.extend_from_slice(&(len as u32).to_le_bytes());
    h.extend_from_slice(&build_tag());
    for part in [&sources.prover, &sources.verifier, &sources.ir] {
        h.extend_from_slice(part);
    }
    for v in [size.k as u64, size.rows as u64, polys.len() as u64] {
        h.extend_from_slice(&v.to_le_bytes());
    }
    for (p, crc) in polys.iter().zip(crcs) {
        h.extend_from_slice(&(p.len() as u64).to_le_bytes());
        h.extend_from_slice(&(*crc as u64).to_le_bytes());
    }
    h.resize(len, 0);
    h
}

/// The size and polynomial ranges of a key map's bytes, if they are one for `sources`. Every
/// length read from the file is checked against the file's size before it is used.
/// Where a sound map's polynomials lie, and the checksum each was written with.
struct Layout {
    size: Size,
    /// (byte offset, elements) of each polynomial.
    polys: Vec<(usize, usize)>,
    crcs: Vec<u64>,
}

impl Layout {
    /// Every polynomial's bytes still have the checksum they were written with.
    fn intact(&self, bytes: &[u8]) -> bool {
        self.polys.par_iter().zip(self.crcs.par_iter()).all(|(&(at, len), &crc)| files::checksum(&bytes[at..at + len * ELEMENT]) as u64 == crc)
    }
}

/// The header of a map for `sources` (magic, format, build, source hashes, bounds) and the
/// polynomials' extents, which must tile the file exactly; reads the header's pages only.
fn layout(bytes: &[u8], sources: &Sources) -> Option<Layout> {
    if bytes.len() < FIXED_HEADER || &bytes[..8] != MAGIC {
        return None;
    }
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
    let half = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let at_sources = 16 + BUILD_LEN;
    let at_counts = at_sources + 96;
    let expected = [sources.prover, sources.verifier, sources.ir].concat();
    let (k, rows, count) = (word(at_counts), word(at_counts + 8), word(at_counts + 16) as usize);
    let header_len = half(12) as usize;
    let sound = half(8) == FORMAT
        && bytes[16..at_sources] == build_tag()
        && bytes[at_sources..at_counts] == expected[..]
        && k <= super::ir_check::MAX_K as u64
        && count <= MAX_POLYS
        && header_len == (FIXED_HEADER + 16 * count).next_multiple_of(ALIGN)
        && header_len <= bytes.len();
    if !sound {
        return None;
    }
    let mut polys = Vec::with_capacity(count);
    let mut crcs = Vec::with_capacity(count);
    let mut offset = header_len;
    for i in 0..count {
        let entry = FIXED_HEADER + 16 * i;
        let len = usize::try_from(word(entry)).ok()?;
        let bytes_len = len.checked_mul(ELEMENT)?;
        let end = offset.checked_add(bytes_len)?;
        if end > bytes.len() {
            return None;
        }
        polys.push((offset, len));
        crcs.push(word(entry + 8));
        offset = end.checked_add(padding(bytes_len))?;
    }
    (offset == bytes.len()).then_some(Layout { size: Size { k: k as u8, rows: rows as usize }, polys, crcs })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ff::Field;

    fn dir() -> PathBuf {
        std::env::temp_dir().join(format!("mnp-keymap-{}-{}", std::process::id(), rand::random::<u64>()))
    }

    fn sample() -> (Sources, Vec<Vec<Fq>>) {
        let sources = Sources::of(Sha256::digest(b"pk").into(), b"vk", b"ir");
        let mut rng = rand::thread_rng();
        let polys = [8usize, 8, 1000, 0, 3].iter().map(|&n| (0..n).map(|_| Fq::random(&mut rng)).collect()).collect();
        (sources, polys)
    }

    fn written(dir: &Path) -> (Sources, Vec<Vec<Fq>>) {
        let (sources, polys) = sample();
        let refs: Vec<&[Fq]> = polys.iter().map(|p| &p[..]).collect();
        KeyMap::write(dir, &sources, Size { k: 10, rows: 700 }, &refs).unwrap();
        (sources, polys)
    }

    #[test]
    fn a_written_map_gives_back_the_same_polynomials_in_place() {
        let dir = dir();
        let (sources, polys) = written(&dir);
        let map = KeyMap::open(&dir, &sources).unwrap();
        assert_eq!(map.size, Size { k: 10, rows: 700 });
        let back = map.polynomials();
        assert_eq!(back, polys);
        assert!(back.iter().filter(|p| !p.is_empty()).all(|p| kernels::mapping::borrowed(p.as_ptr() as *mut u8)));
        drop(back);
        drop(map);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_directory_keeps_at_most_max_files_maps_dropping_the_least_recently_used() {
        let dir = dir();
        std::fs::create_dir_all(&dir).unwrap();
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for i in 0..MAX_FILES + 3 {
            let f = std::fs::File::create(dir.join(format!("prover-{i:032}.keymap"))).unwrap();
            f.set_modified(old + std::time::Duration::from_secs(i as u64)).unwrap();
        }
        std::fs::write(dir.join("msm-fixed-1.bin"), b"not a key map").unwrap();
        written(&dir);
        let names: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        assert_eq!(names.iter().filter(|n| n.ends_with(".keymap")).count(), MAX_FILES);
        assert!(!names.contains(&format!("prover-{:032}.keymap", 3)), "the oldest went");
        assert!(names.contains(&format!("prover-{:032}.keymap", 4)));
        assert!(names.contains(&"msm-fixed-1.bin".to_owned()), "other files stay");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn truncated_flipped_foreign_or_oversized_maps_are_refused() {
        let dir = dir();
        let (sources, _) = written(&dir);
        let path = sources.path_in(&dir);
        let good = std::fs::read(&path).unwrap();
        let refused = |bytes: &[u8]| {
            std::fs::write(&path, bytes).unwrap();
            KeyMap::open(&dir, &sources).is_none()
        };
        assert!(refused(&good[..good.len() - 4096]), "truncated by a page");
        assert!(refused(&good[..100]), "truncated into the header");
        assert!(refused(&[]), "empty");
        let mut flipped = good.clone();
        flipped[ALIGN + 40] ^= 4;
        assert!(refused(&flipped), "a bit flipped in a polynomial");
        let mut huge = good.clone();
        huge[FIXED_HEADER..FIXED_HEADER + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(refused(&huge), "a length of 2^64 - 1 elements");
        let mut many = good.clone();
        let at_count = 16 + BUILD_LEN + 96 + 16;
        many[at_count..at_count + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
        assert!(refused(&many), "2^40 polynomials");
        let mut other_build = good.clone();
        other_build[20] ^= 1;
        assert!(refused(&other_build), "another build");
        assert!(!refused(&good), "the file itself still opens");
        let other = Sources::of(Sha256::digest(b"pk").into(), b"vk", b"other ir");
        std::fs::copy(&path, other.path_in(&dir)).unwrap();
        assert!(KeyMap::open(&dir, &other).is_none(), "a map of other sources under this name");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
