//! Resolving a circuit reference to a loaded circuit: by id (key directories, built-ins) or
//! by the content of key material handed in.
use super::{CircuitRef, Prover};
use proving::builtin;
use proving::circuit::{Artifacts, Circuit, CircuitFiles, HashedKey, KeyMaterial};
use proving::error::{ErrorCode, Result};
use proving::files::read_file;
use proving::keystore::{expect_vk, KeyStore, Source};
use proving::location::{self, Location};
use sha2::{Digest, Sha256};
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;

impl Prover {
    /// The circuit at a key location, loaded on first use with the pool's parallelism
    /// (built-ins derive their prover key first). Not for pool workers.
    pub(super) fn circuit(&self, location: &str) -> Result<Arc<Circuit>> {
        let circuit = self.keys.get(location, |circuit_id, source| {
            let (files, prover) = self.files(source)?;
            self.held_load(|| Circuit::load_with(circuit_id, &files, prover.as_ref(), Some(&self.key_cache_dir)))
        })?;
        self.trim();
        Ok(circuit)
    }

    /// A circuit's files; a built-in's prover key is derived into the key cache first, and comes
    /// back read and checked against its official hash.
    fn files(&self, source: Source) -> Result<(CircuitFiles, Option<HashedKey>)> {
        match source {
            Source::Files(files) => Ok((files, None)),
            Source::Builtin(data) => builtin::provision(data, &self.key_cache_dir, &self.params, |keygen| {
                self.keys_derived.fetch_add(1, SeqCst);
                self.scheduler.install(keygen)?
            })
            .map(|(files, key)| (files, Some(key))),
        }
    }

    /// The key material at a location, as the ledger's `lookupKey` hands it over: the bytes of
    /// the files a proof would load (a built-in's prover key derived first). `None` when the
    /// location names no circuit, as the ledger expects of a location it may not know; a
    /// malformed contract location or a `vk` no verifier key matches is an error, as for a proof.
    pub fn key_material_now(&self, location: &str) -> Result<Option<KeyMaterial>> {
        let parsed = location::parse(location)?;
        let source = match self.keys.source(&parsed) {
            Err(e) if matches!(e.code, ErrorCode::CircuitNotFound | ErrorCode::InvalidCircuitId) => return Ok(None),
            found => found?.1,
        };
        let (files, prover) = self.files(source)?;
        let read = |path: &std::path::Path| read_file(path, ErrorCode::CircuitNotFound);
        let prover_key = match prover {
            Some(key) => key.bytes,
            None => read(&files.prover)?,
        };
        let material = KeyMaterial { prover_key, verifier_key: read(&files.verifier)?, ir: read(&files.ir)? };
        if let Location::Contract { circuit, vk } = parsed {
            expect_vk(&Sha256::digest(&material.verifier_key).into(), &vk, circuit, "the verifier key read")?;
        }
        Ok(Some(material))
    }

    /// The key store's key for a circuit reference. Key material is keyed by its content,
    /// hashed here on the calling thread (a driver or task thread), so equal material is
    /// deserialized once however often it is handed in.
    pub(super) fn store_key(&self, circuit: &CircuitRef) -> String {
        let CircuitRef::Material { ir, prover, verifier, .. } = circuit else {
            return KeyStore::store_key(circuit.label());
        };
        let mut hasher = Sha256::new();
        for part in [ir, prover, verifier] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(&part[..]);
        }
        format!("sha256:{}", proving::files::hex(&hasher.finalize()))
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
            let artifacts =
                Artifacts { ir: (&ir[..], named("IR")), prover: (&prover[..], named("prover key")), verifier: (&verifier[..], named("verifier key")) };
            self.held_load(|| Circuit::from_artifacts(location, artifacts, Some(&self.key_cache_dir)))
        })?;
        self.trim();
        Ok(loaded)
    }
}
