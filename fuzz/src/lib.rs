//! What every fuzz target shares.

/// libfuzzer-sys's panic hook aborts on every panic, even one the code under test catches on
/// purpose: our decoders run Midnight's readers, which `unwrap`, under `catch_unwind` and turn
/// their panics into typed errors (`KEY_CORRUPT`, ...). A silent hook lets those through; a
/// panic that escapes the decoder still reaches libfuzzer-sys's `catch_unwind` and aborts.
pub fn allow_caught_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| std::panic::set_hook(Box::new(|_| {})));
}

/// The addon's allocator, so the decoders run with the memory accounting they run with in Node.
#[global_allocator]
static ALLOCATOR: proving::memory::CountingAllocator = proving::memory::CountingAllocator;
