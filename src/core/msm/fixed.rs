//! Fixed-base tables for one SRS vector P_0..P_{n−1}: rows T_j = 2^(j·w)·P, affine, for every
//! window j of a 255-bit scalar. An MSM over the vector then puts every signed digit of every
//! scalar into one set of buckets: one bucket integration per thread instead of one per window,
//! no doublings, and windows wider than plain Pippenger can afford.

use blst::{blst_p1, blst_p1_affine};
use rayon::prelude::*;

use super::buckets::{bucket_sum, signed_digits};
use super::{to_affine, CHUNK};

pub struct FixedTable {
    window: usize,
    n: usize,
    /// Row-major: row j holds 2^(j·window)·P_i at j·n + i.
    rows: Vec<blst_p1_affine>,
}

impl FixedTable {
    /// The window for n points on `threads` threads: fewest additions (n per row) plus bucket
    /// integrations (about 4 additions per bucket, once per thread).
    pub fn window_for(n: usize, threads: usize) -> usize {
        (8..=16).min_by_key(|&w| n * row_count(w) + threads * 4 * (1 << (w - 1))).unwrap()
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
                        let mut q = blst_p1::default();
                        unsafe { blst::blst_p1_from_affine(&mut q, p) };
                        for _ in 0..window {
                            unsafe { blst::blst_p1_double(&mut q, &q) };
                        }
                        q
                    })
                })
                .collect();
            rows.extend(to_affine(&next));
        }
        FixedTable { window, n, rows }
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn bytes(&self) -> u64 {
        (self.rows.len() * size_of::<blst_p1_affine>()) as u64
    }

    /// Σ digits[i]·P_i over `which` (indices below `len`), scalars of at most `nbits` bits.
    pub fn msm(&self, digits: &[[u8; 32]], which: &[usize], nbits: usize) -> blst_p1 {
        let rows = (nbits / self.window + 1).min(row_count(self.window));
        let columns = rayon::current_num_threads().clamp(1, which.len().max(1));
        let width = which.len().div_ceil(columns).max(1);
        let sums: Vec<blst_p1> = which
            .par_chunks(width)
            .map(|chunk| {
                let scalars: Vec<&[u8; 32]> = chunk.iter().map(|&i| &digits[i]).collect();
                let signed = signed_digits(&scalars, self.window, rows);
                let terms = chunk.iter().enumerate().flat_map(|(k, &i)| (0..rows).map(move |j| (k, i, j)));
                bucket_sum(terms.map(|(k, i, j)| (&self.rows[j * self.n + i], signed[k * rows + j])), self.window)
            })
            .collect();
        let mut ret = blst_p1::default();
        for s in &sums {
            unsafe { blst::blst_p1_add_or_double(&mut ret, &ret, s) };
        }
        ret
    }
}

/// Windows of a 255-bit scalar, plus one for the signed digits' carry.
fn row_count(window: usize) -> usize {
    255 / window + 1
}
