//! IR as `.zkir` JSON or tagged `.bzkir` bytes: validated, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    midnight_native_prover_fuzz::allow_caught_panics();
    let _ = proving::circuit::parse_ir(data);
});
