//! Build script: the location of Midnight's embedded SRS, the parameters' pins, and the
//! ledger's built-in circuits.
//!
//! midnight-transient-crypto ships `static/bls_midnight_2p14` but keeps the bytes private, so we
//! embed the same file ourselves. Its SHA-256 is pinned (the value midnight-base-crypto's data
//! provider expects) so a wrong file can never be compiled in.
//!
//! midnight-zswap and midnight-ledger ship the IR, verifier key and the official prover key's
//! SHA-256 of each built-in circuit in `static/`. Their sources are fetched (never compiled) and
//! the files are embedded through `$OUT_DIR/builtin_data.rs`, each checked against its `.sha256`.
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

const SRS_FILE: &str = "bls_midnight_2p14";
const SRS_SHA256: &str = "fc253016885ec830e97808c9ec920bb5cab5c21af590380a6cb5eb0538e2b244";
const CRATE_DIR: &str = "midnight-transient-crypto-2.1.1";

fn main() {
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
    write_builtin_data();
    write_params_pins();
}

/// Midnight's pinned SHA-256 of each `bls_midnight_2p{k}`, as listed in midnight-base-crypto's
/// data provider (which keeps the table private), for parameters handed in as bytes.
fn write_params_pins() {
    let dir = crate_dir("midnight-base-crypto", "1.0.2").expect("cannot locate the sources of midnight-base-crypto 1.0.2");
    let source_file = dir.join("src").join("data_provider.rs");
    let source = std::fs::read_to_string(&source_file).expect("reading data_provider.rs");
    let mut pins = Vec::new();
    for (at, _) in source.match_indices("\"bls_midnight_2p") {
        let rest = &source[at + 16..];
        // Entries of the table; other mentions (a format string) have no number there.
        let Ok(k) = rest[..rest.find('"').expect("closing quote")].parse::<u8>() else { continue };
        let hash_at = rest.find("hexhash(b\"").expect("a hash follows the name") + 10;
        let hash = &rest[hash_at..hash_at + 64];
        assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()), "pin for k={k}");
        pins.push(format!("({k}, {hash:?})"));
    }
    assert!(pins.len() >= 26 && pins.iter().any(|p| p.contains(SRS_SHA256)), "parsed {} pins from {}", pins.len(), source_file.display());
    println!("cargo:rerun-if-changed={}", source_file.display());
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out.join("params_pins.rs"), format!("&[{}]", pins.join(", "))).expect("writing params_pins.rs");
}

/// (key location, crate, version, file stem inside the crate's `static/`).
const BUILTINS: [(&str, &str, &str, &str); 4] = [
    ("midnight/zswap/output", "midnight-zswap", "8.1.3", "output"),
    ("midnight/zswap/sign", "midnight-zswap", "8.1.3", "sign"),
    ("midnight/zswap/spend", "midnight-zswap", "8.1.3", "spend"),
    ("midnight/dust/spend", "midnight-ledger", "8.1.3", "dust/spend"),
];

fn write_builtin_data() {
    let mut table = String::from("&[\n");
    for (location, krate, version, stem) in BUILTINS {
        let dir = crate_dir(krate, version).unwrap_or_else(|| panic!("cannot locate the sources of {krate} {version}"));
        let file = |ext: &str| dir.join("static").join(format!("{stem}.{ext}"));
        let (ir, verifier) = (checked(&file("bzkir")), checked(&file("verifier")));
        table += &format!(
            "    BuiltinData {{ location: {location:?}, source: \"{krate} {version}\", ir: include_bytes!({ir:?}), verifier: include_bytes!({verifier:?}), prover_sha256: {:?} }},\n",
            pinned_sha(&file("prover.sha256")),
        );
    }
    table += "]";
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out.join("builtin_data.rs"), table).expect("writing builtin_data.rs");
}

/// The first field of a `sha256sum` line.
fn pinned_sha(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let hash = text.split_whitespace().next().unwrap_or_default().to_owned();
    assert!(hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()), "{} holds no SHA-256", path.display());
    println!("cargo:rerun-if-changed={}", path.display());
    hash
}

/// `path`, once its bytes match the `.sha256` beside it.
fn checked(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut pin = path.as_os_str().to_owned();
    pin.push(".sha256");
    assert_eq!(format!("{:x}", Sha256::digest(&bytes)), pinned_sha(Path::new(&pin)), "{} does not match its .sha256", path.display());
    path.display().to_string()
}

/// Where a package's sources are: unpacked in the registry, or else wherever `cargo metadata`
/// puts them. It downloads the sources of every package in the resolve it reports, so it is asked
/// with the feature that brings the ledger crates in (a build never downloads them).
fn crate_dir(name: &str, version: &str) -> Option<PathBuf> {
    registry_dirs().map(|d| d.join(format!("{name}-{version}"))).find(|d| d.is_dir()).or_else(|| {
        let meta = cargo_metadata(false)?;
        manifest_dir(&meta, name, version)
    })
}

/// The common case: the crate unpacked in `$CARGO_HOME/registry/src/<index>/`.
fn find_in_registry() -> Option<PathBuf> {
    registry_dirs().map(|d| d.join(CRATE_DIR).join("static").join(SRS_FILE)).find(|p| p.is_file())
}

fn registry_dirs() -> impl Iterator<Item = PathBuf> {
    let home = std::env::var_os("CARGO_HOME").map(PathBuf::from).or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")));
    home.and_then(|h| std::fs::read_dir(h.join("registry").join("src")).ok()).into_iter().flatten().filter_map(|e| e.ok().map(|e| e.path()))
}

/// Vendored or otherwise relocated sources: ask cargo where the package lives.
fn find_with_cargo_metadata() -> Option<PathBuf> {
    let meta = cargo_metadata(true)?;
    manifest_dir(&meta, "midnight-transient-crypto", "2.1.1").map(|d| d.join("static").join(SRS_FILE))
}

fn cargo_metadata(offline: bool) -> Option<serde_json::Value> {
    let mut command = Command::new(std::env::var_os("CARGO")?);
    command.args(["metadata", "--format-version", "1"]).current_dir(std::env::var_os("CARGO_MANIFEST_DIR")?);
    if offline {
        command.arg("--offline");
    } else {
        command.args(["--features", "ledger-circuit-sources"]);
    }
    serde_json::from_slice(&command.output().ok()?.stdout).ok()
}

fn manifest_dir(meta: &serde_json::Value, name: &str, version: &str) -> Option<PathBuf> {
    meta["packages"]
        .as_array()?
        .iter()
        .find_map(|p| (p["name"] == name && p["version"] == version).then(|| Path::new(p["manifest_path"].as_str()?).parent().map(Path::to_path_buf))?)
}
