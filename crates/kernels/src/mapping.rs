//! The files the addon maps (mapped prover keys, MSM tables), registered in one bounded table.
//!
//! Two things need to know whether an address lies in one of them:
//! - The SIGBUS guard. Another process may truncate a mapped file (a disk cleaner, an older
//!   version rewriting in place). The next read past the new end raises SIGBUS, which would end
//!   the process. Like the Internet Computer's handler for its mapped checkpoints, ours owns the
//!   faults on its own mappings: it puts zero pages where the lost ones were and counts the fault,
//!   and the caller turns a counted fault into a typed error. Every other SIGBUS goes on to the
//!   handler installed before ours (Node's, V8's) or to the default action.
//! - The allocator. A mapped prover key's polynomials are `Vec`s whose buffers lie in the mapping
//!   (midnight-proofs keeps `Vec`s); `memory::CountingAllocator` leaves those buffers alone when
//!   they are dropped, and the mapping goes with its owner.
use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Mutex, Once};

/// Mappings held at once; past this a file is read into private memory instead.
pub const MAX_MAPPINGS: usize = 256;

struct Slot {
    start: AtomicUsize,
    end: AtomicUsize,
    faults: AtomicU64,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Slot = Slot { start: AtomicUsize::new(0), end: AtomicUsize::new(0), faults: AtomicU64::new(0) };
static SLOTS: [Slot; MAX_MAPPINGS] = [EMPTY; MAX_MAPPINGS];
/// One past the highest slot ever used: what the signal handler and the allocator scan.
static USED: AtomicUsize = AtomicUsize::new(0);
/// Serializes registration; readers (the handler, the allocator) only load atomics.
static REGISTER: Mutex<()> = Mutex::new(());
static FAULTS: AtomicU64 = AtomicU64::new(0);
static INSTALL: Once = Once::new();

/// A file mapped copy-on-write (`MAP_PRIVATE`): clean pages are shared through the page cache
/// with every other process mapping the file, and a write (none is expected) stays private.
pub struct Mapping {
    map: memmap2::MmapMut,
    slot: usize,
}

impl Mapping {
    /// Maps `file` whole, with the SIGBUS guard over it. Fails when the file cannot be mapped
    /// or `MAX_MAPPINGS` are held.
    pub fn new(file: &File) -> io::Result<Mapping> {
        install_guard();
        // SAFETY: the mapping is private and guarded: a change to the file by another process
        // can change or zero what we read (checked by the callers), never fault the process.
        let map = unsafe { memmap2::MmapOptions::new().map_copy(file)? };
        let slot = register(map.as_ptr() as usize, map.len()).ok_or_else(|| io::Error::other("too many mappings"))?;
        Ok(Mapping { map, slot })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// Pages of this mapping that faulted (their file shrank under us) and now read as zeros.
    pub fn faults(&self) -> u64 {
        SLOTS[self.slot].faults.load(SeqCst)
    }

    /// Asks the kernel to read the whole file ahead, in large runs, so that pages not yet in
    /// the page cache do not fault in one by one. Every caller checksums the whole mapping next
    /// (`cache_file::checksum`, on all the pool's threads), which maps every page with the
    /// kernel's fault-around: populating the page tables here too (`MADV_POPULATE_READ`) cost a
    /// fresh process 13 ms of its 90 ms load (zswap output, Zen 5) for nothing the first proof
    /// noticed. `MIDNIGHT_PROVER_PREFETCH=0` turns it off, for the bench that measures it.
    pub fn prefetch(&self) {
        static OFF: std::sync::LazyLock<bool> = std::sync::LazyLock::new(|| std::env::var("MIDNIGHT_PROVER_PREFETCH").is_ok_and(|v| v == "0"));
        if !*OFF {
            let _ = self.map.advise(memmap2::Advice::WillNeed);
        }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // Out of the table before the pages go, so no later allocation at this address is
        // taken for ours.
        let _guard = REGISTER.lock().unwrap_or_else(|e| e.into_inner());
        let slot = &SLOTS[self.slot];
        slot.end.store(0, SeqCst);
        slot.start.store(0, SeqCst);
    }
}

fn register(start: usize, len: usize) -> Option<usize> {
    let _guard = REGISTER.lock().unwrap_or_else(|e| e.into_inner());
    let i = SLOTS.iter().position(|s| s.end.load(SeqCst) == 0)?;
    let slot = &SLOTS[i];
    slot.faults.store(0, SeqCst);
    slot.start.store(start, SeqCst);
    slot.end.store(start + len, SeqCst);
    USED.fetch_max(i + 1, SeqCst);
    Some(i)
}

/// The slot whose mapping holds `addr`. Lock-free: called from the signal handler.
fn slot_of(addr: usize) -> Option<&'static Slot> {
    SLOTS[..USED.load(SeqCst).min(MAX_MAPPINGS)].iter().find(|s| s.start.load(SeqCst) <= addr && addr < s.end.load(SeqCst))
}

/// Where buffers borrowed from a mapping start: a multiple of this from the mapping's start.
pub const ALIGN: usize = 4096;

/// Whether `ptr` is a buffer inside one of our mappings. Borrowed buffers are `ALIGN`-aligned,
/// which the system allocator's pointers, behind a chunk header, are not: most frees are ruled
/// out by that one test.
pub fn borrowed(ptr: *mut u8) -> bool {
    (ptr as usize).is_multiple_of(ALIGN) && USED.load(SeqCst) > 0 && slot_of(ptr as usize).is_some()
}

/// Pages of any mapping that faulted since the process started.
pub fn faults_total() -> u64 {
    FAULTS.load(SeqCst)
}

/// Mappings held now.
pub fn held() -> usize {
    SLOTS.iter().filter(|s| s.end.load(SeqCst) != 0).count()
}

static PAGE: AtomicUsize = AtomicUsize::new(4096);

fn page_size() -> usize {
    PAGE.load(SeqCst)
}

static PREVIOUS: std::sync::OnceLock<libc::sigaction> = std::sync::OnceLock::new();

fn install_guard() {
    INSTALL.call_once(|| {
        // SAFETY: a zeroed sigaction is a valid "no handler"; sigaction fills the old one and
        // takes ours, whose handler only loads atomics, calls mmap and chains.
        unsafe {
            PAGE.store(libc::sysconf(libc::_SC_PAGESIZE).max(4096) as usize, SeqCst);
            let mut old: libc::sigaction = std::mem::zeroed();
            let mut ours: libc::sigaction = std::mem::zeroed();
            ours.sa_sigaction = on_sigbus as *const () as usize;
            ours.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
            libc::sigemptyset(&mut ours.sa_mask);
            if libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut old) == 0 {
                let _ = PREVIOUS.set(old);
                libc::sigaction(libc::SIGBUS, &ours, std::ptr::null_mut());
            }
        }
    });
}

