//! Where circuits come from: Compact output directories searched in order, the ledger's built-in
//! circuits, or key material handed in by the caller; each loaded once.
use super::builtin::{self, BuiltinData};
use super::circuit::{Circuit, CircuitFiles};
use super::error::{fail, ErrorCode, ProverError, Result};
use super::files::hex;
use super::location::{self, Location};
use super::manifest;
use kernels::sync::lock;
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

type Slot = Arc<Mutex<Option<Arc<Circuit>>>>;

struct Entry {
    slot: Slot,
    /// Tick of the last lookup: the least recent idle entry is evicted first.
    last_used: u64,
}

/// Loaded circuits, least recently used evicted first (see `evict_idle`).
pub struct KeyStore {
    dirs: Vec<PathBuf>,
    /// Keyed by circuit id, or by `sha256:<hex>` of caller-supplied key material (no id has a ':').
    entries: Mutex<HashMap<String, Entry>>,
    tick: AtomicU64,
}

/// Where a circuit id's files are to be found.
pub enum Source {
    Files(CircuitFiles),
    Builtin(&'static BuiltinData),
}

impl KeyStore {
    pub fn new(dirs: Vec<PathBuf>) -> Self {
        KeyStore { dirs, entries: Mutex::new(HashMap::new()), tick: AtomicU64::new(0) }
    }

    /// The circuit at a key location, loading it with `load(id, source)` on first use.
    /// Concurrent first uses wait on one load, so callers must not be pool workers; a failed
    /// load leaves nothing behind, so fixing the files on disk fixes the next call. A contract
    /// location loads only a circuit whose verifier key hashes to its `vk` (`KEY_MISMATCH`).
    pub fn get(&self, location: &str, load: impl FnOnce(&str, Source) -> Result<Circuit>) -> Result<Arc<Circuit>> {
        let parsed = location::parse(location)?;
        if let Location::Id(id) = parsed {
            validate_id(id)?;
        }
        self.get_or_load(&parsed.store_key(), || {
            let (id, source) = self.source(&parsed)?;
            let loaded = load(id, source)?;
            if let Location::Contract { circuit, vk } = parsed {
                // The file may have changed since `locate_contract` hashed it.
                expect_vk(&loaded.verifier_sha256, &vk, circuit, "the loaded verifier key")?;
            }
            Ok(loaded)
        })
    }

    /// Where the circuit at a location comes from, and its id.
    pub fn source<'l>(&self, location: &Location<'l>) -> Result<(&'l str, Source)> {
        match *location {
            Location::Id(id) => {
                validate_id(id)?;
                let source = match builtin::find(id) {
                    Some(data) => Source::Builtin(data),
                    None => Source::Files(self.locate(id)?),
                };
                Ok((id, source))
            }
            Location::Contract { circuit, vk } => Ok((circuit, Source::Files(self.locate_contract(circuit, &vk)?))),
        }
    }

    /// The store's key for a key location (see `Location::store_key`); a malformed one is its
    /// own key, and fails when it is looked up.
    pub fn store_key(location: &str) -> String {
        location::parse(location).map_or_else(|_| location.to_owned(), |l| l.store_key())
    }

    /// A circuit built from key material, under `material_key(content hash)`.
    pub fn get_material(&self, key: &str, load: impl FnOnce() -> Result<Circuit>) -> Result<Arc<Circuit>> {
        self.get_or_load(key, load)
    }

    fn get_or_load(&self, key: &str, load: impl FnOnce() -> Result<Circuit>) -> Result<Arc<Circuit>> {
        let slot = {
            let mut entries = lock(&self.entries);
            let last_used = self.tick.fetch_add(1, SeqCst);
            let entry = entries.entry(key.to_owned()).or_insert_with(|| Entry { slot: Slot::default(), last_used });
            entry.last_used = last_used;
            entry.slot.clone()
        };
        let mut guard = lock(&slot);
        if let Some(circuit) = guard.as_ref() {
            return Ok(circuit.clone());
        }
        match load() {
            Ok(circuit) => {
                let circuit = Arc::new(circuit);
                *guard = Some(circuit.clone());
                Ok(circuit)
            }
            Err(e) => {
                drop(guard);
                self.forget_failed(key, &slot);
                Err(e)
            }
        }
    }

