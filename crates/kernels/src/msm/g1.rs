//! G1 and its base field through blst, as safe functions: the one place the MSM engine calls
//! blst. Every blst function here only reads its inputs and writes its output, all of them
//! plain values passed by reference (no lengths, no pointer lists), so each wrapper is safe for
//! every input; the few calls that take lengths or lists keep their own checked wrappers below.
use blst::{blst_fp, blst_fr, blst_p1, blst_p1_affine, blst_scalar, limb_t};

/// a − b.
#[inline(always)]
pub fn fp_sub(a: &blst_fp, b: &blst_fp) -> blst_fp {
    let mut out = blst_fp::default();
    // SAFETY: blst reads two field elements and writes one, all valid references.
    unsafe { blst::blst_fp_sub(&mut out, a, b) };
    out
}

/// a · b.
#[inline(always)]
pub fn fp_mul(a: &blst_fp, b: &blst_fp) -> blst_fp {
    let mut out = blst_fp::default();
    // SAFETY: as in `fp_sub`.
    unsafe { blst::blst_fp_mul(&mut out, a, b) };
    out
}

/// a².
#[inline(always)]
pub fn fp_sqr(a: &blst_fp) -> blst_fp {
    let mut out = blst_fp::default();
    // SAFETY: as in `fp_sub`.
    unsafe { blst::blst_fp_sqr(&mut out, a) };
    out
}

/// 1/a (0 for 0).
pub fn fp_inverse(a: &blst_fp) -> blst_fp {
    let mut out = blst_fp::default();
    // SAFETY: as in `fp_sub`.
    unsafe { blst::blst_fp_eucl_inverse(&mut out, a) };
    out
}

/// −a.
#[inline(always)]
pub fn fp_neg(a: &blst_fp) -> blst_fp {
    let mut out = blst_fp::default();
    // SAFETY: as in `fp_sub`.
    unsafe { blst::blst_fp_cneg(&mut out, a, true) };
    out
}

/// 1, in blst's Montgomery form.
pub fn fp_one() -> blst_fp {
    let mut out = blst_fp::default();
    let words = [1u64, 0, 0, 0, 0, 0];
    // SAFETY: blst reads exactly six words (a base-field element) from `words`.
    unsafe { blst::blst_fp_from_uint64(&mut out, words.as_ptr()) };
    out
}

/// −p.
#[inline(always)]
pub fn neg_affine(p: &blst_p1_affine) -> blst_p1_affine {
    blst_p1_affine { x: p.x, y: fp_neg(&p.y) }
}

/// −p if `negate`, else p.
#[cfg(test)]
pub fn cneg(p: &blst_p1, negate: bool) -> blst_p1 {
    let mut out = *p;
    // SAFETY: blst reads and writes one point.
    unsafe { blst::blst_p1_cneg(&mut out, negate) };
    out
}

pub fn from_affine(p: &blst_p1_affine) -> blst_p1 {
    let mut out = blst_p1::default();
    // SAFETY: blst reads one point and writes one, valid references.
    unsafe { blst::blst_p1_from_affine(&mut out, p) };
    out
}

pub fn to_affine(p: &blst_p1) -> blst_p1_affine {
    let mut out = blst_p1_affine::default();
    // SAFETY: as in `from_affine`.
    unsafe { blst::blst_p1_to_affine(&mut out, p) };
    out
}

/// acc += p (a doubling when they are equal).
#[inline(always)]
pub fn add(acc: &mut blst_p1, p: &blst_p1) {
    // SAFETY: blst reads two points and writes the first; it allows the output to alias an input.
    unsafe { blst::blst_p1_add_or_double(acc, acc, p) };
}

/// acc += p, p affine.
#[inline(always)]
pub fn add_affine(acc: &mut blst_p1, p: &blst_p1_affine) {
    // SAFETY: as in `add`.
    unsafe { blst::blst_p1_add_or_double_affine(acc, acc, p) };
}

/// acc ← 2·acc, `times` times.
#[inline(always)]
pub fn double(acc: &mut blst_p1, times: usize) {
    for _ in 0..times {
        // SAFETY: as in `add`.
        unsafe { blst::blst_p1_double(acc, acc) };
    }
}

/// scalar·p, the scalar's low `nbits` bits read little-endian from `scalar`.
pub fn mult(p: &blst_p1, scalar: &[u8], nbits: usize) -> blst_p1 {
    assert!(nbits <= 8 * scalar.len(), "{nbits} bits from {} bytes", scalar.len());
    let mut out = blst_p1::default();
    // SAFETY: blst reads ⌈nbits/8⌉ bytes of `scalar`, which holds at least that many (checked).
    unsafe { blst::blst_p1_mult(&mut out, p, scalar.as_ptr(), nbits) };
    out
}

