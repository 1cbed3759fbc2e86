//! A verifier key: `KEY_CORRUPT` or a key, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    midnight_native_prover_fuzz::allow_caught_panics();
    let _ = proving::key_check::read_verifier_key(data, "fuzz");
});
