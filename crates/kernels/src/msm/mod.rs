//! Our multi-scalar multiplication for BLS12-381 G1: every commitment midnight-proofs makes goes
//! through it, by the hook in `patches/midnight-proofs+0.7.3.patch` (installed by the proving crate's
//! `engines`). The algorithm is ours; the
//! field and point arithmetic is blst's. Compared with midnight-curves' `multi_exp`, which the
//! hook replaces, it:
//! - keeps the SRS bases affine once per parameters object (`prepare`, given the object that
//!   owns them, which it never looks into), instead of converting
//!   the same vector again on every commitment;
//! - skips zero scalars and bases at infinity, and sums scalars below 2^64 as their own group,
//!   windowed to their largest bit length (most advice columns in Lagrange form are small);
//! - sums the points of each repeated large scalar first and multiplies each value once
//!   (`repeats`): some commitments have one value on half their rows;
//! - uses signed digits and affine buckets with batched inversions (`buckets`, `affine`);
//! - for SRS vectors of up to `MAX_FIXED_POINTS`, uses fixed-base tables (`fixed`), built once
//!   per host and shared through a cache file that every process maps;
//! - runs on the caller's rayon pool, the prover's: blst's own global thread pool, which no
//!   `threads` setting bounds, is never used.
//!
//! docs/msm.md has the measurements.

use std::any::Any;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, Weak};

use blst::{blst_fr, blst_p1, blst_p1_affine};
use midnight_curves::{Fq, G1Projective};
use rayon::prelude::*;

use crate::sync::lock;

mod affine;
mod buckets;
mod fixed;
mod g1;
mod repeats;

use fixed::FixedTable;

/// Commitments the engine made in this process, and the most terms one had: the evidence that
/// every MSM midnight-proofs makes comes here (past 2^19 terms it would otherwise take
/// `msm_best`, with a subgroup check on every point).
static SERVED: AtomicU64 = AtomicU64::new(0);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

/// Σ scalars[i]·bases[i] over the shorter of the two, as midnight-curves' `multi_exp` sums it.
/// `srs` says the bases may be a prefix of a vector `prepare` was given: its tables serve them.
pub fn commit(scalars: &[Fq], bases: &[G1Projective], srs: bool) -> G1Projective {
    let n = scalars.len().min(bases.len());
    SERVED.fetch_add(1, Relaxed);
    LARGEST.fetch_max(n, Relaxed);
    let (scalars, bases) = (as_fr(&scalars[..n]), as_p1(&bases[..n]));
    let table = if srs { table_for(bases) } else { None };
    let converted;
    let affine: &[blst_p1_affine] = match &table {
        Some(t) => &t.affine[..n],
        None => {
            converted = to_affine(bases);
            &converted
        }
    };
    from_p1(msm_with(scalars, affine, table.as_ref().and_then(|t| t.fixed.as_ref())))
}

/// Σ scalars[i]·bases[i], with the fixed-base table of `bases` when there is one.
fn msm_with(scalars: &[blst_fr], bases: &[blst_p1_affine], fixed: Option<&FixedTable>) -> blst_p1 {
    let n = scalars.len().min(bases.len());
    let digits = canonical(&scalars[..n]);
    // A zero scalar adds nothing, nor does a base at infinity (which affine sums cannot take).
    let live = (0..n).filter(|&i| digits[i] != [0u8; 32] && !affine::is_infinity(&bases[i]));
    let (large, small): (Vec<usize>, Vec<usize>) = live.partition(|&i| digits[i][8..].iter().any(|&b| b != 0));
    // A repeated small scalar already costs one addition into its bucket: only large ones
    // (20 windows at k = 14) gain from being summed per value.
    let (large, repeated) = repeats::split(&digits, &large);
    let sum_of = |which: &[usize], nbits: usize| match fixed {
        Some(table) if table.serves(which.len()) && n <= table.len() => table.msm(&digits, which, nbits),
        _ => pippenger(bases, &digits, which, nbits),
    };
    let mut sum = sum_of(&large, 255);
    let mut add = |term: &blst_p1| g1::add(&mut sum, term);
    add(&sum_of(&small, max_bits(&digits, &small)));
    if !repeated.is_empty() {
        let (points, values) = repeats::sums(bases, &digits, &repeated);
        add(&pippenger(&points, &values, &(0..points.len()).collect::<Vec<_>>(), 255));
    }
    sum
}