extern "C" fn on_sigbus(sig: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let addr = unsafe { (*info).si_addr() } as usize;
    if let Some(slot) = slot_of(addr) {
        // Everything from the faulting page to the mapping's end becomes zeros: a file shrinks
        // from its end, so the pages after this one are gone too.
        let page = addr & !(page_size() - 1);
        let len = slot.end.load(SeqCst).saturating_sub(page);
        // SAFETY: the range lies inside our own mapping, which MAP_FIXED replaces in place.
        let zeros = unsafe {
            libc::mmap(page as *mut libc::c_void, len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED, -1, 0)
        };
        if zeros != libc::MAP_FAILED {
            slot.faults.fetch_add(1, SeqCst);
            FAULTS.fetch_add(1, SeqCst);
            return;
        }
    }
    chain(sig, info, context);
}

/// Hands a fault that is not ours to the handler before ours, or to the default action (by
/// restoring it: returning re-runs the faulting access, which then ends the process as usual).
fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    let previous = PREVIOUS.get();
    let handler = previous.map_or(libc::SIG_DFL, |p| p.sa_sigaction);
    // SAFETY: calling the handler that was installed, the way the kernel would have; resetting
    // to SIG_DFL is async-signal-safe.
    unsafe {
        if handler == libc::SIG_DFL || handler == libc::SIG_IGN {
            libc::signal(sig, libc::SIG_DFL);
        } else if previous.is_some_and(|p| p.sa_flags & libc::SA_SIGINFO != 0) {
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) = std::mem::transmute(handler);
            f(sig, info, context);
        } else {
            let f: extern "C" fn(libc::c_int) = std::mem::transmute(handler);
            f(sig);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn temp_file(bytes: &[u8]) -> (std::path::PathBuf, File) {
        let path = std::env::temp_dir().join(format!("mnp-mapping-{}-{}", std::process::id(), rand::random::<u64>()));
        std::fs::File::create(&path).unwrap().write_all(bytes).unwrap();
        let file = File::open(&path).unwrap();
        (path, file)
    }

    #[test]
    fn a_file_truncated_under_its_mapping_reads_as_zeros_and_counts_a_fault() {
        let (path, file) = temp_file(&vec![7u8; 64 * 4096]);
        let map = Mapping::new(&file).unwrap();
        assert_eq!(map.bytes()[5 * 4096], 7);
        let before = faults_total();
        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(4096 * 3).unwrap();
        // Pages 0..3 still hold the file; page 10 is past its new end.
        let past: u64 = map.bytes()[10 * 4096..].iter().map(|&b| b as u64).sum();
        assert_eq!(past, 0);
        assert_eq!(map.bytes()[100], 7);
        assert_eq!(map.faults(), 1);
        assert!(faults_total() > before);
        drop(map);
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn only_page_aligned_pointers_inside_a_mapping_are_borrowed() {
        let (path, file) = temp_file(&vec![1u8; 8 * 4096]);
        let map = Mapping::new(&file).unwrap();
        let base = map.bytes().as_ptr() as *mut u8;
        assert!(borrowed(base));
        assert!(borrowed(base.wrapping_add(4096)));
        assert!(!borrowed(base.wrapping_add(16)));
        // Past its end may lie another test's mapping: not this one's slot, whatever it is.
        let end = base.wrapping_add(8 * 4096) as usize;
        assert!(!slot_of(end).is_some_and(|s| std::ptr::eq(s, &SLOTS[map.slot])));
        let heap = vec![0u8; 1 << 20];
        assert!(!borrowed(heap.as_ptr() as *mut u8));
        let slot = map.slot;
        drop(map);
        assert_eq!(SLOTS[slot].end.load(SeqCst), 0, "its slot is free");
        std::fs::remove_file(path).unwrap();
    }
}
