//! The kernels (`kernels::{msm, fft, gates}`) installed into midnight-proofs through the hooks of
//! `patches/midnight-proofs+0.7.3.patch`: every commitment, every FFT of an evaluation domain and
//! every expression graph of the quotient goes through them. Each can be turned off for
//! comparisons; the results are the same group and field elements either way (proofs are
//! byte-identical, tested).
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use midnight_curves::{Bls12, Fq, G1Projective};
use midnight_proofs::poly::kzg::params::ParamsKZG;

pub mod gates;

/// Installs the three engines (once per process; later calls do nothing).
pub fn install() {
    midnight_proofs::poly::kzg::msm::set_msm_engine(msm_engine);
    midnight_proofs::poly::set_fft_engine(fft_engine);
    gates::install();
}

static MSM_ENABLED: AtomicBool = AtomicBool::new(true);
static FFT_ENABLED: AtomicBool = AtomicBool::new(true);
static TRANSFORMS: AtomicU64 = AtomicU64::new(0);

/// Turns every engine off (midnight-proofs' and midnight-curves' own code runs) or back on.
pub fn set_enabled(on: bool) {
    MSM_ENABLED.store(on, Relaxed);
    FFT_ENABLED.store(on, Relaxed);
    gates::set_enabled(on);
}

/// How many transforms our FFT has done in this process (tests check that it ran).
pub fn transforms() -> u64 {
    TRANSFORMS.load(Relaxed)
}

fn msm_engine(scalars: &[Fq], bases: &[G1Projective], srs: bool) -> Option<G1Projective> {
    MSM_ENABLED.load(Relaxed).then(|| kernels::msm::commit(scalars, bases, srs))
}

fn fft_engine(a: &mut [Fq], omega: Fq, log_n: u32) -> bool {
    let done = FFT_ENABLED.load(Relaxed) && kernels::fft::fft(a, omega, log_n);
    if done {
        TRANSFORMS.fetch_add(1, Relaxed);
    }
    done
}

/// The MSM's affine copies and fixed-base tables of both SRS vectors of `params` (see
/// `kernels::msm::prepare`); the bytes it mapped from the key cache's table files.
pub fn prepare_msm(params: &Arc<ParamsKZG<Bls12>>, fixed_budget: u64, cache_dir: Option<&std::path::Path>) -> u64 {
    kernels::msm::prepare(params, [params.g(), params.g_lagrange()], fixed_budget, cache_dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ff::Field;
    use group::Group;

    /// Past 2^19 terms midnight-proofs would send an MSM to `msm_best`, which checks every point's
    /// subgroup (7× slower); the hook brings those to the engine like any other. The bases are
    /// (i + 1)·G, so the sum is known without an MSM: (Σ s_i·(i + 1))·G.
    #[test]
    fn msms_past_2_19_terms_come_to_the_engine_and_sum_right() {
        use midnight_proofs::{poly::kzg::msm::MSMKZG, utils::arithmetic::MSM};
        use rand::SeedableRng;
        install();
        let n = (1 << 19) + 3;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(19);
        let g = G1Projective::generator();
        let mut msm = MSMKZG::<Bls12>::init();
        let (mut base, mut multiple, mut total) = (g, Fq::ONE, Fq::ZERO);
        for i in 0..n {
            // Small and repeated scalars too, as real commitments have.
            let s = match i % 4 {
                0 => Fq::random(&mut rng),
                1 => Fq::from(i as u64),
                2 => Fq::from(7u64),
                _ => Fq::ZERO,
            };
            msm.append_term(s, base);
            total += s * multiple;
            base += g;
            multiple += Fq::ONE;
        }
        let served = kernels::msm::status().commitments;
        assert_eq!(msm.eval(), g * total);
        let status = kernels::msm::status();
        assert!(status.commitments > served && status.largest_commitment >= n, "the engine made it");
    }

    /// The tables `prepare_msm` builds for real parameters serve their SRS prefixes.
    #[test]
    fn prepared_parameters_commit_through_their_tables() {
        let params = crate::params::ParamsStore::new(vec![]).get(10).unwrap().prover;
        prepare_msm(&params.0, u64::MAX, None);
        let vectors = kernels::msm::status().vectors;
        assert!(vectors.iter().filter(|v| v.points == 1024 && v.path == kernels::msm::Path::Fixed).count() >= 2);
        let scalars: Vec<Fq> = (0..1000u64).map(|i| Fq::from(i * i + 1).pow_vartime([i + 5])).collect();
        for bases in [params.0.g(), params.0.g_lagrange()] {
            assert_eq!(kernels::msm::commit(&scalars, &bases[..1000], true), G1Projective::multi_exp(&bases[..1000], &scalars));
        }
    }
}