    /// Removes the entry of a failed load, unless another caller is about to try the slot.
    fn forget_failed(&self, key: &str, slot: &Slot) {
        let mut entries = lock(&self.entries);
        let unused = entries.get(key).is_some_and(|e| Arc::ptr_eq(&e.slot, slot) && Arc::strong_count(slot) == 2);
        if unused && lock(slot).is_none() {
            entries.remove(key);
        }
    }

    /// The circuit under `key` if it is loaded (without loading it or waiting for a load).
    pub fn peek(&self, key: &str) -> Option<Arc<Circuit>> {
        let slot = lock(&self.entries).get(key)?.slot.clone();
        let circuit = slot.try_lock().ok()?.clone();
        circuit
    }

    /// Loaded circuits, by id.
    pub fn loaded(&self) -> Vec<Arc<Circuit>> {
        let slots: Vec<Slot> = lock(&self.entries).values().map(|e| e.slot.clone()).collect();
        let mut loaded: Vec<Arc<Circuit>> = slots.iter().filter_map(|s| s.try_lock().ok().and_then(|g| g.clone())).collect();
        loaded.sort_by(|a, b| a.id.cmp(&b.id));
        loaded
    }

    /// Entries, loaded or being loaded.
    pub fn len(&self) -> usize {
        lock(&self.entries).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes the least recently used circuit that nothing uses: no proof, check or load holds
    /// it (its only reference is the store's), and it is not `keep`. The caller drops it, which
    /// frees its memory.
    pub fn evict_idle(&self, keep: Option<&str>) -> Option<Arc<Circuit>> {
        let mut entries = lock(&self.entries);
        let idle = |e: &Entry| -> Option<Arc<Circuit>> {
            if Arc::strong_count(&e.slot) != 1 {
                return None;
            }
            let circuit = e.slot.try_lock().ok()?.clone()?;
            // Ours here, and the slot's.
            (Arc::strong_count(&circuit) == 2).then_some(circuit)
        };
        let (key, _) = entries.iter().filter(|(k, e)| Some(k.as_str()) != keep && idle(e).is_some()).min_by_key(|(_, e)| e.last_used)?;
        let key = key.clone();
        let entry = entries.remove(&key)?;
        drop(entries);
        let circuit = lock(&entry.slot).take();
        circuit
    }

    /// Removes `circuit` from the store whoever still uses it (they keep their reference), so
    /// that the next lookup loads it again. True if it was there.
    pub fn withdraw(&self, circuit: &Arc<Circuit>) -> bool {
        let mut entries = lock(&self.entries);
        let held = |e: &Entry| e.slot.try_lock().ok().and_then(|g| g.clone()).is_some_and(|c| Arc::ptr_eq(&c, circuit));
        let Some(key) = entries.iter().find(|(_, e)| held(e)).map(|(k, _)| k.clone()) else { return false };
        entries.remove(&key).is_some()
    }

    /// Drops every loaded circuit.
    pub fn clear(&self) {
        lock(&self.entries).clear();
    }

    /// Ids that have a prover key in some directory, and the built-in circuits, loaded or not.
    pub fn available(&self) -> Vec<String> {
        let mut ids: BTreeSet<String> = builtin::BUILTINS.iter().map(|b| b.location.to_owned()).collect();
        for dir in &self.dirs {
            let Ok(entries) = std::fs::read_dir(dir.join("keys")) else { continue };
            for name in entries.filter_map(|e| e.ok()).map(|e| e.file_name()) {
                if let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".prover")) {
                    ids.insert(id.to_owned());
                }
            }
        }
        ids.into_iter().collect()
    }

    /// The prover key file `get` would load for `id`, if there is one (a built-in's lives in
    /// `key_cache` once derived).
    pub fn prover_file(&self, id: &str, key_cache: &std::path::Path) -> Option<PathBuf> {
        validate_id(id).ok()?;
        match builtin::find(id) {
            Some(data) => Some(builtin::files(data, key_cache).prover),
            None => self.locate(id).ok().map(|files| files.prover),
        }
    }

    /// The files of a contract location: the first key directory whose `keys/<circuit>.verifier`
    /// hashes to `vk`, by the directory's contract manifest where it lists the file. Directories may hold circuits of the same name for other contracts;
    /// when some hold the circuit and none matches, the answer is `KEY_MISMATCH`.
    pub fn locate_contract(&self, circuit: &str, vk: &[u8; 32]) -> Result<CircuitFiles> {
        validate_id(circuit)?;
        let mut others = Vec::new();
        for dir in &self.dirs {
            let files = CircuitFiles::in_dir(dir, circuit);
            if !files.prover.is_file() {
                continue;
            }
            let (hash, from) = match manifest::verifier_hash(dir, circuit) {
                Some(listed) => (Some(listed), manifest::path(dir)),
                None => (verifier_hash(&files), files.verifier.clone()),
            };
            if hash.as_ref() == Some(vk) {
                return Ok(files);
            }
            others.push(format!("{} ({})", from.display(), hash.map_or("unreadable".into(), |h| hex(&h))));
        }
        if others.is_empty() {
            // `locate`'s error says whether the IR is there without a key; a key appearing
            // since is still not found this time.
            let gone = || ProverError::new(ErrorCode::CircuitNotFound, format!("circuit {circuit:?} has no prover key"));
            return Err(self.locate(circuit).err().unwrap_or_else(gone));
        }
        fail(ErrorCode::KeyMismatch, format!("no verifier key of {circuit:?} hashes to vk={}: found {}; nothing is proved", hex(vk), others.join(", ")))
    }

    fn locate(&self, id: &str) -> Result<CircuitFiles> {
        let found = self.dirs.iter().map(|d| (d, CircuitFiles::in_dir(d, id))).find(|(_, f)| f.prover.is_file() || f.ir.is_file());
        match found {
            Some((_, files)) if files.prover.is_file() => Ok(files),
            Some((dir, _)) => fail(
                ErrorCode::CircuitNotFound,
                format!(
                    "circuit {id:?} has IR in {} but no prover key keys/{id}.prover (run `midnight-native-prover keygen {}`)",
                    dir.display(),
                    dir.display()
                ),
            ),
            None => {
                let dirs: Vec<String> = self.dirs.iter().map(|d| d.display().to_string()).collect();
                fail(ErrorCode::CircuitNotFound, format!("circuit {id:?} not found in [{}]", dirs.join(", ")))
            }
        }
    }
}

