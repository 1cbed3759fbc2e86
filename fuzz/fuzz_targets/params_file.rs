//! An unpinned parameters file for the k in the first byte: its layout checked against its
//! size before anything is read from it.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    midnight_native_prover_fuzz::allow_caught_panics();
    let Some((&k, file)) = data.split_first() else { return };
    let _ = proving::params::file::inspect(k % 26, file, "fuzz");
});