/// The bit length of the largest of the (small) scalars `which`: windows above it are all zero.
fn max_bits(digits: &[[u8; 32]], which: &[usize]) -> usize {
    let max = which.iter().map(|&i| u64::from_le_bytes(digits[i][..8].try_into().unwrap())).max().unwrap_or(0);
    (64 - max.leading_zeros() as usize).max(1)
}

/// Scalars out of Montgomery form, as the little-endian bytes blst reads.
fn canonical(scalars: &[blst_fr]) -> Vec<[u8; 32]> {
    let mut out = vec![[0u8; 32]; scalars.len()];
    out.par_chunks_mut(CHUNK).zip(scalars.par_chunks(CHUNK)).for_each(|(out, scalars)| {
        for (o, s) in out.iter_mut().zip(scalars) {
            *o = g1::scalar_bytes(s);
        }
    });
    out
}

const CHUNK: usize = 1024;
/// Below this many points one blst call does it all: tiles would cost more than they save.
const SERIAL_BELOW: usize = 1024;
/// Fewer points than this are not split between workers.
const MIN_PART: usize = 64;

/// Σ digits[i]·bases[i] over `which`, with `nbits`-bit scalars, in tiles of (points × window)
/// on the current rayon pool, each tile summed with affine buckets (`buckets`).
fn pippenger(bases: &[blst_p1_affine], digits: &[[u8; 32]], which: &[usize], nbits: usize) -> blst_p1 {
    let n = which.len();
    let mut ret = blst_p1::default();
    if n == 0 {
        return ret;
    }
    if n < SERIAL_BELOW {
        // One blst call per worker: a single call held the other worker idle (about 50 ms per
        // zswap output proof on 2 threads, whose advice columns have a few hundred large scalars).
        let part = n.div_ceil(rayon::current_num_threads()).max(MIN_PART);
        let sums: Vec<blst_p1> = which.par_chunks(part).map(|which| g1::pippenger(bases, digits, which, nbits)).collect();
        return sum(&sums);
    }
    let window = window_bits(n);
    // One row more than nbits / window: the top one takes the signed digits' carry.
    let rows = nbits / window + 1;
    let scalars: Vec<&[u8; 32]> = which.iter().map(|&i| &digits[i]).collect();
    let signed: Vec<i16> = scalars.par_chunks(CHUNK).flat_map_iter(|c| buckets::signed_digits(c, window, rows)).collect();
    let points: Vec<&blst_p1_affine> = which.iter().map(|&i| &bases[i]).collect();
    // Enough tiles to keep every worker busy.
    let columns = (2 * rayon::current_num_threads()).div_ceil(rows).clamp(1, n);
    let width = n.div_ceil(columns);
    let tiles: Vec<(usize, usize)> = (0..rows).flat_map(|r| (0..columns).map(move |c| (r, c))).collect();
    let sums: Vec<blst_p1> = tiles
        .par_iter()
        .map(|&(row, column)| {
            let range = (column * width).min(n)..((column + 1) * width).min(n);
            buckets::bucket_sum(range.map(|i| (points[i], signed[i * rows + row])), window)
        })
        .collect();
    // Horner over the rows, top window first.
    for row in (0..rows).rev() {
        g1::double(&mut ret, window);
        for tile in &sums[row * columns..(row + 1) * columns] {
            g1::add(&mut ret, tile);
        }
    }
    ret
}

/// Σ points: the partial sums of the workers' shares.
fn sum(points: &[blst_p1]) -> blst_p1 {
    let mut ret = blst_p1::default();
    for p in points {
        g1::add(&mut ret, p);
    }
    ret
}

/// Pippenger's window for n points, at most `MAX_WINDOW`.
fn window_bits(n: usize) -> usize {
    let log = n.ilog2() as usize;
    let window = match log {
        0..=4 => 2,
        5..=8 => log - 1,
        9..=12 => log - 2,
        _ => log - 3,
    };
    window.min(MAX_WINDOW)
}

/// Signed digits are i16: |d| ≤ 2^(window−1) must fit.
const MAX_WINDOW: usize = 15;

