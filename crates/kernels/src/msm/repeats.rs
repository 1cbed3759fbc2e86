//! Scalars that repeat: Σ s_i·P_i = Σ_v v·(Σ_{s_i = v} P_i). The points of each repeated value
//! are summed first (one affine addition each), and only the distinct values are multiplied.
//! In a zswap output proof, 11 of its 31 large commitments have one value on 1,400 to 7,900 of
//! their 16,384 rows, and some only 15 to 650 distinct values; with a fixed-base table each of
//! those points cost 20 additions into one bucket per window, done projectively because the
//! bucket was always busy (those MSMs took 90–165 ms, against 90 ms for one of 16,384
//! distinct values).

use blst::blst_p1_affine;
use rayon::prelude::*;

use super::affine::sum_runs;

/// `which` split into the indices whose scalar occurs once, in increasing order, and those
/// whose scalar repeats, as (run, index) with the indices of one scalar adjacent and numbered
/// by one run number.
pub fn split(digits: &[[u8; 32]], which: &[usize]) -> (Vec<usize>, Vec<(u32, usize)>) {
    // Sorting by the low 64 bits first keeps the comparisons cheap; equal low bits are then
    // told apart by the whole scalar.
    let mut order: Vec<(u64, usize)> = which.iter().map(|&i| (low_bits(&digits[i]), i)).collect();
    order.par_sort_unstable();
    let (mut singles, mut repeated) = (Vec::new(), Vec::new());
    for same_low in order.chunk_by_mut(|a, b| a.0 == b.0) {
        if same_low.len() > 1 {
            same_low.sort_unstable_by(|a, b| digits[a.1].cmp(&digits[b.1]));
        }
        for run in same_low.chunk_by(|a, b| digits[a.1] == digits[b.1]) {
            match run {
                [(_, i)] => singles.push(*i),
                _ => {
                    let number = repeated.last().map_or(0, |&(r, _): &(u32, usize)| r + 1);
                    repeated.extend(run.iter().map(|&(_, i)| (number, i)));
                }
            }
        }
    }
    // The fixed-base table is read in index order (its rows are prefetched a few points ahead).
    singles.par_sort_unstable();
    (singles, repeated)
}

/// The point Σ P_i and the scalar of each run of `repeated` (from `split`); runs whose points
/// sum to infinity are left out. No base may be at infinity.
pub fn sums(bases: &[blst_p1_affine], digits: &[[u8; 32]], repeated: &[(u32, usize)]) -> (Vec<blst_p1_affine>, Vec<[u8; 32]>) {
    let mut scalar_of = Vec::new();
    for &(run, i) in repeated {
        if run as usize == scalar_of.len() {
            scalar_of.push(digits[i]);
        }
    }
    let sums = sum_runs(repeated.iter().map(|&(run, i)| (run, bases[i])).collect());
    sums.into_iter().map(|(run, point)| (point, scalar_of[run as usize])).unzip()
}

fn low_bits(digits: &[u8; 32]) -> u64 {
    u64::from_le_bytes(digits[..8].try_into().unwrap())
}
