//! One window of Pippenger's algorithm with its buckets kept affine, adding points into them in
//! batches that share one field inversion (`affine`).

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use super::g1;
use blst::{blst_p1, blst_p1_affine};
use rayon::prelude::*;

use super::affine::{self, BATCH};

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
    acc.extend(terms);
    acc.finish()
}

/// `bucket_sum` of every term that `terms` gives for the ranges of `0..len`, taken `step` at a
/// time by one accumulator per worker of the current rayon pool: a worker that is done takes
/// the next step. With one fixed share per worker, the first to finish waited for the other
/// (0.26 s per zswap output proof on 2 threads, measured), and a worker busy elsewhere when
/// the sum started delayed it all.
pub fn shared_bucket_sum<'a, I>(len: usize, step: usize, window: usize, terms: impl Fn(Range<usize>) -> I + Sync) -> blst_p1
where
    I: Iterator<Item = (&'a blst_p1_affine, i16)>,
{
    let next = AtomicUsize::new(0);
    let workers = rayon::current_num_threads().min(len.div_ceil(step.max(1))).max(1);
    let filled: Vec<Vec<(u32, blst_p1_affine)>> = (0..workers)
        .into_par_iter()
        .map(|_| {
            let mut acc = Accumulator::new(1 << (window - 1));
            loop {
                let start = next.fetch_add(step, Relaxed);
                if start >= len {
                    break acc.into_buckets();
                }
                acc.extend(terms(start..(start + step).min(len)));
                // The additions a step deferred are its work too: left to the end, a step of
                // many equal digits was cheap to take and then cost one worker alone up to
                // 100 ms (measured in a zswap output proof).
                acc.settle();
            }
        })
        .collect();
    integrate_merged(&filled)
}

/// Σ (b+1)·B_b over the buckets of every worker, B_b the sum of their bucket b. The bucket range
/// is cut into one segment per worker, and each segment is merged (affine, `sum_runs`) and
/// integrated on its own: each worker integrating all its buckets cost about a third of a
/// fixed-base MSM's time in a zswap output proof, most in commitments of a few thousand points.
fn integrate_merged(filled: &[Vec<(u32, blst_p1_affine)>]) -> blst_p1 {
    let top = filled.iter().filter_map(|f| f.last()).map(|&(b, _)| b as usize + 1).max().unwrap_or(0);
    let segments = rayon::current_num_threads().clamp(1, top.max(1));
    let width = top.div_ceil(segments);
    let parts: Vec<blst_p1> = (0..segments)
        .into_par_iter()
        .map(|s| {
            let range = (s * width).min(top)..((s + 1) * width).min(top);
            let in_range = |f: &'_ [(u32, blst_p1_affine)]| {
                let at = |b: usize| f.partition_point(|&(k, _)| (k as usize) < b);
                f[at(range.start)..at(range.end)].to_vec()
            };
            let mut entries: Vec<(u32, blst_p1_affine)> = filled.iter().flat_map(|f| in_range(f)).collect();
            entries.sort_by_key(|&(b, _)| b);
            let (sum, running) = integrate(&affine::sum_runs(entries), range.clone());
            // Σ (b+1)·B_b over the segment = its Σ (b − start + 1)·B_b + start·Σ B_b.
            let mut shifted = g1::mult(&running, &(range.start as u64).to_le_bytes(), 64);
            g1::add(&mut shifted, &sum);
            shifted
        })
        .collect();
    super::sum(&parts)
}

/// (Σ (b − start + 1)·P, Σ P) over `sums` (bucket b, point P), in increasing bucket order, all
/// inside `range`: running sums from the top bucket down.
fn integrate(sums: &[(u32, blst_p1_affine)], range: Range<usize>) -> (blst_p1, blst_p1) {
    let (mut running, mut sum) = (blst_p1::default(), blst_p1::default());
    let mut next = sums.iter().rev().peekable();
    for b in range.rev() {
        if let Some((_, p)) = next.next_if(|&&(k, _)| k as usize == b) {
            g1::add_affine(&mut running, p);
        }
        g1::add(&mut sum, &running);
    }
    (sum, running)
}

struct Accumulator {
    buckets: Vec<blst_p1_affine>,
    slots: Vec<Slot>,
    /// (bucket, point) additions sharing the next inversion.
    batch: Vec<(usize, blst_p1_affine)>,
    /// Additions into a bucket that was busy in the batch: they wait for the next one.
    later: Vec<(usize, blst_p1_affine)>,
    /// Additions that met a busy bucket twice (many equal digits), as (bucket, point): summed
    /// among themselves (`affine::sum_runs`) once there are `SPILL` of them, then added into
    /// their buckets, so the work stays linear and affine whatever the digits are.
    spill: Vec<(u32, blst_p1_affine)>,
    /// The batch's buckets (then their sums) and points, and the inversion's scratch: kept
    /// across batches, so a flush allocates nothing.
    sums: Vec<blst_p1_affine>,
    points: Vec<blst_p1_affine>,
    scratch: affine::Scratch,
    /// One past the highest bucket that got a point: `finish` starts there. Small scalars (bits,
    /// bytes) use a few low buckets of a table's 4,096, and blst's additions cost the same
    /// whether or not a point is at infinity.
    top: usize,
}

