//! One window of Pippenger's algorithm with its buckets kept affine, adding points into them in
//! batches that share one field inversion (Montgomery's trick). An affine addition then costs
//! about 5 multiplications and a squaring, where blst's bucket addition (extended Jacobian
//! coordinates) costs about 10; the rare equal-x case (doubling, or a sum at infinity) is done
//! projectively.

use blst::{blst_fp, blst_p1, blst_p1_affine};

/// Points added per shared inversion: large enough that the inversion is a few percent of the
/// batch, small enough that collisions on one bucket stay rare.
const BATCH: usize = 256;

/// Signed digits of every scalar, `rows` windows of `window` bits each, row-major per scalar:
/// digit d stands for d·2^(row·window), with |d| ≤ 2^(window−1). The top row holds the carry.
pub fn signed_digits(scalars: &[&[u8; 32]], window: usize, rows: usize) -> Vec<i16> {
    let mut out = vec![0i16; scalars.len() * rows];
    let half = 1i64 << (window - 1);
    for (s, digits) in scalars.iter().zip(out.chunks_mut(rows)) {
        let limbs: [u64; 4] = std::array::from_fn(|k| u64::from_le_bytes(s[8 * k..8 * k + 8].try_into().unwrap()));
        let mut carry = 0i64;
        for (row, d) in digits.iter_mut().enumerate() {
            let v = bits(&limbs, row * window, window) as i64 + carry;
            (*d, carry) = if v > half { ((v - (half << 1)) as i16, 1) } else { (v as i16, 0) };
        }
    }
    out
}

/// `width` (< 64) bits of the little-endian `limbs` from bit `at` (zero past the end).
fn bits(limbs: &[u64; 4], at: usize, width: usize) -> u64 {
    let (limb, offset) = (at / 64, at % 64);
    if limb >= 4 {
        return 0;
    }
    let mut v = limbs[limb] >> offset;
    if offset + width > 64 && limb + 1 < 4 {
        v |= limbs[limb + 1] << (64 - offset);
    }
    v & ((1 << width) - 1)
}

#[derive(Clone, Copy, PartialEq)]
enum Slot {
    Empty,
    Full,
    /// Full, with an addition into it waiting in the current batch.
    Busy,
}

/// Σ d·P over (P, d) with |d| ≤ 2^(window−1): bucket b collects the points whose digit is
/// ±(b+1). No point may be at infinity.
pub fn bucket_sum<'a>(terms: impl Iterator<Item = (&'a blst_p1_affine, i16)>, window: usize) -> blst_p1 {
    let mut acc = Accumulator::new(1 << (window - 1));
    for (p, d) in terms {
        if d != 0 {
            acc.add((d.unsigned_abs() - 1) as usize, p, d < 0);
        }
    }
    acc.finish()
}

struct Accumulator {
    buckets: Vec<blst_p1_affine>,
    slots: Vec<Slot>,
    /// (bucket, point) additions sharing the next inversion.
    batch: Vec<(usize, blst_p1_affine)>,
    /// Additions into a bucket that was busy in the batch: they wait for the next one.
    later: Vec<(usize, blst_p1_affine)>,
    /// Additions that met a busy bucket twice (many equal digits) go here, projectively: the
    /// work stays linear whatever the digits are.
    overflow: Vec<Option<blst_p1>>,
}

impl Accumulator {
    fn new(buckets: usize) -> Self {
        Accumulator {
            buckets: vec![blst_p1_affine::default(); buckets],
            slots: vec![Slot::Empty; buckets],
            batch: Vec::with_capacity(BATCH),
            later: Vec::new(),
            overflow: vec![None; buckets],
        }
    }

    fn add(&mut self, bucket: usize, p: &blst_p1_affine, negate: bool) {
        let mut q = *p;
        if negate {
            unsafe { blst::blst_fp_cneg(&mut q.y, &p.y, true) };
        }
        self.add_point(bucket, q, false);
    }

    fn add_point(&mut self, bucket: usize, q: blst_p1_affine, waited: bool) {
        match self.slots[bucket] {
            Slot::Empty => {
                self.buckets[bucket] = q;
                self.slots[bucket] = Slot::Full;
            }
            Slot::Busy if waited => {
                let sum = self.overflow[bucket].get_or_insert_with(blst_p1::default);
                unsafe { blst::blst_p1_add_or_double_affine(sum, sum, &q) };
            }
            Slot::Busy => self.later.push((bucket, q)),
            Slot::Full => {
                self.slots[bucket] = Slot::Busy;
                self.batch.push((bucket, q));
                if self.batch.len() == BATCH {
                    self.flush();
                }
            }
        }
    }

    /// Adds the batch into its buckets with one inversion, then requeues what had to wait.
    fn flush(&mut self) {
        let batch = std::mem::take(&mut self.batch);
        // Denominators x_q − x_bucket; an equal x is done projectively and left out (1).
        let same_x: Vec<bool> = batch.iter().map(|(b, q)| self.buckets[*b].x == q.x).collect();
        let den: Vec<_> = batch.iter().zip(&same_x).map(|((b, q), &same)| if same { one() } else { sub(&q.x, &self.buckets[*b].x) }).collect();
        let inv = batch_inverse(&den);
        for (k, (b, q)) in batch.iter().enumerate() {
            let bucket = self.buckets[*b];
            if same_x[k] {
                self.add_projective(*b, &bucket, q);
                continue;
            }
            let lambda = mul(&sub(&q.y, &bucket.y), &inv[k]);
            let x3 = sub(&sub(&sqr(&lambda), &bucket.x), &q.x);
            let y3 = sub(&mul(&lambda, &sub(&bucket.x, &x3)), &bucket.y);
            self.buckets[*b] = blst_p1_affine { x: x3, y: y3 };
            self.slots[*b] = Slot::Full;
        }
        self.batch = batch;
        self.batch.clear();
        for (b, q) in std::mem::take(&mut self.later) {
            self.add_point(b, q, true);
        }
    }

