//! Scalar-field elements in and out of the AVX-512 lanes (`lanes`): eight elements of 4 words,
//! element after element, become five vectors of 52-bit limbs, one element per lane, and back.
//! The FFT and the gate evaluator make their products there: measured on an Intel Xeon (CPU
//! model 207), 8.9–9.5 ns per product with the transposes, against 21.4–21.9 ns for
//! `scalar_field::mul` with BMI2/ADX and 22–23 ns for blst's (`scalar_field::tests::timing`).
//!
//! The lanes keep the same element in the same bits as `scalar_field::mul`'s (Montgomery form,
//! R = 2^256, fully reduced), so callers can mix the two. Five steps of 52-bit Montgomery
//! reduction divide by 2^260, not 2^256: so a product's left operand enters shifted left by
//! 4 bits as it is split (`LANES_MODULUS.shift`), and (16·a)·b / 2^260 = a·b / 2^256.

use std::arch::x86_64::*;

use super::Fq;
use crate::lanes;

/// The eight elements at p in limbs, lane k holding element k, shifted left by `shift` bits
/// (`LANES_MODULUS.shift` for a product's left operand, see `lanes`).
///
/// # Safety
/// The CPU must have AVX-512F and IFMA (`backend::current().lanes()`); p holds at least 8 elements.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub unsafe fn load(p: *const Fq, shift: u32) -> [__m512i; 5] {
    lanes::split::<4, 5>(&transpose_in(p), shift)
}

/// `value` in all eight lanes, shifted left by `shift` bits like `load`'s.
///
/// # Safety
/// The CPU must have AVX-512F and IFMA (`backend::current().lanes()`).
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub unsafe fn splat(value: &Fq, shift: u32) -> [__m512i; 5] {
    lanes::split::<4, 5>(&lanes::splat(&super::words(value)), shift)
}

/// The inverse of `load` (unshifted), stored at p.
///
/// # Safety
/// The CPU must have AVX-512F and IFMA (`backend::current().lanes()`); p holds at least 8 elements.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub unsafe fn store(p: *mut Fq, limbs: &[__m512i; 5]) {
    transpose_out(p, lanes::join(limbs))
}

// The helpers below carry the same target features as `load` and `store`, so they inline into
// them, and use no closures: a closure would not inherit them, and every intrinsic in it would
// become a call.

/// Eight elements (4 words each, element after element) as four vectors, vector k holding
/// word k of every element.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
unsafe fn transpose_in(p: *const Fq) -> [__m512i; 4] {
    let mut z = [_mm512_setzero_si512(); 4];
    for (i, z) in z.iter_mut().enumerate() {
        *z = _mm512_loadu_si512(p.add(2 * i) as *const _);
    }
    // Words 0 and 1, then 2 and 3, of elements 0–3 (from z0, z1) and of elements 4–7 (z2, z3);
    // then each word's halves side by side.
    let t = permute_pairs(z, [[0, 4, 8, 12, 1, 5, 9, 13], [2, 6, 10, 14, 3, 7, 11, 15]]);
    permute_pairs([t[0], t[2], t[1], t[3]], [[0, 1, 2, 3, 8, 9, 10, 11], [4, 5, 6, 7, 12, 13, 14, 15]])
}

/// The inverse of `transpose_in`, stored at `p`.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
unsafe fn transpose_out(p: *mut Fq, w: [__m512i; 4]) {
    // Words 0 and 1 interleaved (u0: elements 0–3, u1: 4–7), then words 2 and 3 (u2, u3); then
    // each element's four words together.
    let u = permute_pairs(w, [[0, 8, 1, 9, 2, 10, 3, 11], [4, 12, 5, 13, 6, 14, 7, 15]]);
    let z = permute_pairs([u[0], u[2], u[1], u[3]], [[0, 1, 8, 9, 2, 3, 10, 11], [4, 5, 12, 13, 6, 7, 14, 15]]);
    for (i, z) in z.iter().enumerate() {
        _mm512_storeu_si512(p.add(2 * i) as *mut _, *z);
    }
}

/// For v = [a, b, c, d]: (a, b) picked by i, then by j, and (c, d) by i, then by j. An index
/// below 8 picks from the first vector of a pair, 8 and above from the second.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
unsafe fn permute_pairs(v: [__m512i; 4], [i, j]: [[i64; 8]; 2]) -> [__m512i; 4] {
    let (i, j) = (idx(i), idx(j));
    [
        _mm512_permutex2var_epi64(v[0], i, v[1]),
        _mm512_permutex2var_epi64(v[0], j, v[1]),
        _mm512_permutex2var_epi64(v[2], i, v[3]),
        _mm512_permutex2var_epi64(v[2], j, v[3]),
    ]
}

#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
unsafe fn idx(i: [i64; 8]) -> __m512i {
    _mm512_loadu_si512(i.as_ptr() as *const _)
}