impl Accumulator {
    fn new(buckets: usize) -> Self {
        Accumulator {
            buckets: vec![blst_p1_affine::default(); buckets],
            slots: vec![Slot::Empty; buckets],
            batch: Vec::with_capacity(BATCH),
            later: Vec::new(),
            spill: Vec::new(),
            sums: Vec::with_capacity(BATCH),
            points: Vec::with_capacity(BATCH),
            scratch: affine::Scratch::default(),
            top: 0,
        }
    }

    fn extend<'a>(&mut self, terms: impl Iterator<Item = (&'a blst_p1_affine, i16)>) {
        for (p, d) in terms {
            if d != 0 {
                self.add((d.unsigned_abs() - 1) as usize, p, d < 0);
            }
        }
    }

    fn add(&mut self, bucket: usize, p: &blst_p1_affine, negate: bool) {
        self.top = self.top.max(bucket + 1);
        let q = if negate { g1::neg_affine(p) } else { *p };
        self.add_point(bucket, q, false);
    }

    fn add_point(&mut self, bucket: usize, q: blst_p1_affine, waited: bool) {
        match self.slots[bucket] {
            Slot::Empty => {
                self.buckets[bucket] = q;
                self.slots[bucket] = Slot::Full;
            }
            Slot::Busy if waited => self.spill.push((bucket as u32, q)),
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

    /// Adds the batch into its buckets with one shared inversion, then requeues what had to wait.
    fn flush(&mut self) {
        let batch = std::mem::take(&mut self.batch);
        self.sums.clear();
        self.sums.extend(batch.iter().map(|(b, _)| self.buckets[*b]));
        self.points.clear();
        self.points.extend(batch.iter().map(|(_, q)| *q));
        affine::add_assign(&mut self.sums, &self.points, &mut self.scratch);
        for ((b, _), sum) in batch.iter().zip(&self.sums) {
            self.buckets[*b] = *sum;
            self.slots[*b] = if affine::is_infinity(sum) { Slot::Empty } else { Slot::Full };
        }
        self.batch = batch;
        self.batch.clear();
        for (b, q) in std::mem::take(&mut self.later) {
            self.add_point(b, q, true);
        }
    }

    /// Does every addition still waiting in the batch or for a busy bucket, and the spilled
    /// ones once there are `SPILL` of them.
    fn settle(&mut self) {
        self.drain();
        if self.spill.len() >= SPILL {
            self.unspill();
        }
    }

    fn drain(&mut self) {
        while !self.batch.is_empty() || !self.later.is_empty() {
            self.flush();
        }
    }

    /// Sums the spilled points of each bucket, then adds each sum into its bucket. Called with
    /// the batch drained, so no bucket is busy and every sum goes into the next batch.
    fn unspill(&mut self) {
        let mut spill = std::mem::take(&mut self.spill);
        spill.sort_unstable_by_key(|&(b, _)| b);
        for (b, q) in affine::sum_runs(spill) {
            self.add_point(b as usize, q, false);
        }
        self.drain();
    }

    /// Σ (b+1)·bucket[b].
    fn finish(self) -> blst_p1 {
        let top = self.top;
        integrate(&self.into_buckets(), 0..top).0
    }

    /// The buckets that hold a point, as (bucket, point) in increasing bucket order, once every
    /// waiting and spilled addition is done.
    fn into_buckets(mut self) -> Vec<(u32, blst_p1_affine)> {
        self.drain();
        self.unspill();
        let full = (0..self.top).filter(|&b| self.slots[b] != Slot::Empty);
        full.map(|b| (b as u32, self.buckets[b])).collect()
    }
}

/// Spilled additions an accumulator holds before it sums them: enough that the pairwise sums
/// share their inversions well, few enough to be about 0.3 ms of work.
const SPILL: usize = 1024;

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
        let g = g1::generator();
        for window in 2..=15 {
            let rows = 255 / window + 1;
            let digits = signed_digits(&scalars.iter().collect::<Vec<_>>(), window, rows);
            for (s, d) in scalars.iter().zip(digits.chunks(rows)) {
                assert!(d.iter().all(|&d| d.unsigned_abs() as u32 <= 1 << (window - 1)), "window {window}");
                let mut sum = blst_p1::default();
                for row in (0..rows).rev() {
                    g1::double(&mut sum, window);
                    let magnitude = (d[row].unsigned_abs() as u64).to_le_bytes();
                    g1::add(&mut sum, &g1::cneg(&g1::mult(&g, &magnitude, 64), d[row] < 0));
                }
                assert!(g1::is_equal(&sum, &g1::mult(&g, s, 255)), "window {window}");
            }
        }
    }
}
