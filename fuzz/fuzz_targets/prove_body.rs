//! A `/prove` body (tagged preimage, binding input, optional key material), and the k its IR
//! needs: typed errors, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    midnight_native_prover_fuzz::allow_caught_panics();
    let _ = proving::wire::decode_prove_request(data);
    let _ = proving::wire::ir_k(data);
});
