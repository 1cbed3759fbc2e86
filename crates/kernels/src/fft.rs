//! Our FFT for the BLS12-381 scalar field: every FFT of midnight-proofs' evaluation domains goes
//! through it, by the hook in `patches/midnight-proofs+0.7.3.patch` (installed by the proving crate's
//! `engines`). A transform over a field is
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
//! inlined arithmetic of `scalar_field`. On CPUs with AVX-512 IFMA, blocks of up to 4,096 points
//! make their first stages eight lanes at a time, and every other stage makes its butterflies
//! eight at a time (`ifma`): 2^17 points took 23 ms before and 10.5–10.7 ms after, and zswap
//! output proofs 2,284 ms before and 2,040 ms after the first part (Intel Xeon, means of 3
//! alternating runs of 3; docs/fft.md has each step).
use super::scalar_field::{self, with_fast_arith};
use ff::Field;
use midnight_curves::Fq;
use rayon::prelude::*;

#[cfg(target_arch = "x86_64")]
mod ifma;

/// Blocks below this many points are transformed by one thread, with no forks.
const SERIAL_BELOW: usize = 1 << 10;

/// Points per parallel chunk of the permutation and the twiddles.
const CHUNK: usize = 1 << 12;

/// The in-place radix-2 transform of `a` with the root of unity `omega`; false, with `a`
/// untouched, unless `a` has 2^log_n values.
pub fn fft(a: &mut [Fq], omega: Fq, log_n: u32) -> bool {
    let n = a.len();
    if 1usize.checked_shl(log_n) != Some(n) {
        return false;
    }
    if n == 1 {
        return true;
    }
    let copies = n / live_len(a);
    if copies == 1 {
        bit_reverse(a, log_n);
    } else {
        spread(a, copies);
    }
    let twiddles = twiddles(omega, n / 2);
    butterflies(a, 1, &twiddles, copies);
    true
}

/// The smallest power of two that holds every nonzero value of `a` (at least 1). midnight-proofs
/// extends a polynomial to a larger domain by padding its coefficients with zeros: 3/4 or 7/8 of
/// such a transform's input is zero, and the scan stops at the first nonzero value from the end.
fn live_len(a: &[Fq]) -> usize {
    let last = a.iter().rposition(|x| *x != Fq::ZERO).unwrap_or(0);
    (last + 1).next_power_of_two()
}

/// Bit reversal for an input that is zero beyond its first n / copies values. In bit-reversed
/// order those values fall on every copies-th position, with zeros between, and the first
/// log2(copies) stages of butterflies only copy each into the zeros of its block. So this writes
/// the blocks directly: block b is `copies` times the value at the bit reversal of b among the
/// live values.
fn spread(a: &mut [Fq], copies: usize) {
    let live = a.len() / copies;
    let mut values = a[..live].to_vec();
    bit_reverse(&mut values, live.trailing_zeros());
    a.par_chunks_mut(copies).zip(values.par_iter()).with_min_len((CHUNK / copies).max(1)).for_each(|(block, v)| block.fill(*v));
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
            // SAFETY: i < r < n, and pair (i, r) is visited only at i.
            unsafe { std::ptr::swap(base.at(i), base.at(r)) };
        }
    });
}

/// A pointer into a slice that parallel code writes at disjoint indices.
#[derive(Clone, Copy)]
struct SharedSlice(*mut Fq);
// SAFETY: the slice outlives the parallel loop that shares the pointer, and every thread writes
// only at indices no other thread touches (the callers' comments say why).
unsafe impl Send for SharedSlice {}
// SAFETY: as for Send.
unsafe impl Sync for SharedSlice {}

