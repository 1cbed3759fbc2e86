//! Fixed-base tables for one SRS vector P_0..P_{n−1}: rows T_j = 2^(j·w)·P, affine, for every
//! window j of a 255-bit scalar. An MSM over the vector then puts every signed digit of every
//! scalar into one set of buckets: one bucket integration per thread instead of one per window,
//! no doublings, and windows wider than plain Pippenger can afford.

use std::path::Path;

use blst::{blst_p1, blst_p1_affine};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::buckets::{shared_bucket_sum, signed_digits};
use super::{g1, to_affine, CHUNK};
use crate::cache_file;

pub struct FixedTable {
    window: usize,
    n: usize,
    /// Row-major: row j holds 2^(j·window)·P_i at j·n + i.
    rows: Rows,
}

/// Built here, or mapped read-only from the shared cache file (one copy in the page cache for
/// every prover process of the host).
enum Rows {
    Built(Vec<blst_p1_affine>),
    Mapped(crate::mapping::Mapping),
}

const MAGIC: &[u8; 8] = b"MNPMSMT2";
/// magic, n, window, rows (u64 LE each), the rows' checksum (`cache_file::checksum`, u32 LE) in a
/// 32-byte field: a multiple of 8, so the rows that follow stay aligned in the page-aligned map.
/// (Version 1 held their SHA-256, which took 0.3 s to check for k = 17's 456 MiB.)
const HEADER: usize = 8 + 3 * 8 + 32;

impl FixedTable {
    /// The window for n points on `threads` threads: fewest additions (n per row) plus bucket
    /// integrations (about 4 additions per bucket, once per thread).
    pub fn window_for(n: usize, threads: usize) -> usize {
        (8..=super::MAX_WINDOW).min_by_key(|&w| n * row_count(w) + threads * 4 * (1 << (w - 1))).unwrap()
    }

    /// What the table of `n` points with `window`-bit windows takes.
    pub fn bytes_for(n: usize, window: usize) -> u64 {
        (n * row_count(window) * size_of::<blst_p1_affine>()) as u64
    }

    /// The table of `base`, built on the current rayon pool.
    pub fn build(base: &[blst_p1_affine], window: usize) -> Self {
        let n = base.len();
        let mut rows = Vec::with_capacity(n * row_count(window));
        rows.extend_from_slice(base);
        for j in 1..row_count(window) {
            let previous = &rows[(j - 1) * n..j * n];
            let next: Vec<blst_p1> = previous
                .par_chunks(CHUNK)
                .flat_map_iter(|chunk| {
                    chunk.iter().map(|p| {
                        let mut q = g1::from_affine(p);
                        g1::double(&mut q, window);
                        q
                    })
                })
                .collect();
            rows.extend(to_affine(&next));
        }
        FixedTable { window, n, rows: Rows::Built(rows) }
    }

    /// The table of `base` from the cache file in `dir` when one is there and checks out (its
    /// header, the SHA-256 of its rows, and its first row equal to `base`); otherwise built here
    /// and written there for the next process. A truncated, corrupt or foreign file is rebuilt,
    /// never trusted. Files are only ever replaced by rename, so a mapped one never changes.
    pub fn cached(base: &[blst_p1_affine], window: usize, dir: Option<&Path>) -> Self {
        let Some(dir) = dir else {
            return Self::build(base, window);
        };
        let path = dir.join(format!("msm-fixed-{}-w{window}-{}.bin", base.len(), &cache_file::hex(&Sha256::digest(as_bytes(base)))[..16]));
        if let Some(table) = Self::map(&path, base, window) {
            return table;
        }
        let table = Self::build(base, window);
        let rows = as_bytes(table.rows());
        let mut header = Vec::with_capacity(HEADER);
        header.extend_from_slice(MAGIC);
        for v in [base.len(), window, table.rows().len() / base.len()] {
            header.extend_from_slice(&(v as u64).to_le_bytes());
        }
        header.extend_from_slice(&cache_file::checksum(rows).to_le_bytes());
        header.resize(HEADER, 0);
        // A cache that cannot be written only costs the next process the build; every map
        // checks the CRC, so a file torn by a crash is rebuilt too (no fsync).
        let _ = cache_file::write_atomically_with(&path, cache_file::Flush::Checked, |out| {
            out.write_all(&header)?;
            out.write_all(rows)
        });
        table
    }

    fn map(path: &Path, base: &[blst_p1_affine], window: usize) -> Option<Self> {
        let file = std::fs::File::open(path).ok()?;
        let n = base.len();
        let payload = Self::bytes_for(n, window) as usize;
        if file.metadata().ok()?.len() != (HEADER + payload) as u64 {
            return None;
        }
        let mapping = crate::mapping::Mapping::new(&file).ok()?;
        mapping.prefetch();
        let map = mapping.bytes();
        let word = |k: usize| u64::from_le_bytes(map[8 + 8 * k..16 + 8 * k].try_into().unwrap()) as usize;
        let rows = &map[HEADER..];
        let sound = &map[..8] == MAGIC
            && (word(0), word(1), word(2)) == (n, window, row_count(window))
            && map[32..36] == cache_file::checksum(rows).to_le_bytes()
            && rows[..size_of_val(base)] == *as_bytes(base);
        sound.then(|| FixedTable { window, n, rows: Rows::Mapped(mapping) })
    }

