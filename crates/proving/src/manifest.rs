//! The Compact compiler's `compiler/contract-manifest.json`: the size and SHA-256 of every file
//! it wrote, as `{"manifest-version": "1", "keys": {"<c>.verifier": {"type": "file", "size": n,
//! "hash": "<64 lowercase hex>"}, …}, …}`. The proof server registers a contract's circuits by
//! the verifier hashes it lists; where a directory has one, so do we, and a file the manifest
//! does not list is hashed instead. Either way the verifier key a proof loads is hashed again and
//! must match the location's `vk`, so a stale manifest can refuse a location but never lend one
//! another circuit's keys.
use super::files::lower_hex_32;
use std::io::Read;
use std::path::Path;

const PATH: &str = "compiler/contract-manifest.json";
/// Compact writes a few kB; anything past this is not a manifest we read.
const MAX_BYTES: u64 = 1 << 20;

/// Where a directory's manifest lives.
pub fn path(dir: &Path) -> std::path::PathBuf {
    dir.join(PATH)
}

/// The SHA-256 the manifest in `dir` lists for `keys/<circuit>.verifier`; `None` when there is
/// no readable version-1 manifest or it does not list that file.
pub fn verifier_hash(dir: &Path, circuit: &str) -> Option<[u8; 32]> {
    let mut text = Vec::new();
    std::fs::File::open(path(dir)).ok()?.take(MAX_BYTES + 1).read_to_end(&mut text).ok()?;
    if text.len() as u64 > MAX_BYTES {
        return None;
    }
    let manifest: serde_json::Value = serde_json::from_slice(&text).ok()?;
    if manifest.get("manifest-version")?.as_str()? != "1" {
        return None;
    }
    let entry = manifest.get("keys")?.get(format!("{circuit}.verifier"))?;
    if entry.get("type")?.as_str()? != "file" {
        return None;
    }
    lower_hex_32(entry.get("hash")?.as_str()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(manifest: &[u8]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("mnp-manifest-{}-{}", std::process::id(), rand::random::<u32>()));
        std::fs::create_dir_all(dir.join("compiler")).unwrap();
        std::fs::write(path(&dir), manifest).unwrap();
        dir
    }

    #[test]
    fn reads_the_verifier_hash_of_a_version_1_manifest_and_nothing_else() {
        let hash = "ab".repeat(32);
        let good = format!(r#"{{"manifest-version":"1","keys":{{"type":"directory","c.verifier":{{"type":"file","size":3,"hash":"{hash}"}}}}}}"#);
        assert_eq!(verifier_hash(&dir_with(good.as_bytes()), "c"), Some([0xab; 32]));
        assert_eq!(verifier_hash(&dir_with(good.as_bytes()), "d"), None);
        for bad in [
            good.replace(r#""1""#, "1"),
            good.replace(r#""1""#, r#""2""#),
            good.replace(&hash, &hash.to_uppercase()),
            good.replace(&hash, &hash[2..]),
            good.replace(r#""type":"file""#, r#""type":"directory""#),
            good[..good.len() - 1].to_owned(),
            format!("{good}{}", " ".repeat(MAX_BYTES as usize)),
        ] {
            assert_eq!(verifier_hash(&dir_with(bad.as_bytes()), "c"), None, "{}", &bad[..bad.len().min(120)]);
        }
        assert_eq!(verifier_hash(Path::new("/nonexistent"), "c"), None);
    }
}
