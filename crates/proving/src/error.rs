//! Typed errors with stable codes. The binding hands `code` to napi as the error's status, so
//! JS receives it as `error.code` without parsing any text.
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidOptions,
    InvalidArgument,
    CircuitNotFound,
    InvalidCircuitId,
    InvalidWitness,
    WitnessUnsatisfied,
    KeyCorrupt,
    InvalidIr,
    ParamsNotFound,
    ProofFailed,
    ProverClosed,
    ProverPanic,
    ProverOverloaded,
    ProofTimeout,
    Aborted,
    KeyMismatch,
    KeyCacheUnwritable,
    ParamsMismatch,
    MemoryLimitExceeded,
}

impl ErrorCode {
    /// Every code, in the order the README's Errors table lists them: the one list that
    /// `errorCodes()`, index.d.ts and the README are checked against.
    pub const ALL: [ErrorCode; 19] = [
        ErrorCode::InvalidOptions,
        ErrorCode::InvalidArgument,
        ErrorCode::CircuitNotFound,
        ErrorCode::InvalidCircuitId,
        ErrorCode::InvalidWitness,
        ErrorCode::WitnessUnsatisfied,
        ErrorCode::KeyCorrupt,
        ErrorCode::InvalidIr,
        ErrorCode::ParamsNotFound,
        ErrorCode::ProofFailed,
        ErrorCode::ProverClosed,
        ErrorCode::ProverPanic,
        ErrorCode::ProverOverloaded,
        ErrorCode::ProofTimeout,
        ErrorCode::Aborted,
        ErrorCode::KeyMismatch,
        ErrorCode::KeyCacheUnwritable,
        ErrorCode::ParamsMismatch,
        ErrorCode::MemoryLimitExceeded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidOptions => "INVALID_OPTIONS",
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::CircuitNotFound => "CIRCUIT_NOT_FOUND",
            ErrorCode::InvalidCircuitId => "INVALID_CIRCUIT_ID",
            ErrorCode::InvalidWitness => "INVALID_WITNESS",
            ErrorCode::WitnessUnsatisfied => "WITNESS_UNSATISFIED",
            ErrorCode::KeyCorrupt => "KEY_CORRUPT",
            ErrorCode::InvalidIr => "INVALID_IR",
            ErrorCode::ParamsNotFound => "PARAMS_NOT_FOUND",
            ErrorCode::ProofFailed => "PROOF_FAILED",
            ErrorCode::ProverClosed => "PROVER_CLOSED",
            ErrorCode::ProverPanic => "PROVER_PANIC",
            ErrorCode::ProverOverloaded => "PROVER_OVERLOADED",
            ErrorCode::ProofTimeout => "PROOF_TIMEOUT",
            ErrorCode::Aborted => "ABORT_ERR",
            ErrorCode::KeyMismatch => "KEY_MISMATCH",
            ErrorCode::KeyCacheUnwritable => "KEY_CACHE_UNWRITABLE",
            ErrorCode::ParamsMismatch => "PARAMS_MISMATCH",
            ErrorCode::MemoryLimitExceeded => "MEMORY_LIMIT_EXCEEDED",
        }
    }
}

/// The code as JS sees it in `error.code` (napi sets it from the error's status text).
impl AsRef<str> for ErrorCode {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProverError {
    pub code: ErrorCode,
    pub message: String,
}

impl ProverError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ProverError { code, message: message.into() }
    }

    /// The same error, its message opened with what it is about (a file's name).
    pub fn about(self, what: &str) -> Self {
        ProverError { code: self.code, message: format!("{what}: {}", self.message) }
    }
}

impl fmt::Display for ProverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for ProverError {}

pub type Result<T> = std::result::Result<T, ProverError>;

/// Shorthand for building an error result.
pub fn fail<T>(code: ErrorCode, message: impl Into<String>) -> Result<T> {
    Err(ProverError::new(code, message))
}

/// Attaches a code to any foreign error, keeping its full cause chain in the message.
pub trait WithCode<T> {
    fn code(self, code: ErrorCode, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: fmt::Display> WithCode<T> for std::result::Result<T, E> {
    fn code(self, code: ErrorCode, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| ProverError::new(code, format!("{}: {e:#}", context())))
    }
}

/// Runs upstream code that may panic on input no check can rule out, turning a panic into `code`
/// with `what` and the panic's text as the message.
pub fn unwind_as<T>(code: ErrorCode, what: impl FnOnce() -> String, f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|p| Err(ProverError::new(code, format!("{}: {}", what(), panic_text(&p)))))
}

/// The text of a caught panic, for error messages.
pub fn panic_text(payload: &Box<dyn std::any::Any + Send>) -> String {
    payload.downcast_ref::<String>().cloned().or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_else(|| "panic".into())
}

/// A panic anywhere below becomes a PROVER_PANIC error instead of unwinding into Node.
pub fn guarded<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    unwind_as(ErrorCode::ProverPanic, || "the prover panicked".into(), f)
}
