//! A `/check` body (tagged preimage and optional IR): typed errors, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    midnight_native_prover_fuzz::allow_caught_panics();
    let _ = proving::wire::decode_check_request(data);
});