pub fn is_infinity(p: &blst_p1_affine) -> bool {
    // SAFETY: blst reads one point.
    unsafe { blst::blst_p1_affine_is_inf(p) }
}

#[cfg(test)]
pub fn is_equal(a: &blst_p1, b: &blst_p1) -> bool {
    // SAFETY: blst reads two points.
    unsafe { blst::blst_p1_is_equal(a, b) }
}

/// G1's generator.
#[cfg(test)]
pub fn generator() -> blst_p1 {
    // SAFETY: blst returns a pointer to its static generator, valid for the process.
    unsafe { *blst::blst_p1_generator() }
}

/// The scalar out of Montgomery form, as the little-endian bytes blst's multiplications read.
#[inline(always)]
pub fn scalar_bytes(s: &blst_fr) -> [u8; 32] {
    let mut out = blst_scalar::default();
    // SAFETY: blst reads one scalar-field element and writes one 32-byte scalar.
    unsafe { blst::blst_scalar_from_fr(&mut out, s) };
    out.b
}

/// The point whose uncompressed encoding (x then y, 48 big-endian bytes each) is `bytes`, in
/// projective form with z = 1, taken as it is: not checked to lie on the curve. None when a flag
/// bit (compressed, infinity, sign) is set, which no finite uncompressed point has.
pub fn from_uncompressed_unchecked(bytes: &[u8; 96]) -> Option<blst_p1> {
    if bytes[0] & 0xe0 != 0 {
        return None;
    }
    let mut out = blst_p1 { z: fp_one(), ..Default::default() };
    // SAFETY: blst reads 48 bytes from each pointer, both inside `bytes`, and writes one field
    // element.
    unsafe {
        blst::blst_fp_from_bendian(&mut out.x, bytes.as_ptr());
        blst::blst_fp_from_bendian(&mut out.y, bytes[48..].as_ptr());
    }
    Some(out)
}

/// Whether `p` satisfies the curve's equation (not whether it lies in the prime-order subgroup).
pub fn is_on_curve(p: &blst_p1) -> bool {
    // SAFETY: blst reads one point.
    unsafe { blst::blst_p1_on_curve(p) }
}

/// Whether `p` has z = 1, so that its x and y are already its affine coordinates.
pub fn is_normalized(p: &blst_p1) -> bool {
    p.z == fp_one()
}

/// `out[i]` ← `points[i]` in affine form, with one shared inversion.
pub fn batch_to_affine(out: &mut [blst_p1_affine], points: &[blst_p1]) {
    assert_eq!(out.len(), points.len());
    // blst reads a list of slices up to a null entry: one slice here.
    let list = [points.as_ptr(), std::ptr::null()];
    // SAFETY: blst reads `points.len()` points from the one listed slice and writes as many to
    // `out`, which is as long (checked).
    unsafe { blst::blst_p1s_to_affine(out.as_mut_ptr(), list.as_ptr(), points.len()) };
}

/// Σ digits[i]·bases[i] over `which` (each scalar's low `nbits` bits), by one call of blst's
/// serial Pippenger.
pub fn pippenger(bases: &[blst_p1_affine], digits: &[[u8; 32]], which: &[usize], nbits: usize) -> blst_p1 {
    assert!(nbits <= 256);
    // blst reads each list up to a null entry; a trailing null keeps every read in bounds. Both
    // point into slices borrowed for the call (indexing checks `which`).
    let points: Vec<*const blst_p1_affine> = which.iter().map(|&i| &bases[i] as *const _).chain([std::ptr::null()]).collect();
    let scalars: Vec<*const u8> = which.iter().map(|&i| digits[i].as_ptr()).chain([std::ptr::null()]).collect();
    // SAFETY: a pure size computation.
    let scratch_bytes = unsafe { blst::blst_p1s_mult_pippenger_scratch_sizeof(which.len()) };
    let mut scratch = vec![0 as limb_t; scratch_bytes.div_ceil(size_of::<limb_t>())];
    let mut out = blst_p1::default();
    // SAFETY: both lists hold `which.len()` valid pointers (then a null) to live points and
    // 32-byte scalars of which blst reads `nbits` ≤ 256 bits; the scratch is the size blst asks.
    unsafe { blst::blst_p1s_mult_pippenger(&mut out, points.as_ptr(), which.len(), scalars.as_ptr(), nbits, scratch.as_mut_ptr()) };
    out
}
