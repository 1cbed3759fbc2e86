//! The SIGBUS guard hands every fault that is not on one of its mappings to the handler
//! installed before it (Node's, V8's, a host's). A binary of its own: the guard is installed
//! once per process, and this test must install the earlier handler first.
use kernels::mapping::{faults_total, Mapping};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};

const PAGE: usize = 4096;

/// Faults the earlier handler saw, and the address of the last one.
static EARLIER_CALLS: AtomicU64 = AtomicU64::new(0);
static EARLIER_ADDR: AtomicUsize = AtomicUsize::new(0);

/// The host's handler: it owns faults on its own mappings the way a runtime would, by mapping a
/// zero page over the faulting one, so the access that faulted runs again and reads zeros.
extern "C" fn earlier(_: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let addr = unsafe { (*info).si_addr() } as usize;
    EARLIER_CALLS.fetch_add(1, SeqCst);
    EARLIER_ADDR.store(addr, SeqCst);
    let page = addr & !(PAGE - 1);
    // SAFETY: the page lies in the test's own mapping of a file that shrank; MAP_FIXED replaces
    // it in place with zeros.
    unsafe {
        libc::mmap(page as *mut libc::c_void, PAGE, libc::PROT_READ, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED, -1, 0);
    }
}

fn install_earlier() {
    // SAFETY: a zeroed sigaction with an empty mask and our SA_SIGINFO handler is valid.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = earlier as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut()), 0);
    }
}

fn file_of(pages: usize, byte: u8) -> (PathBuf, File) {
    let path = std::env::temp_dir().join(format!("mnp-sigbus-chain-{}-{byte}", std::process::id()));
    File::create(&path).unwrap().write_all(&vec![byte; pages * PAGE]).unwrap();
    (path.clone(), File::open(&path).unwrap())
}

fn truncate(path: &PathBuf, pages: usize) {
    OpenOptions::new().write(true).open(path).unwrap().set_len((pages * PAGE) as u64).unwrap();
}

#[test]
fn a_fault_outside_the_guards_mappings_reaches_the_handler_installed_before_it() {
    install_earlier();
    let (ours_path, ours_file) = file_of(16, 7);
    let ours = Mapping::new(&ours_file).unwrap();
    let (theirs_path, theirs_file) = file_of(16, 9);
    // SAFETY: a read-only mapping of a file only this test writes; its truncation below is the
    // fault under test, which the earlier handler answers.
    let theirs = unsafe { memmap2::Mmap::map(&theirs_file).unwrap() };

    // A fault on a mapping that is not the guard's: the earlier handler runs, ours counts nothing.
    truncate(&theirs_path, 2);
    // SAFETY: a volatile read inside the mapping's bounds; it faults, and the handler maps zeros.
    let read = unsafe { std::ptr::read_volatile(theirs.as_ptr().add(10 * PAGE)) };
    assert_eq!(read, 0, "the earlier handler's zero page");
    assert_eq!(EARLIER_CALLS.load(SeqCst), 1);
    assert_eq!(EARLIER_ADDR.load(SeqCst), theirs.as_ptr() as usize + 10 * PAGE);
    assert_eq!(faults_total(), 0, "not the guard's fault");
    assert_eq!(theirs[100], 9, "pages before the new end still hold the file");

    // A fault on the guard's own mapping: the guard owns it, the earlier handler is not called.
    truncate(&ours_path, 2);
    let past: u64 = ours.bytes()[8 * PAGE..].iter().map(|&b| u64::from(b)).sum();
    assert_eq!(past, 0);
    assert_eq!(ours.faults(), 1);
    assert_eq!(EARLIER_CALLS.load(SeqCst), 1, "the guard's own fault never reaches the earlier handler");

    drop((ours, theirs));
    std::fs::remove_file(ours_path).unwrap();
    std::fs::remove_file(theirs_path).unwrap();
}
