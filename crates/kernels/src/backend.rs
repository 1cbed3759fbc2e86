//! The CPU backend: which instructions our kernels (and blst under them) run. It is chosen here
//! and nowhere else, once per process, and every kernel asks `current()`. The model is
//! curve25519-dalek's `BackendKind` and blst's `portable` / `force-adx`: one choice per CPU, and
//! every choice the CPU can run is testable on it, so a machine with IFMA also measures the path
//! without it.
//!
//! - `Ifma`: the AVX-512 IFMA lanes (`lanes`) for the FFT, the gate evaluator and the MSM's
//!   affine additions, plus everything `Adx` does.
//! - `Adx`: the hot loops compiled a second time with BMI2 and ADX (`scalar_field::with_fast_arith`),
//!   and blst's ADX assembly.
//! - `Portable`: neither: plain x86-64 (or any other architecture).
//!
//! `MIDNIGHT_PROVER_BACKEND=auto|ifma|adx|portable` forces one; `auto` (or unset) takes the best
//! the CPU has. A backend the CPU lacks is refused (`Prover::new` fails with INVALID_OPTIONS), so
//! no instruction the CPU lacks is ever run: no SIGILL.
//!
//! blst is always built with its `portable` feature, which keeps both its ADX and its plain
//! assembly and picks one per call from `__blst_platform_cap`; `set` writes that flag, so blst
//! follows the same choice as our kernels.
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Backend {
    Portable = 1,
    Adx = 2,
    Ifma = 3,
}

/// The environment variable that forces a backend.
pub const ENV: &str = "MIDNIGHT_PROVER_BACKEND";
/// Set to 1 where the CPU is known to have IFMA: the IFMA tests then fail instead of skipping.
pub const EXPECT_IFMA_ENV: &str = "MIDNIGHT_PROVER_EXPECT_IFMA";

impl Backend {
    /// Best first.
    pub const ALL: [Backend; 3] = [Backend::Ifma, Backend::Adx, Backend::Portable];

