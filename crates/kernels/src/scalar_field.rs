//! Scalar-field arithmetic that the compiler can inline, for our hot loops (the FFT butterflies
//! and the gate evaluator). midnight-curves' `Fq` calls into blst's assembly for every addition,
//! subtraction and multiplication: a foreign call that cannot be inlined, and that stops the
//! compiler from interleaving the independent operations of a loop.
//!
//! Measured here (`tests::timing`, AMD EPYC): additions and subtractions take 4–8 ns against
//! blst's 12–15 ns; the multiplication is about even, 29–33 ns against 33–36 ns, but only when
//! compiled with BMI2 and ADX (36–44 ns without). So a hot loop runs inside `with_fast_arith`,
//! which compiles it a second time with those instructions and takes that copy on a CPU that has
//! them; the prebuilt binary also serves CPUs without them, so the choice is made at run time.
//! In proofs, with the FFT and the gate evaluator on these functions: zswap output 3.23 → 3.11 s,
//! arttt clearMemos 1.57 → 1.52 s (means of 4 alternating runs each).
//!
//! On CPUs with AVX-512 IFMA the FFT and the gate evaluator make their products eight at a time
//! instead, in limbs (`ifma`, on the lane arithmetic of `lanes`). Measured on an Intel Xeon with
//! IFMA: zswap output proofs 3.25 → 2.86 s when the gate evaluator's products went to lanes, and
//! 2.77 s with the FFT's too (3 alternating runs of 3 proofs each).
//!
//! These functions work on `Fq`'s own representation (blst's `blst_fr`: four little-endian
//! words in Montgomery form with R = 2^256, always fully reduced), so each result is the same
//! element in the same bits as blst's: they are tested against `Fq`'s operators.
use midnight_curves::Fq;

#[cfg(target_arch = "x86_64")]
pub mod ifma;

/// Runs `f`, compiled with BMI2 and ADX when the backend uses them (`backend`). That applies only to code inlined
/// here, so `f` is the hot loop itself, written as an `#[inline(always)]` closure (without it,
/// the closure is compiled once, without them, and called from both branches).
#[inline(always)]
pub fn with_fast_arith<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if super::backend::current().adx() {
        #[target_feature(enable = "bmi2,adx")]
        unsafe fn run<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        // SAFETY: the backend is `adx` or `ifma` only on a CPU with both features.
        return unsafe { run(f) };
    }
    f()
}

/// The scalar field's modulus r, little-endian words.
const MODULUS: [u64; 4] = [0xffff_ffff_0000_0001, 0x53bd_a402_fffe_5bfe, 0x3339_d808_09a1_d805, 0x73ed_a753_299d_7d48];
/// −r^−1 mod 2^64, the Montgomery reduction's per-word factor.
const INV: u64 = 0xffff_fffe_ffff_ffff;

/// r as the AVX-512 lanes use it (`lanes`).
#[cfg(target_arch = "x86_64")]
pub const LANES_MODULUS: crate::lanes::Modulus<5> = crate::lanes::Modulus::new::<4>(MODULUS, INV);

// The multiplication below skips the carry out of the top word, which holds only because r's
// top word leaves more than a bit of headroom.
const _: () = assert!(MODULUS[3] < (u64::MAX >> 1) - 1);

#[inline(always)]
fn words(a: &Fq) -> [u64; 4] {
    // SAFETY: Fq is repr(transparent) over blst_fr, which is repr(C) over [u64; 4].
    unsafe { std::mem::transmute::<Fq, [u64; 4]>(*a) }
}

#[inline(always)]
fn element(w: [u64; 4]) -> Fq {
    // SAFETY: see `words`; every caller passes a fully reduced value.
    unsafe { std::mem::transmute::<[u64; 4], Fq>(w) }
}

/// a + b·c + carry, as (low word, high word).
#[inline(always)]
fn mac(a: u64, b: u64, c: u64, carry: u64) -> (u64, u64) {
    let t = a as u128 + b as u128 * c as u128 + carry as u128;
    (t as u64, (t >> 64) as u64)
}

/// a ∘ b word by word with `step` (an overflowing add or sub), the carry (or borrow) of each
/// word going into the next; and whether the last word carried (borrowed).
#[inline(always)]
fn ripple(a: [u64; 4], b: [u64; 4], step: impl Fn(u64, u64) -> (u64, bool)) -> ([u64; 4], bool) {
    let mut out = [0u64; 4];
    let mut carry = false;
    for i in 0..4 {
        let (x, c1) = step(a[i], b[i]);
        let (x, c2) = step(x, carry as u64);
        out[i] = x;
        carry = c1 | c2;
    }
    (out, carry)
}

