//! `affine::add_assign` eight additions at a time, on CPUs with AVX-512 IFMA: the base field's
//! products and differences go eight in one (`lanes`, G1's 384-bit field in eight 52-bit limbs),
//! where blst makes them one at a time (54–57 ns per product on an Intel Xeon).
//!
//! Addition 8g + j of the batch is lane j of group g. Each lane keeps its own running product of
//! denominators, so the eight chains of Montgomery's trick go side by side; their eight ends are
//! inverted together (the trick again, over the lanes, with one blst inversion), then each lane
//! walks its chain back, finishing one addition per step.

use std::arch::x86_64::*;

use super::super::g1;
use blst::{blst_fp, blst_p1_affine};

use crate::lanes::{self, Modulus};

/// G1's base field modulus p (little-endian words), with −p^−1 mod 2^64.
const P: Modulus<8> = Modulus::new::<6>(
    [0xb9fe_ffff_ffff_aaab, 0x1eab_fffe_b153_ffff, 0x6730_d2a0_f6b0_f624, 0x6477_4b84_f385_12bf, 0x4b1b_a7b6_434b_acd7, 0x1a01_11ea_397f_e69a],
    0x89f3_fffc_fffc_fffd,
);
/// 1 in blst's Montgomery form, 2^384 mod p.
const ONE: [u64; 8] =
    lanes::limbs52([0x7609_0000_0002_fffd, 0xebf4_000b_c40c_0002, 0x5f48_9857_53c7_58ba, 0x77ce_5853_7052_5745, 0x5c07_1a97_a256_ec6d, 0x15f6_5ec3_fa80_e493]);

type Fp8 = [__m512i; 8];

/// Each group's running products before it, limb-major: kept across batches by the caller.
pub type Prefixes = Vec<[[u64; 8]; 8]>;

/// Words per affine point, and where its coordinates start.
const POINT: usize = 12;
const X: usize = 0;
const Y: usize = 6;

/// a[k] += b[k] for every k where a[k].x ≠ b[k].x; the k where they are equal (a doubling or a
/// sum at infinity) are pushed onto `equal_x`, for the caller to add. b is as long as a.
///
/// # Safety
/// The CPU must have AVX-512F and IFMA (`backend::current().lanes()`).
#[target_feature(enable = "avx512f,avx512ifma")]
pub unsafe fn add_assign(a: &mut [blst_p1_affine], b: &[blst_p1_affine], prefixes: &mut Prefixes, equal_x: &mut Vec<usize>) {
    let (n, one) = (a.len(), lanes::splat(&ONE));
    let b = &b[..n];
    prefixes.clear();
    let mut acc = one;
    for g in 0..n.div_ceil(8) {
        let live = live(g, n);
        // Lanes past the end read zeros: their denominator is zero and counts as 1, like an equal x.
        let d = lanes::sub(&coord(b, g, live, X), &coord(a, g, live, X), &P);
        prefixes.push(store(&acc));
        acc = lanes::mul(&acc, &lanes::select(lanes::zero_lanes(&d), &d, &one), &P);
    }
    let mut inv = invert(&acc);
    for g in (0..n.div_ceil(8)).rev() {
        let live = live(g, n);
        let (ax, bx) = (coord(a, g, live, X), coord(b, g, live, X));
        let d = lanes::sub(&bx, &ax, &P);
        let equal = lanes::zero_lanes(&d);
        // 1/d = inv · (the product before it); then inv becomes 1/(that product).
        let t = lanes::mul(&inv, &load(&prefixes[g]), &P);
        inv = lanes::mul(&inv, &lanes::select(equal, &d, &one), &P);
        let (ay, by) = (coord(a, g, live, Y), coord(b, g, live, Y));
        let lambda = lanes::mul(&lanes::sub(&by, &ay, &P), &t, &P);
        let x3 = lanes::sub(&lanes::sub(&lanes::mul(&lambda, &lambda, &P), &ax, &P), &bx, &P);
        let y3 = lanes::sub(&lanes::mul(&lanes::sub(&ax, &x3, &P), &lambda, &P), &ay, &P);
        let sums = live & !equal;
        put(a, g, sums, X, &x3);
        put(a, g, sums, Y, &y3);
        let left = live & equal;
        equal_x.extend((0..8).filter(|j| left >> j & 1 == 1).map(|j| 8 * g + j));
    }
}

/// The lanes of group g that hold one of the n additions.
fn live(g: usize, n: usize) -> __mmask8 {
    let m = (n - 8 * g).min(8);
    ((1u16 << m) - 1) as __mmask8
}

/// The x (at = X) or y (at = Y) of points 8g..8g + 8, zero in lanes not `live`.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
unsafe fn coord(points: &[blst_p1_affine], g: usize, live: __mmask8, at: usize) -> Fp8 {
    lanes::gather::<6, 8>((points.as_ptr().add(8 * g) as *const i64).add(at), POINT, live, 0)
}

/// Stores v as the x (at = X) or y (at = Y) of points 8g..8g + 8, in lanes `keep` only.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
unsafe fn put(points: &mut [blst_p1_affine], g: usize, keep: __mmask8, at: usize, v: &Fp8) {
    lanes::scatter::<8, 6>((points.as_mut_ptr().add(8 * g) as *mut i64).add(at), POINT, keep, v)
}

#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
unsafe fn store(v: &Fp8) -> [[u64; 8]; 8] {
    let mut out = [[0u64; 8]; 8];
    for (o, v) in out.iter_mut().zip(v) {
        _mm512_storeu_si512(o.as_mut_ptr() as *mut _, *v);
    }
    out
}

#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
unsafe fn load(limbs: &[[u64; 8]; 8]) -> Fp8 {
    let mut out = [_mm512_setzero_si512(); 8];
    for (o, l) in out.iter_mut().zip(limbs) {
        *o = _mm512_loadu_si512(l.as_ptr() as *const _);
    }
    out
}

/// 1/v in every lane (none may be zero): one blst inversion for all eight.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
unsafe fn invert(v: &Fp8) -> Fp8 {
    let words: [__m512i; 6] = lanes::join(v);
    let mut e = [blst_fp::default(); 8];
    for (k, w) in words.iter().enumerate() {
        let mut lane = [0u64; 8];
        _mm512_storeu_si512(lane.as_mut_ptr() as *mut _, *w);
        for (e, word) in e.iter_mut().zip(lane) {
            e.l[k] = word;
        }
    }
    let inverses = invert_each(&e);
    let mut out = [_mm512_setzero_si512(); 6];
    for (k, o) in out.iter_mut().enumerate() {
        let lane: [u64; 8] = std::array::from_fn(|j| inverses[j].l[k]);
        *o = _mm512_loadu_si512(lane.as_ptr() as *const _);
    }
    lanes::split::<6, 8>(&out, 0)
}

/// 1/e[j] for every j (none zero), with one inversion: prefix products, then back.
fn invert_each(e: &[blst_fp; 8]) -> [blst_fp; 8] {
    let mut prefix = [blst_fp::default(); 8];
    prefix[0] = e[0];
    for j in 1..8 {
        prefix[j] = g1::fp_mul(&prefix[j - 1], &e[j]);
    }
    let mut inv = g1::fp_inverse(&prefix[7]);
    let mut out = [blst_fp::default(); 8];
    for j in (1..8).rev() {
        out[j] = g1::fp_mul(&inv, &prefix[j - 1]);
        inv = g1::fp_mul(&inv, &e[j]);
    }
    out[0] = inv;
    out
}
