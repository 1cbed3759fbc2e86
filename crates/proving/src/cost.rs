//! A circuit's memory cost: what its load holds and its proofs peak at, from formulas
//! calibrated on measured peaks until its own were measured. The service's budget
//! (`service::budget`) reserves these numbers; it knows nothing of circuits itself.
use std::collections::HashMap;
use std::sync::Mutex;

/// What a circuit looks like to the estimates.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub k: u8,
    pub rows: usize,
    /// Advice, fixed and instance columns of the constraint system.
    pub columns: usize,
}

/// Measured sizes of one circuit, from which its next proof's reservation is made.
#[derive(Debug, Clone, Copy, Default)]
pub struct Measured {
    /// Highest peak of a proof that ran alone: exact.
    pub solo_peak: Option<u64>,
    /// Highest peak of any proof, overlapping ones included: an upper bound.
    pub any_peak: Option<u64>,
}

impl Measured {
    pub fn record(&mut self, peak: u64, solo: bool) {
        let max = |old: Option<u64>| Some(old.unwrap_or(0).max(peak));
        self.any_peak = max(self.any_peak);
        if solo {
            self.solo_peak = max(self.solo_peak);
        }
    }

    /// The reservation for a proof of a loaded circuit: the exact peak when one was measured
    /// alone, else the upper bound from overlapping proofs, else the formula.
    pub fn proof_need(&self, shape: Shape) -> u64 {
        self.solo_peak.or(self.any_peak).unwrap_or_else(|| peak_formula(shape))
    }
}

/// Peak heap of one proof from the circuit's shape, before any was measured.
///
/// Proving holds every column as a polynomial over the 2^k rows, in several forms (values,
/// coefficients, cosets of the extended domain), so the peak grows with columns × 2^k.
/// Calibrated on measured peaks, see `PEAK_BYTES_PER_CELL`.
pub fn peak_formula(shape: Shape) -> u64 {
    let rows = shape.rows.max(1).next_power_of_two().max(1 << shape.k) as u64;
    (rows * shape.columns.max(1) as u64) * PEAK_BYTES_PER_CELL
}

/// Bytes of proving peak per (column × row). Measured peaks over columns × 2^k: bench_k10
/// (29 columns) 92, bench_k13 (29) 90, zswap output (48, k=14) 81; rounded up.
pub const PEAK_BYTES_PER_CELL: u64 = 96;

/// Memory a circuit will hold once loaded, from its prover key's serialized size, before any
/// load was measured: the deserialized key keeps precomputed cosets (zswap output: 23.5 MiB
/// serialized, 147 MiB loaded: 6.3×; bench_k13 6.5×, bench_k10 6.6×).
pub fn load_formula(prover_key_bytes: u64) -> u64 {
    prover_key_bytes * 13 / 2
}

/// Peak of the first proof of a circuit not loaded yet, from its serialized key size (zswap
/// output: 61 MiB for 23.5 MiB serialized, 2.6×; bench_k13 3.0×, bench_k10 3.1×).
pub fn first_peak_formula(prover_key_bytes: u64) -> u64 {
    prover_key_bytes * 3
}

const MAX_FINGERPRINTS: usize = 4096;

/// What identifies a prover key's loaded size: (its serialized bytes, k, rows).
pub type Fingerprint = (u64, u8, usize);

/// Loaded sizes by key fingerprint, for the whole process: midnight's own cache of
/// deserialized prover keys makes a second load of the same key allocate almost nothing, yet
/// that key is just as much in memory; so a load counts at least what the first one measured.
pub fn loaded_size(fingerprint: Fingerprint, measured: u64) -> u64 {
    static KNOWN: Mutex<Option<HashMap<Fingerprint, u64>>> = Mutex::new(None);
    let mut known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
    let known = known.get_or_insert_with(HashMap::new);
    // Bounded: a server that sees endless distinct key material forgets old fingerprints (a
    // forgotten one only means a reload counts what it measures).
    if known.len() >= MAX_FINGERPRINTS && !known.contains_key(&fingerprint) {
        known.clear();
    }
    let size = known.entry(fingerprint).or_insert(0);
    *size = (*size).max(measured);
    *size
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_prefer_what_was_measured_alone() {
        let shape = Shape { k: 10, rows: 900, columns: 4 };
        let mut m = Measured::default();
        assert_eq!(m.proof_need(shape), 1024 * 4 * PEAK_BYTES_PER_CELL);
        m.record(500, false);
        assert_eq!(m.proof_need(shape), 500);
        m.record(300, true);
        m.record(900, false);
        assert_eq!(m.proof_need(shape), 300);
        assert_eq!(loaded_size((1, 2, 3), 50), 50);
        assert_eq!(loaded_size((1, 2, 3), 1), 50, "a cached second load counts the first one's size");
    }
}
