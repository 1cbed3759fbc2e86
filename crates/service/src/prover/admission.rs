//! The prover's side of the memory budget: what a proof reserves, what a load holds, and the
//! evictions that make room. The budget itself (budget.rs) knows nothing of circuits.
use super::{CircuitRef, Prover, MAX_LOADED_CIRCUITS};
use crate::budget::Reservation;
use crate::scheduler::CancelHandle;
use kernels::sync::lock;
use proving::circuit::{gzip_isize, prover_key_size, Circuit};
use proving::cost::{self, Shape};
use proving::error::Result;
use proving::key_map::KeyMap;
use proving::memory;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;

impl Prover {
    /// Runs a circuit load on the pool; its memory counts as held in the budget from then on.
    pub(super) fn held_load(&self, load: impl FnOnce() -> Result<Circuit> + Send) -> Result<Circuit> {
        let before = memory::live_bytes();
        let circuit = self.scheduler.install(load)??;
        // A mapped key counts in full, as if private: the budget holds even where no other
        // process shares its pages (see docs/memory.md).
        let mapped = circuit.key_map.as_ref().map_or(0, KeyMap::bytes);
        let measured = memory::live_bytes().saturating_sub(before) + mapped;
        let held = cost::loaded_size((circuit.prover_key_bytes, circuit.k, circuit.rows), measured);
        self.budget.hold(held);
        circuit.load_bytes.store(held, SeqCst);
        Ok(circuit)
    }

    /// Evicts idle circuits while more than `MAX_LOADED_CIRCUITS` are loaded or held memory is
    /// past the cache limit. A circuit in use is not idle: the one its caller just loaded, or
    /// whose parameters it just held, stays.
    pub(super) fn trim(&self) {
        while (self.keys.len() > MAX_LOADED_CIRCUITS || self.budget.held() > self.cache_limit_bytes) && self.evict_one(None) {}
    }

    /// Evicts the least recently used idle circuit other than `keep`, giving its held memory
    /// back to the budget. False when no circuit is idle.
    pub(super) fn evict_one(&self, keep: Option<&str>) -> bool {
        let Some(circuit) = self.keys.evict_idle(keep) else { return false };
        self.budget.release(circuit.load_bytes.load(SeqCst));
        self.evictions.fetch_add(1, SeqCst);
        drop(circuit);
        memory::release_free_memory();
        true
    }

    /// The parameters for `k`; the first time this prover needs them they count as held. No
    /// lock is held while they load, so proofs of other k never wait for this one.
    pub(super) fn params_for(&self, k: u8) -> Result<()> {
        if lock(&self.params_held).contains(&k) {
            return Ok(());
        }
        let before = memory::live_bytes();
        // On the pool: the embedded SRS decodes its points in parallel.
        let params = self.scheduler.install(|| self.params.get(k))??;
        // The MSM engine's tables count with the parameters they serve; the fixed-base ones may
        // take an eighth of the memory limit, or of the machine's memory when there is none.
        let fixed_budget = self.memory_limit_bytes.unwrap_or_else(memory::physical_bytes) / 8;
        let mapped = self.scheduler.install(|| proving::engines::prepare_msm(&params.prover.0, fixed_budget, Some(&self.key_cache_dir)))?;
        let mut held = lock(&self.params_held);
        if !held.contains(&k) {
            // Parameters are shared by the process (k <= 14) or loaded once: the same
            // fingerprint scheme as keys keeps a second prover from counting them as free.
            let bytes = cost::loaded_size((0, k, 0), memory::live_bytes().saturating_sub(before) + mapped);
            self.budget.hold(bytes);
            held.push(k);
        }
        drop(held);
        // New parameters may take held memory past the cache limit, as a key's load may.
        self.trim();
        Ok(())
    }

    /// Waits, on the driver thread, until the proof's memory fits in the budget, evicting idle
    /// circuits (never the one it needs) to make room.
    pub(super) fn admit(&self, circuit: &CircuitRef, key: &str, cancel: &CancelHandle) -> Result<Reservation> {
        let need = self.proof_need(circuit, key);
        self.budget.reserve(circuit.label(), need, cancel, &|| self.evict_one(Some(key))).map_err(|denied| denied.into_error(circuit.label()))
    }

    /// What a proof reserves: its peak, plus the load for a circuit not loaded yet. An id that
    /// names no circuit needs nothing; proving it fails as usual.
    pub(super) fn proof_need(&self, circuit: &CircuitRef, key: &str) -> u64 {
        if let Some(loaded) = self.keys.peek(key) {
            return loaded_need(&loaded);
        }
        let key_bytes = match circuit {
            CircuitRef::Material { prover, .. } => Some(gzip_isize(prover)),
            CircuitRef::Id(id) => self.keys.prover_file(id, &self.key_cache_dir).and_then(|path| prover_key_size(&path)),
        };
        key_bytes.map_or(0, |bytes| cost::load_formula(bytes) + cost::first_peak_formula(bytes))
    }

    /// Loads what the proof needs and lowers its reservation to the proof's own peak, now that
    /// the load is held memory.
    pub(super) fn load_reserved(&self, circuit: &CircuitRef, key: &str, reservation: &Reservation) -> Result<Arc<Circuit>> {
        let circuit = self.resolve(circuit, key)?;
        self.params_for(circuit.k)?;
        reservation.shrink_to(loaded_need(&circuit));
        Ok(circuit)
    }
}

/// What a proof of a loaded circuit reserves.
pub(super) fn loaded_need(circuit: &Circuit) -> u64 {
    lock(&circuit.measured).proof_need(shape(circuit))
}

pub(super) fn shape(c: &Circuit) -> Shape {
    let columns = c.prover_key.init().map(|pk| {
        let cs = pk.pk().get_vk().cs();
        cs.num_advice_columns() + cs.num_fixed_columns() + cs.num_instance_columns()
    });
    Shape { k: c.k, rows: c.rows, columns: columns.unwrap_or(1) }
}
