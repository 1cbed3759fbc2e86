//! Where circuits come from: Compact output directories searched in order, the ledger's built-in
//! circuits, or key material handed in by the caller; each loaded once.
use super::builtin::{self, BuiltinData};
use super::circuit::{Circuit, CircuitFiles};
use super::error::{fail, ErrorCode, Result};
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

type Slot = Arc<Mutex<Option<Arc<Circuit>>>>;

pub struct KeyStore {
    dirs: Vec<PathBuf>,
    /// Keyed by circuit id, or by `sha256:<hex>` of caller-supplied key material (no id has a ':').
    slots: Mutex<HashMap<String, Slot>>,
}

/// Where a circuit id's files are to be found.
pub enum Source {
    Files(CircuitFiles),
    Builtin(&'static BuiltinData),
}

impl KeyStore {
    pub fn new(dirs: Vec<PathBuf>) -> Self {
        KeyStore { dirs, slots: Mutex::new(HashMap::new()) }
    }

    /// The loaded circuit, loading it with `load` on first use. Concurrent first uses wait on
    /// one load, so callers must not be pool workers; a failed load is not remembered, so fixing
    /// the files on disk fixes the next call.
    pub fn get(&self, id: &str, load: impl FnOnce(Source) -> Result<Circuit>) -> Result<Arc<Circuit>> {
        validate_id(id)?;
        self.get_or_load(id.to_owned(), || match builtin::find(id) {
            Some(data) => load(Source::Builtin(data)),
            None => load(Source::Files(self.locate(id)?)),
        })
    }

    /// A circuit built from key material, cached by the material's content hash.
    pub fn get_material(&self, content_hash: &str, load: impl FnOnce() -> Result<Circuit>) -> Result<Arc<Circuit>> {
        self.get_or_load(format!("sha256:{content_hash}"), load)
    }

    fn get_or_load(&self, key: String, load: impl FnOnce() -> Result<Circuit>) -> Result<Arc<Circuit>> {
        let slot = self.slots.lock().expect("slots lock").entry(key).or_default().clone();
        let mut guard = slot.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(circuit) = guard.as_ref() {
            return Ok(circuit.clone());
        }
        let circuit = Arc::new(load()?);
        *guard = Some(circuit.clone());
        Ok(circuit)
    }

    /// Loaded circuits, by id.
    pub fn loaded(&self) -> Vec<Arc<Circuit>> {
        let slots: Vec<Slot> = self.slots.lock().expect("slots lock").values().cloned().collect();
        let mut loaded: Vec<Arc<Circuit>> = slots
            .iter()
            .filter_map(|s| s.try_lock().ok().and_then(|g| g.clone()))
            .collect();
        loaded.sort_by(|a, b| a.id.cmp(&b.id));
        loaded
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

    /// Drops every loaded circuit.
    pub fn clear(&self) {
        self.slots.lock().expect("slots lock").clear();
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

    fn locate(&self, id: &str) -> Result<CircuitFiles> {
        let found = self.dirs.iter().map(|d| (d, CircuitFiles::in_dir(d, id))).find(|(_, f)| f.prover.is_file() || f.ir.is_file());
        match found {
            Some((_, files)) if files.prover.is_file() => Ok(files),
            Some((dir, _)) => fail(
                ErrorCode::CircuitNotFound,
                format!("circuit {id:?} has IR in {} but no prover key keys/{id}.prover (run `midnight-native-prover keygen {}`)", dir.display(), dir.display()),
            ),
            None => {
                let dirs: Vec<String> = self.dirs.iter().map(|d| d.display().to_string()).collect();
                fail(ErrorCode::CircuitNotFound, format!("circuit {id:?} not found in [{}]", dirs.join(", ")))
            }
        }
    }
}

/// A circuit id names files in the key directories, so it must be one plain file-name segment,
/// unless it is a built-in circuit's key location.
pub fn validate_id(id: &str) -> Result<()> {
    let plain = builtin::find(id).is_some()
        || !id.is_empty()
        && id.len() <= 255
        && !id.starts_with('.')
        && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '$'));
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
        let load = |source: Source| match source {
            Source::Files(files) => Circuit::load("nope", &files),
            Source::Builtin(_) => unreachable!("not a built-in"),
        };
        assert_eq!(store.get("nope", load).err().unwrap().code, ErrorCode::CircuitNotFound);
    }
}
