//! Our FFT for the BLS12-381 scalar field: every FFT of midnight-proofs' evaluation domains goes
//! through it, by the hook in `patches/midnight-proofs+0.7.3.patch`. A transform over a field is
//! exact, so its output is the same as midnight-curves' `best_fft`, which the hook replaces. It
//! differs in where the time goes:
//! - the bit-reversal permutation and the twiddle factors are computed on the pool, where
//!   `best_fft` computes both on the calling thread;
//! - butterflies fork on rayon only for blocks of at least `SERIAL_BELOW` points and run as
//!   plain loops below, where `best_fft` forks down to blocks of two points;
//! - the butterflies that join two halves of at least `SERIAL_BELOW` points are shared out on
//!   the pool too, where `best_fft` leaves the last stage, 1/log_n of the work, to one thread.
//!
//! Like the MSM engine it runs on the caller's rayon pool, the prover's. Its butterflies use the
//! inlined arithmetic of `montgomery`.
use super::montgomery::{self, with_fast_arith};
use ff::Field;
use midnight_curves::Fq;
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

static ENABLED: AtomicBool = AtomicBool::new(true);

/// Installs the engine into midnight-proofs (once per process; later calls do nothing).
pub fn install() {
    midnight_proofs::poly::set_fft_engine(engine);
}

/// Turns the engine off (midnight-curves' `best_fft` runs) or back on. For comparisons.
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Relaxed);
}

static TRANSFORMS: AtomicU64 = AtomicU64::new(0);

/// How many transforms the engine has done in this process (tests check that it ran).
pub fn transforms() -> u64 {
    TRANSFORMS.load(Relaxed)
}

fn engine(a: &mut [Fq], omega: Fq, log_n: u32) -> bool {
    if !ENABLED.load(Relaxed) || a.len() != 1usize << log_n {
        return false;
    }
    fft(a, omega, log_n);
    TRANSFORMS.fetch_add(1, Relaxed);
    true
}

/// Blocks below this many points are transformed by one thread, with no forks.
const SERIAL_BELOW: usize = 1 << 10;

/// Points per parallel chunk of the permutation and the twiddles.
const CHUNK: usize = 1 << 12;

/// The in-place radix-2 transform of `a` (length 2^log_n) with the root of unity `omega`.
pub fn fft(a: &mut [Fq], omega: Fq, log_n: u32) {
    let n = a.len();
    if n <= 1 {
        return;
    }
    bit_reverse(a, log_n);
    let twiddles = twiddles(omega, n / 2);
    butterflies(a, 1, &twiddles);
}

/// Swaps every element with the one at its bit-reversed index. Each pair is swapped once, by
/// the chunk holding its lower index, so the chunks never touch the same pair.
fn bit_reverse(a: &mut [Fq], log_n: u32) {
    let n = a.len();
    let shift = usize::BITS - log_n;
    let base = SharedSlice(a.as_mut_ptr());
    (0..n).into_par_iter().with_min_len(CHUNK).for_each(|i| {
        let r = i.reverse_bits() >> shift;
        if i < r {
            // Safe: i < r < n, and pair (i, r) is visited only at i.
            unsafe { std::ptr::swap(base.at(i), base.at(r)) };
        }
    });
}

/// A pointer into a slice that parallel code writes at disjoint indices.
#[derive(Clone, Copy)]
struct SharedSlice(*mut Fq);
unsafe impl Send for SharedSlice {}
unsafe impl Sync for SharedSlice {}

impl SharedSlice {
    fn at(self, i: usize) -> *mut Fq {
        unsafe { self.0.add(i) }
    }
}

/// omega^0 .. omega^(count − 1), each chunk starting from its own power.
fn twiddles(omega: Fq, count: usize) -> Vec<Fq> {
    let mut out = vec![Fq::ZERO; count];
    out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, chunk)| {
        let mut w = omega.pow_vartime([(c * CHUNK) as u64]);
        for t in chunk {
            *t = w;
            w *= omega;
        }
    });
    out
}