#[inline(always)]
fn add_words(a: [u64; 4], b: [u64; 4]) -> ([u64; 4], bool) {
    ripple(a, b, u64::overflowing_add)
}

#[inline(always)]
fn sub_words(a: [u64; 4], b: [u64; 4]) -> ([u64; 4], bool) {
    ripple(a, b, u64::overflowing_sub)
}

/// t − r if t ≥ r, else t (t < 2r).
#[inline(always)]
fn reduce_once(t: [u64; 4]) -> [u64; 4] {
    match sub_words(t, MODULUS) {
        (_, true) => t,
        (d, false) => d,
    }
}

/// a·b in Montgomery form (coarsely integrated operand scanning).
#[inline(always)]
pub fn mul(a: &Fq, b: &Fq) -> Fq {
    let (a, b) = (words(a), words(b));
    let mut t = [0u64; 4];
    for bi in b {
        let (t0, mut carry_ab) = mac(t[0], a[0], bi, 0);
        let m = t0.wrapping_mul(INV);
        let (_, mut carry_m) = mac(t0, m, MODULUS[0], 0);
        for j in 1..4 {
            let (x, c) = mac(t[j], a[j], bi, carry_ab);
            carry_ab = c;
            let (y, c) = mac(x, m, MODULUS[j], carry_m);
            carry_m = c;
            t[j - 1] = y;
        }
        t[3] = carry_ab + carry_m;
    }
    element(reduce_once(t))
}

/// a + b: both are below r < 2^255, so the sum fits in four words.
#[inline(always)]
pub fn add(a: &Fq, b: &Fq) -> Fq {
    element(reduce_once(add_words(words(a), words(b)).0))
}

#[inline(always)]
pub fn double(a: &Fq) -> Fq {
    add(a, a)
}

/// a − b, adding r back when it borrows.
#[inline(always)]
pub fn sub(a: &Fq, b: &Fq) -> Fq {
    match sub_words(words(a), words(b)) {
        (d, true) => element(add_words(d, MODULUS).0),
        (d, false) => element(d),
    }
}

