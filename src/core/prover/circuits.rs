//! Resolving a circuit reference to a loaded circuit: by id (key directories, built-ins) or
//! by the content of key material handed in.
use super::{CircuitRef, Prover};
use crate::core::builtin;
use crate::core::circuit::{Artifacts, Circuit};
use crate::core::error::Result;
use crate::core::keystore::Source;
use sha2::{Digest, Sha256};
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;

impl Prover {
    /// The circuit, loaded on first use with the pool's parallelism (built-ins derive their
    /// prover key first). Not for pool workers.
    pub(super) fn circuit(&self, circuit_id: &str) -> Result<Arc<Circuit>> {
        let circuit = self.keys.get(circuit_id, |source| {
            let files = match source {
                Source::Files(files) => files,
                Source::Builtin(data) => builtin::provision(data, &self.key_cache_dir, &self.params, |keygen| {
                    self.keys_derived.fetch_add(1, SeqCst);
                    self.scheduler.install(keygen)?
                })?,
            };
            self.held_load(|| Circuit::load(circuit_id, &files))
        })?;
        self.trim();
        Ok(circuit)
    }

    /// The key store's key for a circuit reference. Key material is keyed by its content,
    /// hashed here on the calling thread (a driver or task thread), so equal material is
    /// deserialized once however often it is handed in.
    pub(super) fn store_key(&self, circuit: &CircuitRef) -> String {
        let CircuitRef::Material { ir, prover, verifier, .. } = circuit else {
            return circuit.label().to_owned();
        };
        let mut hasher = Sha256::new();
        for part in [ir, prover, verifier] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(&part[..]);
        }
        format!("sha256:{}", crate::core::files::hex(&hasher.finalize()))
    }

    /// Resolves a circuit reference, loading it on first use.
    pub(super) fn loaded(&self, circuit: &CircuitRef) -> Result<Arc<Circuit>> {
        self.resolve(circuit, &self.store_key(circuit))
    }

    /// Resolves a circuit reference whose store key is `key`.
    pub(super) fn resolve(&self, circuit: &CircuitRef, key: &str) -> Result<Arc<Circuit>> {
        let CircuitRef::Material { location, ir, prover, verifier } = circuit else {
            return self.circuit(circuit.label());
        };
        let loaded = self.keys.get_material(key, || {
            let named = |what: &str| format!("{what} of the key material for {location:?}");
            let artifacts = Artifacts { ir: (&ir[..], named("IR")), prover: (&prover[..], named("prover key")), verifier: (&verifier[..], named("verifier key")) };
            self.held_load(|| Circuit::from_artifacts(location, artifacts))
        })?;
        self.trim();
        Ok(loaded)
    }
}
