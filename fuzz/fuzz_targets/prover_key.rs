//! A prover key for the k in the first byte (6 to 14): `KEY_CORRUPT` or a key, never a panic or
//! an unbounded allocation.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    midnight_native_prover_fuzz::allow_caught_panics();
    let Some((&k, key)) = data.split_first() else { return };
    let _ = proving::key_check::read_prover_key(key, "fuzz", 6 + k % 9);
});