    /// bucket + q when both have the same x: 2·q, or the point at infinity.
    fn add_projective(&mut self, b: usize, bucket: &blst_p1_affine, q: &blst_p1_affine) {
        let mut sum = blst_p1::default();
        unsafe {
            blst::blst_p1_from_affine(&mut sum, bucket);
            blst::blst_p1_add_or_double_affine(&mut sum, &sum, q);
            blst::blst_p1_to_affine(&mut self.buckets[b], &sum);
        }
        self.slots[b] = if is_infinity(&self.buckets[b]) { Slot::Empty } else { Slot::Full };
    }

    /// Σ (b+1)·bucket[b], by running sums from the top bucket down.
    fn finish(mut self) -> blst_p1 {
        while !self.batch.is_empty() || !self.later.is_empty() {
            self.flush();
        }
        let (mut running, mut sum) = (blst_p1::default(), blst_p1::default());
        for b in (0..self.buckets.len()).rev() {
            unsafe {
                if self.slots[b] != Slot::Empty {
                    blst::blst_p1_add_or_double_affine(&mut running, &running, &self.buckets[b]);
                }
                if let Some(extra) = &self.overflow[b] {
                    blst::blst_p1_add_or_double(&mut running, &running, extra);
                }
                blst::blst_p1_add_or_double(&mut sum, &sum, &running);
            }
        }
        sum
    }
}

fn is_infinity(p: &blst_p1_affine) -> bool {
    unsafe { blst::blst_p1_affine_is_inf(p) }
}

/// 1/den[k] for every k with one inversion: prefix products, then back.
fn batch_inverse(den: &[blst_fp]) -> Vec<blst_fp> {
    let mut prefix = Vec::with_capacity(den.len());
    let mut acc = one();
    for d in den {
        prefix.push(acc);
        acc = mul(&acc, d);
    }
    let mut inv = blst_fp::default();
    unsafe { blst::blst_fp_eucl_inverse(&mut inv, &acc) };
    let mut out = vec![blst_fp::default(); den.len()];
    for k in (0..den.len()).rev() {
        out[k] = mul(&inv, &prefix[k]);
        inv = mul(&inv, &den[k]);
    }
    out
}

fn one() -> blst_fp {
    let mut r = blst_fp::default();
    unsafe { blst::blst_fp_from_uint64(&mut r, [1u64, 0, 0, 0, 0, 0].as_ptr()) };
    r
}
fn mul(a: &blst_fp, b: &blst_fp) -> blst_fp {
    let mut r = blst_fp::default();
    unsafe { blst::blst_fp_mul(&mut r, a, b) };
    r
}
fn sqr(a: &blst_fp) -> blst_fp {
    let mut r = blst_fp::default();
    unsafe { blst::blst_fp_sqr(&mut r, a) };
    r
}
fn sub(a: &blst_fp, b: &blst_fp) -> blst_fp {
    let mut r = blst_fp::default();
    unsafe { blst::blst_fp_sub(&mut r, a, b) };
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Σ d_j·2^(j·w)·G equals s·G for every window up to the widest, on 255-bit scalars whose
    /// windows are all at the digit bounds (all ones, alternating, top bit set).
    #[test]
    fn signed_digits_recompose_the_scalar_for_every_window() {
        let mut scalars = vec![[0xffu8; 32], [0xaau8; 32], [0x55u8; 32], [0u8; 32], [0x80u8; 32]];
        for s in &mut scalars {
            s[31] &= 0x7f; // 255 bits
        }
        scalars[3][31] = 0x40;
        let g = unsafe { *blst::blst_p1_generator() };
        for window in 2..=15 {
            let rows = 255 / window + 1;
            let digits = signed_digits(&scalars.iter().collect::<Vec<_>>(), window, rows);
            for (s, d) in scalars.iter().zip(digits.chunks(rows)) {
                assert!(d.iter().all(|&d| d.unsigned_abs() as u32 <= 1 << (window - 1)), "window {window}");
                let mut sum = blst_p1::default();
                for row in (0..rows).rev() {
                    for _ in 0..window {
                        unsafe { blst::blst_p1_double(&mut sum, &sum) };
                    }
                    let mut term = blst_p1::default();
                    let magnitude = (d[row].unsigned_abs() as u64).to_le_bytes();
                    unsafe {
                        blst::blst_p1_mult(&mut term, &g, magnitude.as_ptr(), 64);
                        blst::blst_p1_cneg(&mut term, d[row] < 0);
                        blst::blst_p1_add_or_double(&mut sum, &sum, &term);
                    }
                }
                let mut want = blst_p1::default();
                unsafe { blst::blst_p1_mult(&mut want, &g, s.as_ptr(), 255) };
                assert!(unsafe { blst::blst_p1_is_equal(&sum, &want) }, "window {window}");
            }
        }
    }
}