    fn rows(&self) -> &[blst_p1_affine] {
        match &self.rows {
            Rows::Built(rows) => rows,
            // SAFETY: the header keeps the rows 8-byte aligned, the length is whole points of the
            // mapping, which lives as long as `self`; their bytes were checked on mapping, and
            // blst_p1_affine is plain data (any bits are a value).
            Rows::Mapped(map) => unsafe {
                let map = map.bytes();
                std::slice::from_raw_parts(map[HEADER..].as_ptr() as *const blst_p1_affine, (map.len() - HEADER) / size_of::<blst_p1_affine>())
            },
        }
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn bytes(&self) -> u64 {
        size_of_val(self.rows()) as u64
    }

    pub fn mapped(&self) -> bool {
        matches!(self.rows, Rows::Mapped(_))
    }

    /// Whether a sum over `live` of its points is faster here than through Pippenger: from a
    /// quarter of the table's points (its buckets are sized for all of them), and at most 1,024.
    /// Before, every sum under 1,024 points went to blst, so a k = 10 circuit, whose vectors have
    /// 1,024 points and whose columns always have some zeros, never used its tables: bench_k10
    /// proved slower than bench_k11.
    pub fn serves(&self, live: usize) -> bool {
        // A table whose file shrank under its mapping has zeros for rows: never used again.
        let intact = !matches!(&self.rows, Rows::Mapped(m) if m.faults() > 0);
        intact && live >= (self.n / 4).min(super::SERIAL_BELOW)
    }

    /// Σ digits[i]·P_i over `which` (indices below `len`), scalars of at most `nbits` bits.
    pub fn msm(&self, digits: &[[u8; 32]], which: &[usize], nbits: usize) -> blst_p1 {
        let rows = (nbits / self.window + 1).min(row_count(self.window));
        let (table, n, window) = (self.rows(), self.n, self.window);
        shared_bucket_sum(which.len(), STEP, window, |range| {
            let chunk = &which[range];
            let scalars: Vec<&[u8; 32]> = chunk.iter().map(|&i| &digits[i]).collect();
            // Row-major per scalar, the order the points below come in.
            let signed = signed_digits(&scalars, window, rows);
            let points = chunk.iter().enumerate().flat_map(move |(k, &i)| {
                if let Some(&ahead) = chunk.get(k + PREFETCH_AHEAD) {
                    prefetch_column(table, n, ahead, rows);
                }
                (0..rows).map(move |j| &table[j * n + i])
            });
            points.zip(signed)
        })
    }
}

/// Points a worker takes at a time: about 1 ms of additions, so the wait for the last step is
/// short, and the shared counter is touched rarely.
const STEP: usize = 128;

/// Points ahead whose rows are prefetched: a point's rows lie a whole row (n points) apart, so
/// no hardware prefetcher sees them coming, and each would be a cache miss in a table larger
/// than the cache.
const PREFETCH_AHEAD: usize = 4;

/// Asks the CPU to start loading rows 0..rows of point i (a hint: no effect on results).
fn prefetch_column(table: &[blst_p1_affine], n: usize, i: usize, rows: usize) {
    #[cfg(target_arch = "x86_64")]
    for j in 0..rows {
        if let Some(p) = table.get(j * n + i) {
            let at = p as *const blst_p1_affine as *const i8;
            // SAFETY: a prefetch never faults, and both addresses are inside the point.
            unsafe {
                use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
                _mm_prefetch::<_MM_HINT_T0>(at);
                _mm_prefetch::<_MM_HINT_T0>(at.add(size_of::<blst_p1_affine>() - 1));
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (table, n, i, rows);
}

fn as_bytes(points: &[blst_p1_affine]) -> &[u8] {
    // SAFETY: plain data without padding (12 + 12 u64 limbs), read as its bytes.
    unsafe { std::slice::from_raw_parts(points.as_ptr() as *const u8, size_of_val(points)) }
}

/// Windows of a 255-bit scalar, plus one for the signed digits' carry.
fn row_count(window: usize) -> usize {
    255 / window + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cache_file_is_mapped_when_sound_and_rebuilt_when_truncated_corrupt_or_foreign() {
        let base = to_affine(super::super::as_p1(&super::super::tests::points()[..1024]));
        let dir = std::env::temp_dir().join(format!("mnp-msm-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let built = FixedTable::cached(&base, 9, Some(&dir));
        assert!(!built.mapped());
        let file = std::fs::read_dir(&dir).unwrap().next().unwrap().unwrap().path();
        let mapped = FixedTable::cached(&base, 9, Some(&dir));
        assert!(mapped.mapped() && mapped.rows() == built.rows() && mapped.bytes() == built.bytes());
        let digits: Vec<[u8; 32]> = (0..1024u64)
            .map(|i| {
                let mut d = [0u8; 32];
                d[..8].copy_from_slice(&(i * 0x9e37_79b9_7f4a_7c15).to_le_bytes());
                d[31] = (i % 100) as u8;
                d
            })
            .collect();
        let which: Vec<usize> = (0..1024).collect();
        let (a, b) = (built.msm(&digits, &which, 255), mapped.msm(&digits, &which, 255));
        assert!(super::super::g1::is_equal(&a, &b));
        drop(mapped);
        let good = std::fs::read(&file).unwrap();
        let mut flipped = good.clone();
        flipped[HEADER + 5000] ^= 1;
        let foreign = FixedTable::cached(&base[..512], 9, None); // another vector's rows, same size
        let mut other = good[..HEADER].to_vec();
        other.extend_from_slice(as_bytes(foreign.rows()));
        other.resize(good.len(), 0);
        for (what, bytes) in [("truncated", &good[..good.len() - 1]), ("bit-flipped", &flipped[..]), ("foreign", &other[..])] {
            std::fs::write(&file, bytes).unwrap();
            assert!(!FixedTable::cached(&base, 9, Some(&dir)).mapped(), "{what}");
            assert_eq!(std::fs::read(&file).unwrap(), good, "{what}: rewritten");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
