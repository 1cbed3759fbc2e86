//! Prime-field elements eight at a time, one per lane of AVX-512 registers, with IFMA (52-bit
//! multiply-add into 64-bit lanes) for the Montgomery products. An element of W 64-bit words is
//! split into L 52-bit limbs (52·L ≥ 64·W), and vector j holds limb j of all eight elements.
//! Two fields use it: the scalar field (W = 4, L = 5, `scalar_field::ifma`) and G1's base field
//! (W = 6, L = 8, `msm::affine::ifma`).
//!
//! Values are kept as blst keeps them: Montgomery form with R = 2^(64·W), fully reduced. L steps
//! of 52-bit reduction divide by 2^(52·L), SHIFT = 52·L − 64·W bits more than R: so the left
//! operand of a product enters shifted left by SHIFT bits, and (2^SHIFT·a)·b / 2^(52·L) =
//! a·b / R. Every result is then the same element in the same bits as blst's.
//!
//! Safety, for every `unsafe fn` here: the CPU must have AVX-512F and IFMA, which
//! `backend::current().lanes()` guarantees.
#![allow(clippy::missing_safety_doc)]

use std::arch::x86_64::*;

pub const MASK: u64 = (1 << 52) - 1;

/// Every one of the eight lanes, for `gather` and `scatter`.
pub const ALL: __mmask8 = 0xff;

/// A modulus of W words, as the lanes use it.
pub struct Modulus<const L: usize> {
    /// The modulus in 52-bit limbs.
    pub limbs: [u64; L],
    /// −m^−1 mod 2^52.
    pub inv: u64,
    /// 52·L − 64·W: how far the left operand of `mul` is shifted.
    pub shift: u32,
}

impl<const L: usize> Modulus<L> {
    /// From the modulus' words and −m^−1 mod 2^64 (the word-wise Montgomery factor, whose low 52
    /// bits are −m^−1 mod 2^52).
    pub const fn new<const W: usize>(words: [u64; W], inv64: u64) -> Self {
        assert!(52 * L >= 64 * W && 52 * L < 64 * W + 52);
        Modulus { limbs: limbs52(words), inv: inv64 & MASK, shift: (52 * L - 64 * W) as u32 }
    }
}

/// The 52-bit limbs of a value of W words.
pub const fn limbs52<const W: usize, const L: usize>(w: [u64; W]) -> [u64; L] {
    let mut out = [0u64; L];
    let mut j = 0;
    while j < L {
        // Bits [52j, 52j + 52): the top of word 52j / 64 and the bottom of the next.
        let (word, at) = (52 * j / 64, 52 * j % 64);
        let mut v = if word < W { w[word] >> at } else { 0 };
        if at > 12 && word + 1 < W {
            v |= w[word + 1] << (64 - at);
        }
        out[j] = v & MASK;
        j += 1;
    }
    out
}

// The helpers below are `#[inline]` with the callers' target features, so they inline into
// them, and use no closures: a closure would not inherit the features, and every intrinsic in it
// would become a call.

/// Words to 52-bit limbs of (value << shift), lane by lane. Limb j takes bits
/// [52j − shift, 52j + 52 − shift) of the value: the top of one word and the bottom of the next.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub unsafe fn split<const W: usize, const L: usize>(w: &[__m512i; W], shift: u32) -> [__m512i; L] {
    let mask = _mm512_set1_epi64(MASK as i64);
    let mut out = [_mm512_setzero_si512(); L];
    for (j, limb) in out.iter_mut().enumerate() {
        let lo = 52 * j as i64 - shift as i64;
        let mut v = _mm512_setzero_si512();
        for (word, w) in w.iter().enumerate() {
            // Where the word's bit 0 lands in the limb.
            let at = 64 * word as i64 - lo;
            if (0..52).contains(&at) {
                v = _mm512_or_si512(v, _mm512_sllv_epi64(*w, _mm512_set1_epi64(at)));
            } else if at < 0 && at > -64 {
                v = _mm512_or_si512(v, _mm512_srlv_epi64(*w, _mm512_set1_epi64(-at)));
            }
        }
        *limb = _mm512_and_si512(v, mask);
    }
    out
}

/// 52-bit limbs (each below 2^52, the value below 2^(64·W)) back to W words.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub unsafe fn join<const L: usize, const W: usize>(l: &[__m512i; L]) -> [__m512i; W] {
    let mut out = [_mm512_setzero_si512(); W];
    for (word, w) in out.iter_mut().enumerate() {
        for (j, limb) in l.iter().enumerate() {
            // Where the limb's bit 0 lands in the word.
            let at = 52 * j as i64 - 64 * word as i64;
            if (0..64).contains(&at) {
                *w = _mm512_or_si512(*w, _mm512_sllv_epi64(*limb, _mm512_set1_epi64(at)));
            } else if at < 0 && at > -52 {
                *w = _mm512_or_si512(*w, _mm512_srlv_epi64(*limb, _mm512_set1_epi64(-at)));
            }
        }
    }
    out
}

