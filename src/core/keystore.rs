//! Where circuits come from: Compact output directories, searched in order, loaded once per id.
use super::circuit::{Circuit, CircuitFiles};
use super::error::{fail, ErrorCode, Result};
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

type Slot = Arc<Mutex<Option<Arc<Circuit>>>>;

pub struct KeyStore {
    dirs: Vec<PathBuf>,
    slots: Mutex<HashMap<String, Slot>>,
}

impl KeyStore {
    pub fn new(dirs: Vec<PathBuf>) -> Self {
        KeyStore { dirs, slots: Mutex::new(HashMap::new()) }
    }

    /// The loaded circuit, loading it with `load` on first use. Concurrent first uses wait on
    /// one load, so callers must not be pool workers; a failed load is not remembered, so fixing
    /// the files on disk fixes the next call.
    pub fn get(&self, id: &str, load: impl FnOnce(&CircuitFiles) -> Result<Circuit>) -> Result<Arc<Circuit>> {
        validate_id(id)?;
        let slot = self.slots.lock().expect("slots lock").entry(id.to_owned()).or_default().clone();
        let mut guard = slot.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(circuit) = guard.as_ref() {
            return Ok(circuit.clone());
        }
        let circuit = Arc::new(load(&self.locate(id)?)?);
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

    /// Ids that have a prover key in some directory, whether loaded or not.
    pub fn available(&self) -> Vec<String> {
        let mut ids = BTreeSet::new();
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

/// A circuit id names files in the key directories, so it must be one plain file-name segment.
pub fn validate_id(id: &str) -> Result<()> {
    let plain = !id.is_empty()
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
        for bad in ["", "../x", "a/b", ".hidden", "..", "a\\b", "x\0y"] {
            assert_eq!(validate_id(bad).unwrap_err().code, ErrorCode::InvalidCircuitId, "{bad:?}");
        }
        for good in ["transfer", "_move", "balance_of-2", "a.b", "$x"] {
            validate_id(good).unwrap();
        }
    }

    #[test]
    fn unknown_circuit_is_not_found() {
        let store = KeyStore::new(vec![PathBuf::from("/nonexistent")]);
        let load = |files: &CircuitFiles| Circuit::load("nope", files);
        assert_eq!(store.get("nope", load).err().unwrap().code, ErrorCode::CircuitNotFound);
    }
}