fn to_affine(points: &[blst_p1]) -> Vec<blst_p1_affine> {
    let mut out = vec![blst_p1_affine::default(); points.len()];
    out.par_chunks_mut(CHUNK).zip(points.par_chunks(CHUNK)).for_each(|(out, points)| {
        // Points read from a parameters file have z = 1: their x and y are copied as they are.
        if points.iter().all(g1::is_normalized) {
            out.iter_mut().zip(points).for_each(|(a, p)| *a = blst_p1_affine { x: p.x, y: p.y });
        } else {
            g1::batch_to_affine(out, points);
        }
    });
    out
}

/// How far the points of a parameters file are trusted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Points {
    /// Someone vouches for the bytes (Midnight pins their hash): taken as they are.
    Vouched,
    /// Each point is checked to lie on the curve, as midnight-proofs' reader does.
    Checked,
}

/// The points of a list of uncompressed encodings (96 bytes each), decoded on the current
/// rayon pool, or on the calling thread outside one. None when `bytes` is not a whole number of
/// points, one has a flag bit set, or a checked one is off the curve (where midnight-proofs'
/// reader panics).
pub fn points(bytes: &[u8], trust: Points) -> Option<Vec<G1Projective>> {
    if !bytes.len().is_multiple_of(96) {
        return None;
    }
    let one = |p: &[u8]| {
        let point = g1::from_uncompressed_unchecked(p.try_into().expect("96 bytes"))?;
        (trust == Points::Vouched || g1::is_on_curve(&point)).then(|| from_p1(point))
    };
    match rayon::current_thread_index() {
        Some(_) => bytes.par_chunks_exact(96).map(one).collect(),
        None => bytes.chunks_exact(96).map(one).collect(),
    }
}

/// The affine copy of one SRS vector, valid while the parameters that own it live.
struct Table {
    owner: Weak<dyn Any + Send + Sync>,
    bases: usize,
    affine: Vec<blst_p1_affine>,
    fixed: Option<FixedTable>,
    path: Path,
}

impl Table {
    fn bytes(&self) -> u64 {
        (self.affine.len() * size_of::<blst_p1_affine>()) as u64 + self.fixed.as_ref().map_or(0, FixedTable::bytes)
    }
}

/// Fixed-base tables are built for SRS vectors of at most this many points (k ≤ 20), within the
/// budget `prepare` is given: 18-20 affine copies of the vector, 30 MiB per vector at k = 14 and
/// 226 MiB at k = 17.
pub const MAX_FIXED_POINTS: usize = 1 << 20;

/// The MSM path an SRS vector got, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// Fixed-base tables: one bucket set for every window.
    Fixed,
    /// Pippenger over the affine copy: the vector has more than `MAX_FIXED_POINTS` points.
    TooManyPoints,
    /// Pippenger over the affine copy: the tables of both vectors would pass the fixed budget.
    OverBudget,
}

impl Path {
    pub fn reason(self) -> &'static str {
        match self {
            Path::Fixed => "its tables fit the budget",
            Path::TooManyPoints => "more points than fixed-base tables are built for",
            Path::OverBudget => "the tables of both vectors would pass an eighth of memoryLimit (or of the machine's memory)",
        }
    }
}

/// What one SRS vector's table is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VectorStatus {
    pub points: usize,
    pub path: Path,
    /// Its fixed-base tables, 0 on the plain path.
    pub fixed_bytes: u64,
}

/// Held per live parameters object; a table whose parameters were dropped goes at the next
/// `prepare`. No more than this many are kept (each process holds parameters for a few k).
const MAX_TABLES: usize = 64;
static TABLES: Mutex<Vec<Arc<Table>>> = Mutex::new(Vec::new());