/// first, first + step, …, first + 7·step: the word offsets of eight elements `step` words apart.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
unsafe fn strided(first: usize, step: usize) -> __m512i {
    let (f, s) = (first as i64, step as i64);
    _mm512_setr_epi64(f, f + s, f + 2 * s, f + 3 * s, f + 4 * s, f + 5 * s, f + 6 * s, f + 7 * s)
}

/// Eight elements of W words, element j at `at` + j·`step` words, in limbs shifted left by
/// `shift` bits (`split`); lanes outside `live` are zero and read nothing.
///
/// The W words from each element's start are read for every live lane.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub unsafe fn gather<const W: usize, const L: usize>(at: *const i64, step: usize, live: __mmask8, shift: u32) -> [__m512i; L] {
    let mut w = [_mm512_setzero_si512(); W];
    for (k, w) in w.iter_mut().enumerate() {
        *w = _mm512_mask_i64gather_epi64::<8>(_mm512_setzero_si512(), live, strided(k, step), at);
    }
    split::<W, L>(&w, shift)
}

/// The inverse of `gather` (unshifted): stores the lanes in `keep`, and writes nothing else.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub unsafe fn scatter<const L: usize, const W: usize>(at: *mut i64, step: usize, keep: __mmask8, v: &[__m512i; L]) {
    let w: [__m512i; W] = join(v);
    for (k, w) in w.iter().enumerate() {
        _mm512_mask_i64scatter_epi64::<8>(at, keep, strided(k, step), *w);
    }
}

/// The same limbs for all eight lanes.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub unsafe fn splat<const L: usize>(limbs: &[u64; L]) -> [__m512i; L] {
    let mut out = [_mm512_setzero_si512(); L];
    for (v, &limb) in out.iter_mut().zip(limbs) {
        *v = _mm512_set1_epi64(limb as i64);
    }
    out
}

/// x·y, both below the modulus, in normalized limbs: `mont` of x shifted by `m.shift`.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub unsafe fn mul<const L: usize>(x: &[__m512i; L], y: &[__m512i; L], m: &Modulus<L>) -> [__m512i; L] {
    mont(&shl(x, m.shift), y, m)
}

/// x·2^s, for x·2^s below 2^(52·L) and s < 52.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
unsafe fn shl<const L: usize>(x: &[__m512i; L], s: u32) -> [__m512i; L] {
    let mask = _mm512_set1_epi64(MASK as i64);
    let (up, down) = (_mm512_set1_epi64(s as i64), _mm512_set1_epi64(52 - s as i64));
    let mut out = [_mm512_setzero_si512(); L];
    let mut below = _mm512_setzero_si512();
    for (o, x) in out.iter_mut().zip(x) {
        *o = _mm512_or_si512(_mm512_and_si512(_mm512_sllv_epi64(*x, up), mask), below);
        below = _mm512_srlv_epi64(*x, down);
    }
    out
}

/// x·y / 2^(52·L) mod m, fully reduced. The sum before the last subtraction is below
/// x·y / 2^(52·L) + m. For x = 2^shift·a with a and y below m, that is a·y / 2^(64·W) + m < 2m,
/// so one subtraction of m reduces it; and x < 2^shift·2^(64·W) = 2^(52·L) fits the limbs.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub unsafe fn mont<const L: usize>(x: &[__m512i; L], y: &[__m512i; L], m: &Modulus<L>) -> [__m512i; L] {
    let zero = _mm512_setzero_si512();
    let r = splat(&m.limbs);
    let inv = _mm512_set1_epi64(m.inv as i64);
    // Limbs may exceed 52 bits until the end: each gains at most four 52-bit terms per step,
    // 4·L·2^52 < 2^64 in all.
    let mut t = [zero; L];
    for xi in x {
        let mut top = zero;
        for j in 0..L {
            t[j] = _mm512_madd52lo_epu64(t[j], *xi, y[j]);
            if j + 1 < L {
                t[j + 1] = _mm512_madd52hi_epu64(t[j + 1], *xi, y[j]);
            } else {
                top = _mm512_madd52hi_epu64(top, *xi, y[j]);
            }
        }
        let q = _mm512_madd52lo_epu64(zero, t[0], inv);
        for j in 0..L {
            t[j] = _mm512_madd52lo_epu64(t[j], q, r[j]);
            if j + 1 < L {
                t[j + 1] = _mm512_madd52hi_epu64(t[j + 1], q, r[j]);
            } else {
                top = _mm512_madd52hi_epu64(top, q, r[j]);
            }
        }
        // t[0] is now a multiple of 2^52: drop that limb, carrying its high bits.
        let carry = _mm512_srli_epi64::<52>(t[0]);
        t.copy_within(1.., 0);
        t[L - 1] = top;
        t[0] = _mm512_add_epi64(t[0], carry);
    }
    reduce_once(&add_limbs(&t, &[zero; L]), &r)
}

