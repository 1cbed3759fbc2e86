//! Affine point additions in batches that share one field inversion (Montgomery's trick): about
//! 5 multiplications and a squaring per addition, where blst's projective addition of an
//! affine point costs about 11. The buckets (`buckets`) and the sums of points with a repeated
//! scalar (`repeats`) both add this way.
//!
//! On CPUs with AVX-512 IFMA a batch goes eight additions at a time (`ifma`). Measured on an
//! Intel Xeon (CPU model 207, `msm::timing`, 3 alternating runs): a dense MSM of 16,384 points
//! took 78–97 ms one at a time and 45–48 ms eight at a time; zswap output proofs went from
//! 2,904 to 2,326 ms (means of 3 alternating runs of 3).

use super::g1;
use blst::{blst_fp, blst_p1_affine};
use rayon::prelude::*;

#[cfg(target_arch = "x86_64")]
mod ifma;

/// The batch's denominators x_b − x_a, then their prefix products: kept across batches, so a
/// batch allocates nothing.
#[derive(Default)]
pub struct Scratch {
    den: Vec<blst_fp>,
    prefix: Vec<blst_fp>,
    /// The same for eight additions at a time (`ifma`), and the additions it leaves.
    #[cfg(target_arch = "x86_64")]
    lanes: ifma::Prefixes,
    #[cfg(target_arch = "x86_64")]
    equal_x: Vec<usize>,
}

/// a[k] += b[k] for every k (b is as long as a). No input may be at infinity; a sum at infinity
/// comes out as blst's affine infinity (all zero, `is_infinity`). Equal x (a doubling, or a sum
/// at infinity) is done projectively: its denominator is zero and the shared inversion skips it.
/// Eight additions at a time on CPUs with AVX-512 IFMA (`ifma`), one at a time otherwise.
pub fn add_assign(a: &mut [blst_p1_affine], b: &[blst_p1_affine], scratch: &mut Scratch) {
    #[cfg(target_arch = "x86_64")]
    if a.len() >= LANES_FROM && crate::backend::current().lanes() {
        let Scratch { lanes, equal_x, .. } = scratch;
        equal_x.clear();
        // SAFETY: the backend is `ifma` only on a CPU with AVX-512F and IFMA, checked just above.
        unsafe { ifma::add_assign(a, b, lanes, equal_x) };
        for &k in equal_x.iter() {
            a[k] = add_projective(&a[k], &b[k]);
        }
        return;
    }
    add_assign_one_by_one(a, b, scratch);
}

/// Batches shorter than this go one addition at a time: the eight lanes' own inversion costs
/// about as much as a score of products.
#[cfg(target_arch = "x86_64")]
const LANES_FROM: usize = 32;

/// `add_assign`, one addition at a time.
fn add_assign_one_by_one(a: &mut [blst_p1_affine], b: &[blst_p1_affine], scratch: &mut Scratch) {
    let Scratch { den, prefix, .. } = scratch;
    den.clear();
    prefix.clear();
    let mut acc = one();
    for (a, b) in a.iter().zip(b) {
        let d = g1::fp_sub(&b.x, &a.x);
        prefix.push(acc);
        if !is_zero(&d) {
            acc = g1::fp_mul(&acc, &d);
        }
        den.push(d);
    }
    let mut inv = g1::fp_inverse(&acc);
    for k in (0..den.len()).rev() {
        if is_zero(&den[k]) {
            a[k] = add_projective(&a[k], &b[k]);
            continue;
        }
        // 1/den[k] = inv · prefix[k]; then inv becomes 1/prefix[k].
        let t = g1::fp_mul(&inv, &prefix[k]);
        inv = g1::fp_mul(&inv, &den[k]);
        add_with_inverse(&mut a[k], &b[k], &t);
    }
}

/// a += b, given 1/(x_b − x_a).
fn add_with_inverse(a: &mut blst_p1_affine, b: &blst_p1_affine, inverse: &blst_fp) {
    let lambda = g1::fp_mul(&g1::fp_sub(&b.y, &a.y), inverse);
    let x3 = g1::fp_sub(&g1::fp_sub(&g1::fp_sqr(&lambda), &a.x), &b.x);
    let y3 = g1::fp_mul(&g1::fp_sub(&a.x, &x3), &lambda);
    a.y = g1::fp_sub(&y3, &a.y);
    a.x = x3;
}

/// a + b when both have the same x: 2·a, or the point at infinity.
fn add_projective(a: &blst_p1_affine, b: &blst_p1_affine) -> blst_p1_affine {
    let mut sum = g1::from_affine(a);
    g1::add_affine(&mut sum, b);
    g1::to_affine(&sum)
}

pub fn is_infinity(p: &blst_p1_affine) -> bool {
    g1::is_infinity(p)
}

fn is_zero(a: &blst_fp) -> bool {
    a.l.iter().fold(0, |acc, &limb| acc | limb) == 0
}

fn one() -> blst_fp {
    g1::fp_one()
}