/// Converts both SRS vectors of a parameters object (`owner`, which must keep them where they
/// are while it lives) to affine once, on the current rayon pool, so that every later
/// commitment with them skips the conversion, and builds their fixed-base tables when they have
/// at most `MAX_FIXED_POINTS` points and `fixed_budget` bytes cover both. Idempotent: vectors
/// that have tables keep them. Fixed-base tables are shared through cache files in `cache_dir`
/// (see `FixedTable::cached`). Returns the bytes it mapped from such files, which the allocator
/// does not see.
pub fn prepare<O: Send + Sync + 'static>(owner: &Arc<O>, vectors: [&[G1Projective]; 2], fixed_budget: u64, cache_dir: Option<&std::path::Path>) -> u64 {
    let mut mapped = 0;
    let missing: Vec<&[G1Projective]> = {
        let mut tables = lock(&TABLES);
        tables.retain(|t| t.owner.strong_count() > 0);
        let held = |v: &[G1Projective]| tables.iter().any(|t| t.bases == v.as_ptr() as usize);
        vectors.into_iter().filter(|v| !v.is_empty() && !held(v)).collect()
    };
    for v in missing {
        let affine = to_affine(as_p1(v));
        let window = FixedTable::window_for(v.len(), rayon::current_num_threads());
        let path = if v.len() > MAX_FIXED_POINTS {
            Path::TooManyPoints
        } else if 2 * FixedTable::bytes_for(v.len(), window) > fixed_budget {
            Path::OverBudget
        } else {
            Path::Fixed
        };
        let fixed = (path == Path::Fixed).then(|| FixedTable::cached(&affine, window, cache_dir));
        mapped += fixed.as_ref().filter(|f| f.mapped()).map_or(0, FixedTable::bytes);
        let owner: Weak<dyn Any + Send + Sync> = Arc::downgrade(owner) as Weak<O>;
        let table = Arc::new(Table { owner, bases: v.as_ptr() as usize, affine, fixed, path });
        let mut tables = lock(&TABLES);
        if tables.len() < MAX_TABLES && !tables.iter().any(|t| t.bases == table.bases) {
            tables.push(table);
        }
    }
    mapped
}

/// The table of a vector whose owner is alive: its bases stay where they are while it lives,
/// so the address identifies them.
fn table_for(bases: &[blst_p1]) -> Option<Arc<Table>> {
    let tables = lock(&TABLES);
    let table = tables.iter().find(|t| t.bases == bases.as_ptr() as usize && bases.len() <= t.affine.len())?;
    (table.owner.strong_count() > 0).then(|| table.clone())
}

/// The engine's affine SRS tables: shared by every prover of the process, one per SRS vector
/// of each live parameters object, 96 bytes per point (2/3 of the projective SRS they serve).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TableStatus {
    pub tables: usize,
    pub bytes: u64,
    /// Of `bytes`, those mapped read-only from the shared cache files.
    pub mapped_bytes: u64,
    pub max_tables: usize,
    /// Each live vector's path, smallest first.
    pub vectors: Vec<VectorStatus>,
    /// MSMs the engine made in this process (every commitment while it is enabled).
    pub commitments: u64,
    /// The most terms one of them had.
    pub largest_commitment: usize,
}

pub fn status() -> TableStatus {
    let tables = lock(&TABLES);
    let live = tables.iter().filter(|t| t.owner.strong_count() > 0);
    let mapped = |t: &Table| t.fixed.as_ref().filter(|f| f.mapped()).map_or(0, FixedTable::bytes);
    let live: Vec<&Arc<Table>> = live.collect();
    let (bytes, mapped_bytes) = live.iter().fold((0, 0), |(b, m), t| (b + t.bytes(), m + mapped(t)));
    let mut vectors: Vec<VectorStatus> =
        live.iter().map(|t| VectorStatus { points: t.affine.len(), path: t.path, fixed_bytes: t.fixed.as_ref().map_or(0, FixedTable::bytes) }).collect();
    vectors.sort_by_key(|v| v.points);
    let (commitments, largest_commitment) = (SERVED.load(Relaxed), LARGEST.load(Relaxed));
    TableStatus { tables: live.len(), bytes, mapped_bytes, max_tables: MAX_TABLES, vectors, commitments, largest_commitment }
}

// midnight-curves' types are repr(transparent) over blst's.
fn as_fr(s: &[Fq]) -> &[blst_fr] {
    // SAFETY: Fq is repr(transparent) over blst_fr: same size, alignment and bits.
    unsafe { std::slice::from_raw_parts(s.as_ptr() as *const blst_fr, s.len()) }
}
fn as_p1(p: &[G1Projective]) -> &[blst_p1] {
    // SAFETY: G1Projective is repr(transparent) over blst_p1.
    unsafe { std::slice::from_raw_parts(p.as_ptr() as *const blst_p1, p.len()) }
}
fn from_p1(p: blst_p1) -> G1Projective {
    // SAFETY: as in `as_p1`, by value.
    unsafe { std::mem::transmute::<blst_p1, G1Projective>(p) }
}

