//! The prover's CPU kernels, knowing nothing of Midnight's files, of the proof system that calls
//! them (the proving crate installs them into midnight-proofs) or of the service: the only curve code here
//! is the arithmetic itself. Every kernel asks `backend` which instructions to run, and its tests
//! run on every backend the CPU has.
pub mod backend;
pub mod cache_file;
pub mod fft;
pub mod gates;
#[cfg(target_arch = "x86_64")]
pub mod lanes;
pub mod mapping;
pub mod msm;
pub mod scalar_field;
pub mod sync;
