//! Native memory accounting.
//!
//! A counting wrapper around the system allocator gives the exact number of bytes the addon holds
//! on the Rust heap (keys, parameters, proofs in flight), which V8's heap statistics cannot see.
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

pub struct CountingAllocator;

static LIVE: AtomicUsize = AtomicUsize::new(0);
/// Highest `LIVE` since the current run of overlapping proofs began (see `ProofWindow`).
static WINDOW_PEAK: AtomicUsize = AtomicUsize::new(0);
static OPEN_WINDOWS: AtomicUsize = AtomicUsize::new(0);
/// Counts window openings, so a window can tell whether another one opened during its life.
static OPENED: AtomicUsize = AtomicUsize::new(0);
/// Highest `LIVE` since the last `reset_high_water`.
static HIGH_WATER: AtomicUsize = AtomicUsize::new(0);

fn grew(n: usize) {
    let now = LIVE.fetch_add(n, Relaxed) + n;
    WINDOW_PEAK.fetch_max(now, Relaxed);
    HIGH_WATER.fetch_max(now, Relaxed);
}

// SAFETY: every call forwards to `System` with the same layout and pointer, so System's
// guarantees hold; the counters are atomics; a buffer inside one of our mappings (`mapping::
// borrowed`) was never allocated here and is never handed to `System`.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // A mapped key's buffer: never allocated here, and unmapped by its owner.
        if kernels::mapping::borrowed(ptr) {
            return;
        }
        System.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size(), Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if kernels::mapping::borrowed(ptr) {
            return self.moved_out_of_mapping(ptr, layout, new_size);
        }
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Relaxed);
            grew(new_size);
        }
        p
    }
}

impl CountingAllocator {
    /// A mapped buffer that grows or shrinks becomes a heap buffer; the mapping keeps its bytes.
    unsafe fn moved_out_of_mapping(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = self.alloc(Layout::from_size_align_unchecked(new_size, layout.align()));
        if !p.is_null() {
            std::ptr::copy_nonoverlapping(ptr, p, layout.size().min(new_size));
        }
        p
    }
}

/// Bytes currently allocated through the counting allocator.
pub fn live_bytes() -> u64 {
    LIVE.load(Relaxed) as u64
}

/// Highest native heap since the last reset (or since the process started).
pub fn high_water_bytes() -> u64 {
    HIGH_WATER.load(Relaxed) as u64
}

/// Starts a new high-water mark from the current heap.
pub fn reset_high_water() {
    HIGH_WATER.store(LIVE.load(Relaxed), Relaxed);
}

/// Measures the heap a proof needs at its peak, above what was live when it started.
///
/// Allocations cannot be attributed to one proof (rayon spreads each over every thread), so
/// proofs that overlap share one window and each sees the peak of the whole heap above its own
/// start: exact when proofs run one at a time (the default), approximate when they overlap.
/// The window is process-wide, which is why the Rust tests run on one thread.
pub struct ProofWindow {
    live_at_start: usize,
    /// No other window was open when this one opened.
    alone_at_start: bool,
    opened_as: usize,
}

impl ProofWindow {
    pub fn open() -> Self {
        let live_at_start = LIVE.load(Relaxed);
        let alone_at_start = OPEN_WINDOWS.fetch_add(1, Relaxed) == 0;
        if alone_at_start {
            WINDOW_PEAK.store(live_at_start, Relaxed);
        }
        ProofWindow { live_at_start, alone_at_start, opened_as: OPENED.fetch_add(1, Relaxed) + 1 }
    }

    /// Whether no other proof overlapped this one so far, which makes `peak_bytes` exact.
    pub fn alone(&self) -> bool {
        self.alone_at_start && OPENED.load(Relaxed) == self.opened_as
    }

    /// Peak bytes above the start, so far.
    pub fn peak_bytes(&self) -> u64 {
        WINDOW_PEAK.load(Relaxed).saturating_sub(self.live_at_start) as u64
    }
}

impl Drop for ProofWindow {
    fn drop(&mut self) {
        OPEN_WINDOWS.fetch_sub(1, Relaxed);
    }
}

/// Resident set size of the whole process, from /proc (0 where unavailable).
pub fn rss_bytes() -> u64 {
    let pages = std::fs::read_to_string("/proc/self/statm").ok().and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok()).unwrap_or(0);
    pages * 4096
}

/// The machine's memory (MemTotal), 8 GiB where /proc/meminfo cannot be read.
pub fn physical_bytes() -> u64 {
    let kib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|info| {
        let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
        line.split_whitespace().nth(1)?.parse::<u64>().ok()
    });
    kib.map_or(8 << 30, |k| k * 1024)
}

/// Hands freed heap memory back to the OS.
///
/// Proving allocates hundreds of MiB from rayon worker threads, and glibc keeps what those
/// threads free in per-thread arenas: measured here, RSS stayed 100 MiB above its pre-burst level
/// after four k=14 proofs although the live heap was back where it started. `malloc_trim(0)`
/// returns the free pages of every arena, in about a millisecond, so it runs after each proof.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: malloc_trim only releases free memory; it is safe to call at any time.
        unsafe {
            malloc_trim(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_sees_the_peak_above_its_start() {
        let window = ProofWindow::open();
        let big = vec![0u8; 8 << 20];
        drop(std::hint::black_box(big));
        assert!(window.peak_bytes() >= 8 << 20, "{}", window.peak_bytes());
        assert!(window.alone());
        let other = ProofWindow::open();
        assert!(!window.alone() && !other.alone(), "overlapping windows are not exact");
        drop(other);
        assert!(!window.alone(), "nor is one that saw another come and go");
        reset_high_water();
        let before = live_bytes();
        drop(std::hint::black_box(vec![0u8; 4 << 20]));
        assert!(high_water_bytes() >= before + (4 << 20), "the high-water mark keeps a freed peak");
    }
}