    pub fn name(self) -> &'static str {
        match self {
            Backend::Ifma => "ifma",
            Backend::Adx => "adx",
            Backend::Portable => "portable",
        }
    }

    /// Whether this CPU can run every instruction the backend uses.
    pub fn supported(self) -> bool {
        match self {
            Backend::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Backend::Adx => is_x86_feature_detected!("bmi2") && is_x86_feature_detected!("adx"),
            #[cfg(target_arch = "x86_64")]
            Backend::Ifma => Backend::Adx.supported() && is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512ifma"),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The products eight at a time, in AVX-512 IFMA lanes.
    #[inline(always)]
    pub fn lanes(self) -> bool {
        self == Backend::Ifma
    }

    /// Code compiled with BMI2 and ADX, ours and blst's.
    #[inline(always)]
    pub fn adx(self) -> bool {
        self >= Backend::Adx
    }

    fn from_u8(v: u8) -> Option<Backend> {
        Backend::ALL.into_iter().find(|b| *b as u8 == v)
    }
}

/// The backends this CPU can run, best first.
pub fn available() -> Vec<Backend> {
    Backend::ALL.into_iter().filter(|b| b.supported()).collect()
}

/// The best backend this CPU can run.
pub fn best() -> Backend {
    available()[0]
}

/// The backend a value of `MIDNIGHT_PROVER_BACKEND` asks for: `None` or "auto" is the best one.
/// An unknown name, or a backend this CPU lacks, is an error that says which ones it has.
pub fn requested(value: Option<&str>) -> Result<Backend, String> {
    let value = value.map(str::trim).filter(|v| !v.is_empty()).unwrap_or("auto").to_ascii_lowercase();
    let has = || available().iter().map(|b| b.name()).collect::<Vec<_>>().join(", ");
    if value == "auto" {
        return Ok(best());
    }
    match Backend::ALL.into_iter().find(|b| b.name() == value) {
        Some(b) if b.supported() => Ok(b),
        Some(b) => Err(format!("{ENV}={}: this CPU lacks it (it has: {})", b.name(), has())),
        None => Err(format!("{ENV}={value:?} is not a backend: auto, ifma, adx or portable")),
    }
}

/// What the environment asks for (see `requested`).
pub fn from_env() -> Result<Backend, String> {
    requested(std::env::var(ENV).ok().as_deref())
}

/// 0 until the first `current()` or `set`.
static CURRENT: AtomicU8 = AtomicU8::new(0);

/// The backend every kernel runs now. The first call takes it from the environment, or the best
/// one if the environment asks for something this CPU cannot run (`Prover::new` reports that).
#[inline(always)]
pub fn current() -> Backend {
    match Backend::from_u8(CURRENT.load(Relaxed)) {
        Some(b) => b,
        None => first(),
    }
}

#[cold]
fn first() -> Backend {
    let b = from_env().unwrap_or_else(|_| best());
    set(b).expect("a backend this CPU supports");
    b
}

/// Makes `b` the backend of every kernel and of blst, from their next call on. Refuses a backend
/// this CPU lacks. Every backend computes the same bits, so a call already running on another
/// thread finishes correctly on the one it started with.
pub fn set(b: Backend) -> Result<(), String> {
    if !b.supported() {
        return Err(format!("{ENV}={}: this CPU lacks it", b.name()));
    }
    blst_follows(b);
    CURRENT.store(b as u8, Relaxed);
    Ok(())
}

/// blst's own run-time switch (bit 0 of `__blst_platform_cap`: use ADX), which its portable
/// build reads at the top of every assembly routine.
#[cfg(target_arch = "x86_64")]
fn blst_follows(b: Backend) {
    use std::sync::atomic::AtomicI32;
    extern "C" {
        static mut __blst_platform_cap: i32;
    }
    // SAFETY: the symbol is a C `int` defined by blst's cpuid.c in every build of blst, aligned as
    // an i32, and lives for the whole process; blst only reads it, with plain loads of the whole
    // word, so an atomic read-modify-write here is never torn from its point of view.
    let cap = unsafe { AtomicI32::from_ptr(std::ptr::addr_of_mut!(__blst_platform_cap)) };
    if b.adx() {
        cap.fetch_or(1, Relaxed);
    } else {
        cap.fetch_and(!1, Relaxed);
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn blst_follows(_: Backend) {}

/// Whether the tests of IFMA code should run here: true on a CPU with IFMA; false (skip) without
/// it, unless `MIDNIGHT_PROVER_EXPECT_IFMA=1`, where a CPU without IFMA fails the test instead.
pub fn ifma_testable() -> bool {
    let has = Backend::Ifma.supported();
    let expected = std::env::var(EXPECT_IFMA_ENV).is_ok_and(|v| v == "1");
    assert!(has || !expected, "{EXPECT_IFMA_ENV}=1 but this CPU has no AVX-512 IFMA");
    println!("IFMA: {has}");
    has
}

/// Runs `f` once on every backend this CPU has, each forced in turn (tests and benches of the
/// kernels), then restores the backend that ran before. Callers that force backends are
/// serialised, so two of them never interleave.
pub fn each<R>(mut f: impl FnMut(Backend) -> R) -> Vec<(Backend, R)> {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let before = current();
    let out = available().into_iter().map(|b| {
        set(b).expect("available");
        (b, f(b))
    });
    let out: Vec<_> = out.collect();
    set(before).expect("ran before");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_unsupported_backends_are_refused() {
        assert_eq!(requested(None).unwrap(), best());
        assert_eq!(requested(Some(" AUTO ")).unwrap(), best());
        assert_eq!(requested(Some("portable")).unwrap(), Backend::Portable);
        assert!(requested(Some("avx2")).unwrap_err().contains("is not a backend"));
        for b in Backend::ALL {
            assert_eq!(requested(Some(b.name())).is_ok(), b.supported(), "{b:?}");
            if !b.supported() {
                assert!(set(b).is_err(), "{b:?}");
            }
        }
        assert!(available().contains(&Backend::Portable));
    }

    #[test]
    fn each_forces_every_available_backend_and_restores_the_one_before() {
        let before = current();
        let seen = each(|b| current() == b);
        assert_eq!(seen.iter().map(|(b, _)| *b).collect::<Vec<_>>(), available());
        assert!(seen.iter().all(|(_, same)| *same));
        assert_eq!(current(), before);
    }

    /// blst's switch follows ours: its ADX bit is clear under `portable`, set under `adx`.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn blst_takes_the_same_path() {
        extern "C" {
            static __blst_platform_cap: i32;
        }
        // SAFETY: a C int of blst's, valid for the process; read once.
        let adx_bit = || unsafe { std::ptr::read_volatile(std::ptr::addr_of!(__blst_platform_cap)) } & 1;
        for (b, bit) in each(|_| adx_bit()) {
            assert_eq!(bit == 1, b.adx(), "{b:?}");
        }
    }
}