/// Points per shared inversion: large enough that the inversion is a few percent of the batch.
pub const BATCH: usize = 256;

/// The sum of each run of equal keys in `entries` (a key's entries must be contiguous), one
/// entry per run in the same order; a run whose sum is at infinity is dropped. Adds pairwise,
/// level by level: n − 1 additions for a run of n, every level's pairs in batches of `BATCH`
/// on the current rayon pool. No point may be at infinity.
pub fn sum_runs(mut entries: Vec<(u32, blst_p1_affine)>) -> Vec<(u32, blst_p1_affine)> {
    loop {
        let pairs = pair_starts(&entries);
        if pairs.is_empty() {
            return entries;
        }
        let mut lhs: Vec<blst_p1_affine> = pairs.iter().map(|&k| entries[k].1).collect();
        let rhs: Vec<blst_p1_affine> = pairs.iter().map(|&k| entries[k + 1].1).collect();
        lhs.par_chunks_mut(BATCH).zip(rhs.par_chunks(BATCH)).for_each_init(Scratch::default, |s, (a, b)| add_assign(a, b, s));
        let mut sums = pairs.iter().zip(lhs).peekable();
        let mut next = Vec::with_capacity(entries.len() - pairs.len());
        let mut k = 0;
        while k < entries.len() {
            if let Some((_, sum)) = sums.next_if(|(&at, _)| at == k) {
                if !is_infinity(&sum) {
                    next.push((entries[k].0, sum));
                }
                k += 2;
            } else {
                next.push(entries[k]);
                k += 1;
            }
        }
        entries = next;
    }
}

/// Where the pairs of one level of `sum_runs` start: entry k pairs with k + 1 when they share a
/// key and k is not already the second of a pair.
fn pair_starts(entries: &[(u32, blst_p1_affine)]) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut k = 0;
    while k + 1 < entries.len() {
        if entries[k].0 == entries[k + 1].0 {
            starts.push(k);
            k += 2;
        } else {
            k += 1;
        }
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, Rng, SeedableRng};

    fn random_points(n: usize, rng: &mut StdRng) -> Vec<blst_p1_affine> {
        let g = g1::generator();
        (0..n)
            .map(|_| {
                let s: [u8; 32] = rng.gen();
                g1::to_affine(&g1::mult(&g, &s, 255))
            })
            .collect()
    }

    fn neg(p: &blst_p1_affine) -> blst_p1_affine {
        g1::neg_affine(p)
    }

    /// Batches of every length up to 40 and a few longer, a fifth of their additions doublings
    /// or sums at infinity, in both orders of operands: `add_assign` equals the one-by-one
    /// additions bit for bit, and both equal blst's projective sums.
    #[test]
    fn batched_additions_equal_one_by_one_and_blsts() {
        let mut rng = StdRng::seed_from_u64(7);
        let pool = random_points(300, &mut rng);
        for n in (1..=40).chain([63, 64, 65, 255, 256]) {
            let a: Vec<_> = (0..n).map(|_| pool[rng.gen_range(0..pool.len())]).collect();
            let b: Vec<_> = a
                .iter()
                .map(|p| match rng.gen_range(0..10) {
                    0 => *p,
                    1 => neg(p),
                    _ => pool[rng.gen_range(0..pool.len())],
                })
                .collect();
            let mut slow = a.clone();
            add_assign_one_by_one(&mut slow, &b, &mut Scratch::default());
            for (_, fast) in crate::backend::each(|_| {
                let mut fast = a.clone();
                add_assign(&mut fast, &b, &mut Scratch::default());
                fast
            }) {
                for k in 0..n {
                    assert_eq!(format!("{:?}", fast[k]), format!("{:?}", slow[k]), "n {n}, addition {k}");
                    let want = add_projective(&a[k], &b[k]);
                    assert_eq!(format!("{:?}", fast[k]), format!("{:?}", want), "n {n}, addition {k}");
                }
            }
        }
    }

    /// On a CPU with IFMA the lanes do the additions, leaving only the equal x to the caller.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_lanes_add_where_the_cpu_has_ifma() {
        if !crate::backend::ifma_testable() {
            return;
        }
        let mut rng = StdRng::seed_from_u64(8);
        let a = random_points(21, &mut rng);
        let mut b = random_points(21, &mut rng);
        b[3] = a[3];
        b[20] = neg(&a[20]);
        let (mut sums, mut equal_x) = (a.clone(), Vec::new());
        // SAFETY: the CPU has AVX-512F and IFMA (`ifma_testable`).
        unsafe { ifma::add_assign(&mut sums, &b, &mut Vec::new(), &mut equal_x) };
        equal_x.sort();
        assert_eq!(equal_x, [3, 20]);
        for k in (0..21).filter(|k| ![3, 20].contains(k)) {
            assert_eq!(format!("{:?}", sums[k]), format!("{:?}", add_projective(&a[k], &b[k])), "addition {k}");
        }
    }
}
