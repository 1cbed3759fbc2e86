//! Build script: napi linking plus the location of Midnight's embedded SRS.
//!
//! midnight-transient-crypto ships `static/bls_midnight_2p14` but keeps the bytes private, so we
//! embed the same file ourselves. Its SHA-256 is pinned (the value midnight-base-crypto's data
//! provider expects) so a wrong file can never be compiled in.
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

const SRS_FILE: &str = "bls_midnight_2p14";
const SRS_SHA256: &str = "fc253016885ec830e97808c9ec920bb5cab5c21af590380a6cb5eb0538e2b244";
const CRATE_DIR: &str = "midnight-transient-crypto-2.1.1";

fn main() {
    napi_build::setup();
    println!("cargo:rerun-if-env-changed=MIDNIGHT_SRS_2P14");
    let path = std::env::var_os("MIDNIGHT_SRS_2P14")
        .map(PathBuf::from)
        .or_else(find_in_registry)
        .or_else(find_with_cargo_metadata)
        .unwrap_or_else(|| panic!("cannot locate {CRATE_DIR}/static/{SRS_FILE}; set MIDNIGHT_SRS_2P14"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let digest = format!("{:x}", Sha256::digest(&bytes));
    assert_eq!(digest, SRS_SHA256, "{} is not Midnight's SRS", path.display());
    println!("cargo:rerun-if-changed={}", path.display());
    println!("cargo:rustc-env=MIDNIGHT_SRS_2P14={}", path.display());
}

/// The common case: the crate unpacked in `$CARGO_HOME/registry/src/<index>/`.
fn find_in_registry() -> Option<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))?;
    std::fs::read_dir(home.join("registry").join("src"))
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join(CRATE_DIR).join("static").join(SRS_FILE))
        .find(|p| p.is_file())
}

/// Vendored or otherwise relocated sources: ask cargo where the package lives.
fn find_with_cargo_metadata() -> Option<PathBuf> {
    let cargo = std::env::var_os("CARGO")?;
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline"])
        .current_dir(std::env::var_os("CARGO_MANIFEST_DIR")?)
        .output()
        .ok()?;
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    meta["packages"].as_array()?.iter().find_map(|p| {
        (p["name"] == "midnight-transient-crypto" && p["version"] == "2.1.1").then(|| {
            Path::new(p["manifest_path"].as_str()?).parent().map(|d| d.join("static").join(SRS_FILE))
        })?
    })
}