/// SHA-256 of a circuit's verifier key file, as a contract location's `vk` names it.
fn verifier_hash(files: &CircuitFiles) -> Option<[u8; 32]> {
    std::fs::read(&files.verifier).ok().map(|bytes| Sha256::digest(&bytes).into())
}

/// `KEY_MISMATCH` unless a verifier key's hash is the `vk` its location asked for.
pub fn expect_vk(actual: &[u8; 32], vk: &[u8; 32], circuit: &str, what: &str) -> Result<()> {
    if actual == vk {
        return Ok(());
    }
    fail(ErrorCode::KeyMismatch, format!("{what} of {circuit:?} hashes to {}, not vk={}; nothing is proved", hex(actual), hex(vk)))
}

/// A circuit id names files in the key directories, so it must be one plain file-name segment,
/// unless it is a built-in circuit's key location.
pub fn validate_id(id: &str) -> Result<()> {
    let plain = builtin::find(id).is_some()
        || !id.is_empty() && id.len() <= 255 && !id.starts_with('.') && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '$'));
    if plain {
        Ok(())
    } else {
        fail(ErrorCode::InvalidCircuitId, format!("{id:?} is not a circuit id (letters, digits, _ - . $; no path separators)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_cannot_escape_the_key_directory() {
        for bad in ["", "../x", "a/b", ".hidden", "..", "a\\b", "x\0y", "midnight/zswap/../../x", "midnight/zswap/unknown"] {
            assert_eq!(validate_id(bad).unwrap_err().code, ErrorCode::InvalidCircuitId, "{bad:?}");
        }
        for good in ["transfer", "_move", "balance_of-2", "a.b", "$x", "midnight/zswap/output", "midnight/dust/spend"] {
            validate_id(good).unwrap();
        }
    }

    #[test]
    fn unknown_circuit_is_not_found() {
        let store = KeyStore::new(vec![PathBuf::from("/nonexistent")]);
        let load = |_: &str, source: Source| match source {
            Source::Files(files) => Circuit::load("nope", &files, None),
            Source::Builtin(_) => unreachable!("not a built-in"),
        };
        assert_eq!(store.get("nope", load).err().unwrap().code, ErrorCode::CircuitNotFound);
    }
}