/// x − m where that is not negative, else x; x below 2m in normalized limbs.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
unsafe fn reduce_once<const L: usize>(x: &[__m512i; L], m: &[__m512i; L]) -> [__m512i; L] {
    let (diff, below) = sub_limbs(x, m);
    let mut out = diff;
    for j in 0..L {
        out[j] = _mm512_mask_blend_epi64(below, diff[j], x[j]);
    }
    out
}

/// (x − y mod 2^(52·L), the lanes where x < y), in normalized limbs.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
unsafe fn sub_limbs<const L: usize>(x: &[__m512i; L], y: &[__m512i; L]) -> ([__m512i; L], __mmask8) {
    let mask = _mm512_set1_epi64(MASK as i64);
    let mut out = [_mm512_setzero_si512(); L];
    let mut borrow = _mm512_setzero_si512();
    for j in 0..L {
        let v = _mm512_sub_epi64(_mm512_sub_epi64(x[j], y[j]), borrow);
        out[j] = _mm512_and_si512(v, mask);
        borrow = _mm512_srli_epi64::<63>(v);
    }
    (out, _mm512_test_epi64_mask(borrow, borrow))
}

/// x + y mod 2^(52·L) in normalized limbs; the limbs of x and y may exceed 52 bits (below 2^63).
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
unsafe fn add_limbs<const L: usize>(x: &[__m512i; L], y: &[__m512i; L]) -> [__m512i; L] {
    let mask = _mm512_set1_epi64(MASK as i64);
    let mut out = [_mm512_setzero_si512(); L];
    let mut carry = _mm512_setzero_si512();
    for j in 0..L {
        let v = _mm512_add_epi64(_mm512_add_epi64(x[j], y[j]), carry);
        out[j] = _mm512_and_si512(v, mask);
        carry = _mm512_srli_epi64::<52>(v);
    }
    out
}

/// x − y mod m, for x and y below m in normalized limbs.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub unsafe fn sub<const L: usize>(x: &[__m512i; L], y: &[__m512i; L], m: &Modulus<L>) -> [__m512i; L] {
    let (diff, negative) = sub_limbs(x, y);
    // Lanes that went below zero get m back; the carry out of the top limb cancels the borrow.
    let mut back = splat(&m.limbs);
    for b in back.iter_mut() {
        *b = _mm512_maskz_mov_epi64(negative, *b);
    }
    add_limbs(&diff, &back)
}

/// x + y mod m, for x and y below m in normalized limbs.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub unsafe fn add<const L: usize>(x: &[__m512i; L], y: &[__m512i; L], m: &Modulus<L>) -> [__m512i; L] {
    // Below 2m < 2^(52·L): the top limb's carry is zero.
    reduce_once(&add_limbs(x, y), &splat(&m.limbs))
}

/// The lanes where x is zero.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub unsafe fn zero_lanes<const L: usize>(x: &[__m512i; L]) -> __mmask8 {
    let mut any = _mm512_setzero_si512();
    for x in x {
        any = _mm512_or_si512(any, *x);
    }
    _mm512_testn_epi64_mask(any, any)
}

/// x where `pick` is clear, y where it is set.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
pub unsafe fn select<const L: usize>(pick: __mmask8, x: &[__m512i; L], y: &[__m512i; L]) -> [__m512i; L] {
    let mut out = *x;
    for j in 0..L {
        out[j] = _mm512_mask_blend_epi64(pick, x[j], y[j]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limbs_hold_the_value() {
        let w = [0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210, 0x0f1e_2d3c_4b5a_6978, 0x1122_3344_5566_7788, u64::MAX, 0x8000_0000_0000_0001];
        let l: [u64; 8] = limbs52(w);
        assert!(l.iter().all(|&limb| limb <= MASK));
        // Bit k of the value is bit k % 52 of limb k / 52.
        for k in 0..384 {
            assert_eq!(w[k / 64] >> (k % 64) & 1, l[k / 52] >> (k % 52) & 1, "bit {k}");
        }
        let short: [u64; 5] = limbs52([w[0], w[1], w[2], w[3]]);
        assert_eq!(&short[..4], &l[..4]);
        assert_eq!(short[4], l[4] & 0xffff_ffff_ffff, "limb 4 of a 4-word value holds bits 208–255 only");
    }
}