/// The butterflies of `a`, already in bit-reversed order. `stride` is the twiddle step at this
/// block size: `twiddles` holds the powers of the full transform's root, so a block of m points
/// uses every (n / m)-th one.
fn butterflies(a: &mut [Fq], stride: usize, twiddles: &[Fq]) {
    let m = a.len();
    if m < SERIAL_BELOW {
        return serial(a, stride, twiddles);
    }
    let (left, right) = a.split_at_mut(m / 2);
    rayon::join(|| butterflies(left, stride * 2, twiddles), || butterflies(right, stride * 2, twiddles));
    left.par_chunks_mut(SERIAL_BELOW)
        .zip(right.par_chunks_mut(SERIAL_BELOW))
        .enumerate()
        .for_each(|(c, (l, r))| with_fast_arith(#[inline(always)] || combine(l, r, c * SERIAL_BELOW, stride, twiddles)));
}

/// All stages of a block, smallest first, on this thread.
fn serial(a: &mut [Fq], stride: usize, twiddles: &[Fq]) {
    let m = a.len();
    with_fast_arith(#[inline(always)] || {
        let mut half = 1;
        while half < m {
            let step = stride * (m / (2 * half));
            for block in a.chunks_mut(2 * half) {
                let (left, right) = block.split_at_mut(half);
                combine(left, right, 0, step, twiddles);
            }
            half *= 2;
        }
    })
}

/// left[i], right[i] ← left[i] + w^j·right[i], left[i] − w^j·right[i], with j = offset + i and
/// w = twiddles[step]: the butterflies of positions offset.. of a block's two halves.
#[inline(always)]
fn combine(left: &mut [Fq], right: &mut [Fq], offset: usize, step: usize, twiddles: &[Fq]) {
    for (i, (l, r)) in left.iter_mut().zip(right.iter_mut()).enumerate() {
        let j = offset + i;
        let t = if j == 0 { *r } else { montgomery::mul(r, &twiddles[j * step]) };
        *r = montgomery::sub(l, &t);
        *l = montgomery::add(l, &t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ff::PrimeField;
    use rand::{rngs::StdRng, Rng, SeedableRng};

    fn root(log_n: u32) -> Fq {
        // ROOT_OF_UNITY has order 2^S; squaring S − log_n times leaves order 2^log_n.
        (log_n..Fq::S).fold(Fq::ROOT_OF_UNITY, |w, _| w.square())
    }

    #[test]
    fn equals_best_fft_at_every_size_and_on_any_pool() {
        let mut rng = StdRng::seed_from_u64(7);
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            for log_n in [0, 1, 2, 3, 9, 10, 11, 12, 13, 16] {
                let n = 1usize << log_n;
                let values: Vec<Fq> = (0..n).map(|_| Fq::from(rng.gen::<u64>()) * Fq::from(rng.gen::<u64>())).collect();
                for omega in [root(log_n), root(log_n).invert().unwrap()] {
                    let (mut ours, mut theirs) = (values.clone(), values.clone());
                    pool.install(|| fft(&mut ours, omega, log_n));
                    pool.install(|| midnight_curves::fft::best_fft(&mut theirs, omega, log_n));
                    assert!(ours == theirs, "2^{log_n} points on {threads} threads");
                }
            }
        }
    }

    #[test]
    fn edge_values_zero_one_and_minus_one() {
        for fill in [Fq::ZERO, Fq::ONE, -Fq::ONE] {
            let log_n = 11;
            let mut ours = vec![fill; 1 << log_n];
            let mut theirs = ours.clone();
            fft(&mut ours, root(log_n), log_n);
            midnight_curves::fft::best_fft(&mut theirs, root(log_n), log_n);
            assert!(ours == theirs);
        }
    }

    /// `cargo test --release --lib fft::tests::timing -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn timing() {
        let mut rng = StdRng::seed_from_u64(1);
        for log_n in [14, 16, 17] {
            let n = 1usize << log_n;
            let values: Vec<Fq> = (0..n).map(|_| Fq::from(rng.gen::<u64>())).collect();
            let time = |f: &dyn Fn(&mut Vec<Fq>)| {
                let mut best = f64::MAX;
                for _ in 0..5 {
                    let mut v = values.clone();
                    let t = std::time::Instant::now();
                    f(&mut v);
                    best = best.min(t.elapsed().as_secs_f64() * 1e3);
                }
                best
            };
            let ours = time(&|v| fft(v, root(log_n), log_n));
            let theirs = time(&|v| midnight_curves::fft::best_fft(v, root(log_n), log_n));
            println!("2^{log_n}: ours {ours:.2} ms, best_fft {theirs:.2} ms ({:.2}x)", ours / theirs);
        }
    }
}