impl SharedSlice {
    /// The pointer to element i; callers pass i < the slice's length.
    fn at(self, i: usize) -> *mut Fq {
        // SAFETY: i is inside the slice (the callers' bound), so the offset stays in it.
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

/// The butterflies of `a`, already in bit-reversed order, for blocks larger than `done` (the
/// stages up to blocks of `done` points are done). `stride` is the twiddle step at this block
/// size: `twiddles` holds the powers of the full transform's root, so a block of m points uses
/// every (n / m)-th one.
fn butterflies(a: &mut [Fq], stride: usize, twiddles: &[Fq], done: usize) {
    let m = a.len();
    if m <= done {
        return;
    }
    if m < SERIAL_BELOW || (lanes_take(m) && stride >= rayon::current_num_threads()) {
        return serial(a, stride, twiddles, done);
    }
    let (left, right) = a.split_at_mut(m / 2);
    rayon::join(|| butterflies(left, stride * 2, twiddles, done), || butterflies(right, stride * 2, twiddles, done));
    left.par_chunks_mut(SERIAL_BELOW).zip(right.par_chunks_mut(SERIAL_BELOW)).enumerate().for_each(|(c, (l, r))| {
        with_fast_arith(
            #[inline(always)]
            || combine(l, r, c * SERIAL_BELOW, stride, twiddles),
        )
    });
}

/// The stages of a block beyond blocks of `done` points, smallest first, on this thread.
fn serial(a: &mut [Fq], stride: usize, twiddles: &[Fq], done: usize) {
    let m = a.len();
    with_fast_arith(
        #[inline(always)]
        || {
            let mut half = done;
            #[cfg(target_arch = "x86_64")]
            if lanes_take(m) {
                // SAFETY: the CPU has the features (`lanes_take`).
                half = unsafe { ifma::first_stages(a, stride, twiddles, done) };
            }
            while half < m {
                let step = stride * (m / (2 * half));
                for block in a.chunks_mut(2 * half) {
                    let (left, right) = block.split_at_mut(half);
                    combine(left, right, 0, step, twiddles);
                }
                half *= 2;
            }
        },
    )
}

/// Whether `ifma::first_stages` takes a block of m points on this CPU.
#[inline(always)]
fn lanes_take(m: usize) -> bool {
    #[cfg(target_arch = "x86_64")]
    return (16..=8 * ifma::MAX_EIGHTH).contains(&m) && super::backend::current().lanes();
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = m;
        false
    }
}

/// left[i], right[i] ← left[i] + w^j·right[i], left[i] − w^j·right[i], with j = offset + i and
/// w = twiddles[step]: the butterflies of positions offset.. of a block's two halves.
#[inline(always)]
fn combine(left: &mut [Fq], right: &mut [Fq], offset: usize, step: usize, twiddles: &[Fq]) {
    #[cfg(target_arch = "x86_64")]
    if left.len().is_multiple_of(8) && super::backend::current().lanes() {
        // SAFETY: the backend is `ifma` only on a CPU with AVX-512F and IFMA, checked just above.
        return unsafe { ifma::combine(left, right, offset, step, twiddles) };
    }
    for (i, (l, r)) in left.iter_mut().zip(right.iter_mut()).enumerate() {
        let j = offset + i;
        let t = if j == 0 { *r } else { scalar_field::mul(r, &twiddles[j * step]) };
        *r = scalar_field::sub(l, &t);
        *l = scalar_field::add(l, &t);
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

    /// On every backend the CPU has, on pools of 1 to 3 threads.
    #[test]
    fn equals_best_fft_at_every_size_and_on_any_pool() {
        let mut rng = StdRng::seed_from_u64(7);
        crate::backend::each(|backend| {
            for threads in [1, 2, 3] {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                for log_n in [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16] {
                    let n = 1usize << log_n;
                    let values: Vec<Fq> = (0..n).map(|_| Fq::from(rng.gen::<u64>()) * Fq::from(rng.gen::<u64>())).collect();
                    for omega in [root(log_n), root(log_n).invert().unwrap()] {
                        let (mut ours, mut theirs) = (values.clone(), values.clone());
                        pool.install(|| fft(&mut ours, omega, log_n));
                        pool.install(|| midnight_curves::fft::best_fft(&mut theirs, omega, log_n));
                        assert!(ours == theirs, "2^{log_n} points on {threads} threads, {backend:?}");
                    }
                }
            }
        });
    }

    #[test]
    fn inputs_padded_with_zeros_equal_best_fft() {
        let mut rng = StdRng::seed_from_u64(9);
        for log_n in [1, 2, 5, 11, 12, 14] {
            let n = 1usize << log_n;
            // Live prefixes of every power-of-two length and between them, down to none at all.
            for live in [n, n - 1, n / 2 + 1, n / 2, n / 4, n / 8 + 3, 1, 0].map(|l| l.min(n)) {
                let mut values = vec![Fq::ZERO; n];
                values[..live].iter_mut().for_each(|v| *v = Fq::random(&mut rng));
                let mut theirs = values.clone();
                midnight_curves::fft::best_fft(&mut theirs, root(log_n), log_n);
                for threads in [1, 3] {
                    let mut ours = values.clone();
                    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| fft(&mut ours, root(log_n), log_n));
                    assert!(ours == theirs, "2^{log_n} points, {live} live, {threads} threads");
                }
            }
        }
    }

    #[test]
    fn live_len_is_the_power_of_two_past_the_last_nonzero_value() {
        let mut a = vec![Fq::ZERO; 64];
        assert_eq!(live_len(&a), 1);
        a[0] = Fq::ONE;
        assert_eq!(live_len(&a), 1);
        a[16] = Fq::ONE;
        assert_eq!(live_len(&a), 32);
        a[63] = -Fq::ONE;
        assert_eq!(live_len(&a), 64);
    }

    #[test]
    fn edge_values_zero_one_and_minus_one() {
        for fill in [Fq::ZERO, Fq::ONE, -Fq::ONE] {
            let log_n = 11;
            let mut ours = vec![fill; 1 << log_n];
            let mut theirs = ours.clone();
            assert!(fft(&mut ours, root(log_n), log_n));
            midnight_curves::fft::best_fft(&mut theirs, root(log_n), log_n);
            assert!(ours == theirs);
        }
        let mut wrong = vec![Fq::ONE; 3];
        assert!(!fft(&mut wrong, root(2), 2) && wrong == [Fq::ONE; 3], "3 values are not 2^2: untouched");
        assert!(!fft(&mut wrong, root(2), 200), "a log_n past usize's bits");
    }

    /// `cargo test --release --lib fft::tests::timing -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn timing() {
        let mut rng = StdRng::seed_from_u64(1);
        // Dense, and as coeff_to_extended pads a polynomial of a quarter of the points.
        for (log_n, live) in [(14, 0), (16, 0), (16, 1 << 14), (17, 0)] {
            let n = 1usize << log_n;
            let live = if live == 0 { n } else { live };
            let values: Vec<Fq> = (0..n).map(|i| if i < live { Fq::from(rng.gen::<u64>()) } else { Fq::ZERO }).collect();
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
            let ours = time(&|v| assert!(fft(v, root(log_n), log_n)));
            let theirs = time(&|v| midnight_curves::fft::best_fft(v, root(log_n), log_n));
            println!("2^{log_n}, {live} live: ours {ours:.2} ms, best_fft {theirs:.2} ms ({:.2}x)", ours / theirs);
        }
    }
}