const _: () = assert!(size_of::<Fq>() == size_of::<blst_fr>() && size_of::<G1Projective>() == size_of::<blst_p1>());

#[cfg(test)]
mod tests {
    use super::*;
    use ff::Field;
    use group::Group;
    use proptest::prelude::*;
    use std::sync::OnceLock;

    /// 2^15 distinct points, random multiples of the generator (as an SRS's are, of unknown ones).
    pub(crate) fn points() -> &'static Vec<G1Projective> {
        static POINTS: OnceLock<Vec<G1Projective>> = OnceLock::new();
        POINTS.get_or_init(|| {
            use rand::SeedableRng;
            (0..1u64 << 15).into_par_iter().map(|i| G1Projective::generator() * Fq::random(rand::rngs::StdRng::seed_from_u64(i))).collect()
        })
    }

    /// A parameters object of two vectors of `n` points each, as `prepare` is given them.
    fn owner(n: usize, from: usize) -> Arc<Vec<G1Projective>> {
        Arc::new(points()[from..from + 2 * n].to_vec())
    }

    fn vectors(owner: &Arc<Vec<G1Projective>>) -> [&[G1Projective]; 2] {
        let half = owner.len() / 2;
        [&owner[..half], &owner[half..]]
    }

    fn scalar(kind: u8, r: u64) -> Fq {
        match kind % 9 {
            0 => Fq::ZERO,
            1 => Fq::ONE,
            2 => -Fq::ONE,
            3 => Fq::from(r),
            4 => Fq::from(u64::MAX),
            5 => Fq::from(u64::MAX) + Fq::ONE, // 2^64: the first scalar that is not small
            6 => -Fq::from(r),
            7 => Fq::from(r).pow_vartime([r | 3, r.rotate_left(17), 0, 0]), // a full-width scalar
            _ => Fq::from(7u64),                                            // repeated
        }
    }

    fn base(kind: u8, i: usize) -> G1Projective {
        let all = points();
        match kind % 6 {
            0 => G1Projective::identity(),
            1 => all[0], // repeated
            2 => -all[i % all.len()],
            _ => all[i % all.len()],
        }
    }

    fn size() -> impl Strategy<Value = usize> {
        prop_oneof![
            Just(1usize),
            Just(2),
            Just(3),
            Just(31),
            Just(32),
            Just(33),
            Just(1023),
            Just(1024),
            Just(1025),
            Just(4097),
            Just(16384),
            Just(20000),
            Just(32768),
            1usize..40000
        ]
    }

    /// Our engine on every backend the CPU has equals blst's multi_exp.
    fn check(scalars: &[Fq], bases: &[G1Projective]) {
        let want = G1Projective::multi_exp(bases, scalars);
        for (backend, got) in crate::backend::each(|_| commit(scalars, bases, false)) {
            assert_eq!(got, want, "n = {}, {backend:?}", scalars.len());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, rng_seed: proptest::test_runner::RngSeed::Fixed(24), ..ProptestConfig::default() })]

        #[test]
        fn equals_blst_multi_exp_on_random_and_adversarial_inputs(n in size(), seed in any::<u64>(), mix in 0u8..4) {
            let mut rng = seed;
            let mut next = || { rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); rng };
            let n = n.min(32768);
            let (scalars, bases): (Vec<Fq>, Vec<G1Projective>) = (0..n).map(|i| {
                let r = next();
                // mix 0: uniform kinds; 1: mostly zero; 2: mostly small; 3: mostly full width.
                let kind = match mix { 1 if r % 10 < 8 => 0, 2 if r % 10 < 8 => 3, 3 if r % 10 < 8 => 7, _ => (r >> 40) as u8 };
                let base_kind = if r % 17 == 0 { (r >> 20) as u8 } else { 3 };
                (scalar(kind, next()), base(base_kind, i))
            }).unzip();
            check(&scalars, &bases);
        }
    }

    #[test]
    fn decoded_points_and_their_affine_copies_equal_midnights() {
        use group::Curve;
        let some = &points()[..1000];
        let bytes: Vec<u8> = some.iter().flat_map(|p| midnight_curves::serde::SerdeObject::to_raw_bytes(&p.to_affine())).collect();
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let decoded = pool.install(|| super::points(&bytes, Points::Vouched)).unwrap();
        assert_eq!(&decoded, some);
        for trust in [Points::Vouched, Points::Checked] {
            assert_eq!(super::points(&bytes, trust).unwrap(), decoded, "{trust:?} off a pool");
            assert_eq!(pool.install(|| super::points(&bytes, trust)).unwrap(), decoded, "{trust:?} on a pool");
        }
        // Decoded points have z = 1 and are copied; the generator's multiples are not, and go
        // through the batch inversion.
        assert!(as_p1(&decoded).iter().all(g1::is_normalized) && !as_p1(some).iter().all(g1::is_normalized));
        assert_eq!(to_affine(as_p1(&decoded)), to_affine(as_p1(some)));
        let mut flagged = bytes.clone();
        flagged[96] |= 0x40;
        let mut off_curve = bytes.clone();
        off_curve[96 * 7 + 60] ^= 1;
        for trust in [Points::Vouched, Points::Checked] {
            assert!(super::points(&bytes[..95], trust).is_none(), "not a whole point");
            assert!(super::points(&flagged, trust).is_none(), "the infinity flag");
        }
        assert!(super::points(&off_curve, Points::Checked).is_none(), "a checked point off the curve");
        assert_eq!(super::points(&off_curve, Points::Vouched).unwrap().len(), 1000, "a vouched one is taken as it is");
    }

    #[test]
    fn edge_cases_equal_blst_multi_exp() {
        let all = points();
        assert_eq!(commit(&[], &[], false), G1Projective::identity());
        check(&[Fq::from(5u64)], &all[..1]);
        check(&[Fq::ZERO; 4096], &all[..4096]);
        check(&vec![-Fq::ONE; 2048], &all[..2048]);
        check(&vec![Fq::ONE; 3000], &vec![G1Projective::identity(); 3000]);
        // Repeated scalars are summed per value first: a value on P and −P (a sum at infinity),
        // on one point four times (doublings), on half of 4,096 points, and on all of 1,500.
        let p = all[1];
        check(&[Fq::from(9u64); 2], &[p, -p]);
        check(&[Fq::from(9u64); 3], &[p, -p, p]);
        check(&[scalar(7, 5); 4], &[p; 4]);
        let half: Vec<Fq> = (0..4096u64).map(|i| if i % 2 == 0 { scalar(7, 5) } else { Fq::from(i) }).collect();
        check(&half, &all[..4096]);
        check(&vec![-Fq::from(3u64); 1500], &all[..1500]);
        // More scalars than bases: the shorter length counts, as in multi_exp.
        assert_eq!(commit(&[Fq::ONE, Fq::ONE], &all[..1], false), all[0]);
    }

    #[test]
    fn tables_past_the_budget_take_the_plain_path_and_say_why() {
        let own = owner(256, 0);
        let fixed = FixedTable::bytes_for(256, FixedTable::window_for(256, rayon::current_num_threads()));
        prepare(&own, vectors(&own), 2 * fixed - 1, None);
        let paths = |p: &Arc<Vec<G1Projective>>| vectors(p).map(|v| table_for(as_p1(v)).unwrap().path);
        assert_eq!(paths(&own), [Path::OverBudget; 2]);
        assert!(table_for(as_p1(vectors(&own)[0])).unwrap().fixed.is_none());
        let listed = status().vectors.into_iter().filter(|v| v.points == 256 && v.path == Path::OverBudget).count();
        assert!(listed >= 2, "status lists both vectors on the plain path");
        let other = owner(256, 512);
        prepare(&other, vectors(&other), 2 * fixed, None);
        assert_eq!(paths(&other), [Path::Fixed; 2]);
        // From a quarter of a table's points on, sums go through it, and equal blst's.
        let table = table_for(as_p1(vectors(&other)[0])).unwrap();
        assert!(table.fixed.as_ref().unwrap().serves(64) && !table.fixed.as_ref().unwrap().serves(63));
        for n in [64, 100, 256] {
            let scalars: Vec<Fq> = (0..n as u64).map(|i| Fq::from(i * i + 1).pow_vartime([i + 5])).collect();
            for bases in vectors(&other) {
                assert_eq!(commit(&scalars, &bases[..n], true), G1Projective::multi_exp(&bases[..n], &scalars), "n = {n}");
            }
        }
    }

    #[test]
    fn srs_prefixes_use_the_prepared_table_on_one_and_three_thread_pools() {
        let params = owner(4096, 8192);
        prepare(&params, vectors(&params), u64::MAX, None);
        assert!(table_for(as_p1(vectors(&params)[1])).is_some());
        assert!(status().bytes >= 2 * 4096 * 96 && status().tables >= 2 && status().tables <= MAX_TABLES);
        assert!(table_for(as_p1(vectors(&params)[0])).unwrap().fixed.is_some(), "4,096 points have fixed-base tables");
        let cases = [(4096usize, None), (4000, Some(0)), (1500, Some(1)), (2, None), (4096, Some(2)), (3000, Some(3)), (4096, Some(9)), (700, None)];
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            for (n, kind) in cases {
                // Full-width scalars; a mix of every adversarial kind (zero, ±1, small, 2^64,
                // repeated); or (9) one full-width scalar everywhere, every digit equal.
                let scalars: Vec<Fq> = (0..n as u64)
                    .map(|i| match kind {
                        None => Fq::from(i * i + 1).pow_vartime([i + 5]),
                        Some(9) => scalar(7, 12345),
                        Some(mix) => scalar(((i * 7 + mix) % 9) as u8, i.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
                    })
                    .collect();
                for bases in vectors(&params) {
                    let got = pool.install(|| commit(&scalars, &bases[..n], true));
                    assert_eq!(got, G1Projective::multi_exp(&bases[..n], &scalars), "n = {n}, {threads} threads");
                }
            }
        }
    }
}

