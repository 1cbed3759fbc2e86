//! The first stages of a serial block of the FFT, eight lanes at a time, on CPUs with AVX-512
//! IFMA. Lane j holds the block's j-th eighth (m/8 consecutive points, one vector per position):
//! every stage whose butterflies stay inside an eighth pairs two positions of the same lane, so
//! its butterflies are plain vertical operations, and the eight lanes share each twiddle. The
//! block is split into limbs once, and joined once, for all those stages.

use std::arch::x86_64::*;

use midnight_curves::Fq;

use crate::lanes;
use crate::scalar_field::{ifma as fr8, LANES_MODULUS as R};

/// The longest eighth this runs on: a block of 4,096 points, whose limbs (160 KiB, kept per
/// thread) stay in the core's L2 cache.
pub const MAX_EIGHTH: usize = 512;

thread_local! {
    /// The limbs of the block in hand, kept for the thread's next block.
    static COLUMNS: std::cell::RefCell<Vec<Fr8>> = const { std::cell::RefCell::new(Vec::new()) };
}

type Fr8 = [__m512i; 5];

/// Runs the stages of halves `done`, 2·done, … below m/8 on `block` (m points, a power of two
/// from 16 up to 8·`MAX_EIGHTH`, already in bit-reversed order), as `fft::serial` would; returns
/// the first half it left.
///
/// # Safety
/// The CPU must have AVX-512F and IFMA (`backend::current().lanes()`).
#[target_feature(enable = "avx512f,avx512ifma")]
pub unsafe fn first_stages(block: &mut [Fq], stride: usize, twiddles: &[Fq], done: usize) -> usize {
    let m = block.len();
    let eighth = m / 8;
    assert!(m.is_power_of_two() && (2..=MAX_EIGHTH).contains(&eighth));
    if done >= eighth {
        return done;
    }
    COLUMNS.with_borrow_mut(|columns| {
        columns.resize(eighth, [_mm512_setzero_si512(); 5]);
        stages(block, columns, stride, twiddles, done)
    })
}

/// `first_stages` with the block's limbs in `columns` (m/8 of them).
#[target_feature(enable = "avx512f,avx512ifma")]
unsafe fn stages(block: &mut [Fq], columns: &mut [Fr8], stride: usize, twiddles: &[Fq], done: usize) -> usize {
    let (m, eighth) = (block.len(), columns.len());
    let base = block.as_mut_ptr() as *mut i64;
    for (g, c) in columns.iter_mut().enumerate() {
        *c = load(base.add(4 * g), eighth);
    }
    let mut half = done;
    while half < eighth {
        let step = stride * (m / (2 * half));
        for j in 0..half {
            // w^j, shifted as the left operand of a product (`lanes`); w^0 = 1 needs none.
            let w = if j > 0 { Some(fr8::splat(&twiddles[j * step], R.shift)) } else { None };
            for at in (j..eighth).step_by(2 * half) {
                let (u, v) = (columns[at], columns[at + half]);
                let t = match &w {
                    Some(w) => lanes::mont(w, &v, &R),
                    None => v,
                };
                columns[at] = lanes::add(&u, &t, &R);
                columns[at + half] = lanes::sub(&u, &t, &R);
            }
        }
        half *= 2;
    }
    for (g, c) in columns.iter().enumerate() {
        store(base.add(4 * g), eighth, c);
    }
    half
}

/// left[i], right[i] ← left[i] + w^j·right[i], left[i] − w^j·right[i], with j = offset + i and
/// w = twiddles[step], eight butterflies at a time: `fft::combine` for halves whose length is a
/// multiple of 8.
///
/// # Safety
/// The CPU must have AVX-512F and IFMA (`backend::current().lanes()`).
#[target_feature(enable = "avx512f,avx512ifma")]
pub unsafe fn combine(left: &mut [Fq], right: &mut [Fq], offset: usize, step: usize, twiddles: &[Fq]) {
    let n = left.len();
    assert!(right.len() == n && n.is_multiple_of(8) && (n == 0 || (offset + n - 1) * step < twiddles.len()));
    let (l, r, w) = (left.as_mut_ptr(), right.as_mut_ptr(), twiddles.as_ptr() as *const i64);
    for k in (0..n).step_by(8) {
        let (u, v) = (fr8::load(l.add(k), 0), fr8::load(r.add(k), 0));
        let t = lanes::mont(&twiddles8(w, (offset + k) * step, step), &v, &R);
        fr8::store(l.add(k), &lanes::add(&u, &t, &R));
        fr8::store(r.add(k), &lanes::sub(&u, &t, &R));
    }
}

/// twiddles[first], twiddles[first + step], … (8 of them), shifted as a product's left operand.
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
unsafe fn twiddles8(twiddles: *const i64, first: usize, step: usize) -> Fr8 {
    lanes::gather::<4, 5>(twiddles.add(4 * first), 4 * step, lanes::ALL, R.shift)
}

/// Position g of every eighth (the point at `at` and those eighth, 2·eighth, … points after it).
#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
unsafe fn load(at: *const i64, eighth: usize) -> Fr8 {
    lanes::gather::<4, 5>(at, 4 * eighth, lanes::ALL, 0)
}

#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
unsafe fn store(at: *mut i64, eighth: usize, v: &Fr8) {
    lanes::scatter::<5, 4>(at, 4 * eighth, lanes::ALL, v)
}