#[inline(always)]
pub fn neg(a: &Fq) -> Fq {
    sub(&element([0; 4]), a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ff::{Field, PrimeField};
    use rand::{rngs::StdRng, Rng, SeedableRng};

    /// Random elements, plus the ones where carries and reductions turn: 0, 1, 2, −1, −2,
    /// (r − 1)/2 and its neighbours, 2^64 − 1, 2^128, and values with every word all ones.
    fn samples() -> Vec<Fq> {
        let mut rng = StdRng::seed_from_u64(11);
        let half = Fq::TWO_INV - Fq::ONE;
        let mut out = vec![Fq::ZERO, Fq::ONE, Fq::from(2), -Fq::ONE, -Fq::from(2), half, half + Fq::ONE, half - Fq::ONE];
        out.push(Fq::from(u64::MAX));
        out.push(Fq::from(u64::MAX) * Fq::from(u64::MAX));
        out.push(Fq::from_u128(1u128 << 127) * Fq::from(2));
        out.push(element([u64::MAX, u64::MAX, u64::MAX, 0]));
        out.push(element([0, 0, 0, MODULUS[3] - 1]));
        out.push(element([MODULUS[0] - 1, MODULUS[1], MODULUS[2], MODULUS[3]]));
        out.extend((0..200).map(|_| Fq::random(&mut rng)));
        out.extend((0..50).map(|_| Fq::from(rng.gen::<u64>())));
        out
    }

    /// On every backend: inside `with_fast_arith` (compiled with BMI2 and ADX under `adx` and
    /// `ifma`), and blst on the assembly that backend selects.
    #[test]
    fn every_operation_equals_blsts_bit_for_bit() {
        let xs = samples();
        crate::backend::each(|_| {
            with_fast_arith(
                #[inline(always)]
                || {
                    for a in &xs {
                        assert_eq!(words(&neg(a)), words(&-*a));
                        assert_eq!(words(&mul(a, a)), words(&a.square()));
                        assert_eq!(words(&double(a)), words(&a.double()));
                        for b in &xs {
                            assert_eq!(words(&mul(a, b)), words(&(*a * b)), "{a:?} · {b:?}");
                            assert_eq!(words(&add(a, b)), words(&(*a + b)), "{a:?} + {b:?}");
                            assert_eq!(words(&sub(a, b)), words(&(*a - b)), "{a:?} − {b:?}");
                        }
                    }
                },
            )
        });
    }

    /// Every pair of samples, as two slices.
    fn pairs() -> (Vec<Fq>, Vec<Fq>) {
        let xs = samples();
        xs.iter().flat_map(|a| xs.iter().map(move |b| (*a, *b))).unzip()
    }

    /// The lanes' product (`lanes::mont`, through `ifma`'s transposes) over every pair of samples,
    /// eight at a time: the edge values of the scalar field's lane arithmetic.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn lane_products_equal_blsts_bit_for_bit() {
        if !crate::backend::ifma_testable() {
            return;
        }
        let (a, b) = pairs();
        let mut out = vec![Fq::ZERO; 8];
        for k in (0..a.len() / 8 * 8).step_by(8) {
            // SAFETY: the CPU has the features (`ifma_testable`), and each group holds 8 elements.
            unsafe { ifma::store(out.as_mut_ptr(), &lane_product(&a[k..], &b[k..])) };
            for i in 0..8 {
                assert_eq!(words(&out[i]), words(&(a[k + i] * b[k + i])), "{:?} · {:?}", a[k + i], b[k + i]);
            }
        }
    }

    /// a[0..8]·b[0..8] in lanes.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn lane_product(a: &[Fq], b: &[Fq]) -> [std::arch::x86_64::__m512i; 5] {
        let (a, b) = (ifma::load(a.as_ptr(), LANES_MODULUS.shift), ifma::load(b.as_ptr(), 0));
        crate::lanes::mont(&a, &b, &LANES_MODULUS)
    }

    /// Nanoseconds per `op` over arrays that stay in cache, run inside `with_fast_arith` or not.
    fn per_op(op: impl Fn(&Fq, &Fq) -> Fq, fast: bool) -> f64 {
        per_element(|d, a, b| {
            let run = |d: &mut [Fq]| d.iter_mut().zip(a.iter().zip(b)).for_each(|(d, (x, y))| *d = op(x, y));
            if fast {
                with_fast_arith(
                    #[inline(always)]
                    || run(d),
                )
            } else {
                run(d)
            }
        })
    }

    /// Nanoseconds per element of `round(d, a, b)` over 1,024 random elements in cache.
    fn per_element(round: impl Fn(&mut [Fq], &[Fq], &[Fq])) -> f64 {
        let mut rng = StdRng::seed_from_u64(3);
        let (n, rounds) = (1 << 10, 3000);
        let a: Vec<Fq> = (0..n).map(|_| Fq::random(&mut rng)).collect();
        let b: Vec<Fq> = (0..n).map(|_| Fq::random(&mut rng)).collect();
        let mut d = vec![Fq::ZERO; n];
        let t = std::time::Instant::now();
        for _ in 0..rounds {
            round(&mut d, &a, &b);
            std::hint::black_box(&d);
        }
        t.elapsed().as_secs_f64() * 1e9 / (rounds * n) as f64
    }

    /// `cargo test --release --lib scalar_field::tests::timing -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn timing() {
        println!("mul: blst {:.1} ns, ours {:.1} ns, ours with_fast_arith {:.1} ns", per_op(|x, y| *x * y, false), per_op(mul, false), per_op(mul, true));
        println!("add: blst {:.1} ns, ours with_fast_arith {:.1} ns", per_op(|x, y| *x + y, false), per_op(add, true));
        println!("sub: blst {:.1} ns, ours with_fast_arith {:.1} ns", per_op(|x, y| *x - y, false), per_op(sub, true));
        #[cfg(target_arch = "x86_64")]
        if crate::backend::Backend::Ifma.supported() {
            println!("mul in lanes: {:.1} ns", per_lane_product());
        }
    }

    /// Nanoseconds per product eight at a time in lanes, from elements to elements.
    #[cfg(target_arch = "x86_64")]
    fn per_lane_product() -> f64 {
        per_element(|d, a, b| {
            for k in (0..d.len()).step_by(8) {
                // SAFETY: the CPU has the features (checked by the caller), and the slices hold
                // whole groups of 8.
                unsafe { ifma::store(d[k..].as_mut_ptr(), &lane_product(&a[k..], &b[k..])) };
            }
        })
    }
}