#[cfg(test)]
mod timing {
    use super::*;
    use ff::Field;

    /// `cargo test --release -p midnight-native-prover-kernels msm::timing -- --ignored --nocapture`:
    /// ours against blst's multi_exp on 2^14 points (as the k=14 Lagrange SRS has), on 2 threads: dense, half-zero, small (24-bit),
    /// one-bit and one-byte scalars, half of them one value, and negated small ones (every
    /// digit but the lowest the same).
    #[test]
    #[ignore]
    fn msm_timing() {
        let params = Arc::new(super::tests::points()[..1 << 15].to_vec());
        let (g, lagrange) = params.split_at(1 << 14);
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let started = std::time::Instant::now();
        pool.install(|| prepare(&params, [g, lagrange], u64::MAX, None));
        println!("tables for k=14: {:.0} ms, {:.1} MiB", started.elapsed().as_secs_f64() * 1e3, status().bytes as f64 / (1 << 20) as f64);
        let bases = lagrange;
        let mut seed = 7u64;
        let mut rand = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            seed
        };
        let dense: Vec<Fq> = (0..bases.len()).map(|_| Fq::from(rand()).pow_vartime([rand(), rand(), rand(), 0])).collect();
        let half: Vec<Fq> = dense.iter().enumerate().map(|(i, s)| if i % 2 == 0 { Fq::ZERO } else { *s }).collect();
        let small: Vec<Fq> = (0..bases.len()).map(|_| Fq::from(rand() >> 40)).collect();
        let bits: Vec<Fq> = (0..bases.len()).map(|_| Fq::from(rand() >> 63)).collect();
        let bytes: Vec<Fq> = (0..bases.len()).map(|_| Fq::from(rand() >> 56)).collect();
        let repeated: Vec<Fq> = dense.iter().enumerate().map(|(i, s)| if i % 2 == 0 { dense[0] } else { *s }).collect();
        let near: Vec<Fq> = (0..bases.len()).map(|_| -Fq::from(rand() >> 40)).collect();
        let cases = [
            ("dense", &dense),
            ("half zero", &half),
            ("small", &small),
            ("bits", &bits),
            ("bytes", &bytes),
            ("half one value", &repeated),
            ("-(24-bit)", &near),
        ];
        for (name, scalars) in cases {
            let time = |f: &dyn Fn() -> G1Projective| {
                let t = std::time::Instant::now();
                let r = (0..5).map(|_| f()).last().unwrap();
                (t.elapsed().as_secs_f64() * 1e3 / 5.0, r)
            };
            let (ours, a) = pool.install(|| time(&|| commit(scalars, bases, true)));
            let (theirs, b) = pool.install(|| time(&|| G1Projective::multi_exp(bases, scalars)));
            assert_eq!(a, b);
            println!("{name}: ours {ours:.1} ms, multi_exp {theirs:.1} ms ({:.2}x)", ours / theirs);
        }
    }
}
