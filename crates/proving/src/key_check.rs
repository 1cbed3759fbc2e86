//! Reading untrusted prover and verifier keys without a panic or an unbounded allocation.
//!
//! A tagged `prover-key[v7]` is a gzip stream of `MidnightPK::write`: `max_bit_len`, `k`, the
//! circuit's IR, then the midnight-proofs proving key (a verifying key whose domain is `2^k` rows,
//! then polynomials, each a declared length followed by that many field elements). transient-crypto's
//! `ProverKey::init` inflates it with no limit and midnight-proofs sizes the domain (`2^k`
//! Lagrange polynomials) from the key's own `k`, asserting on polynomials of the wrong length. So
//! the key is read here instead: its header is checked against the circuit IR's k before anything
//! is sized by it, the inflated stream is capped at what a real key of that k can hold, and the
//! upstream reader runs under `catch_unwind`.
use super::error::panic_text;
use super::error::{fail, ErrorCode, ProverError, Result, WithCode};
use super::ir_check::{self, MAX_K};
use flate2::read::GzDecoder;
use midnight_curves::Fq;
use midnight_proofs::utils::SerdeFormat;
use midnight_zk_stdlib::MidnightPK;
use midnight_zkir::IrSource;
use serialize::{Deserializable, Tagged};
use std::borrow::Cow;
use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;
use transient_crypto::proofs::{ProverKey, VerifierKey};

/// The most polynomials of `2^k` field elements an inflated prover key may hold. The real keys
/// hold 27–47 (fixed columns plus permutation columns); 256 is over 5× that and still bounds a
/// gzip stream that inflates without end (a "zip bomb") to what a real key of that k could be.
pub const MAX_KEY_POLYNOMIALS: u64 = 256;

/// Room in an inflated prover key for what is not polynomials: the header, the embedded IR (at most
/// `ir_check::MAX_IR_BYTES`), commitments and length prefixes.
const KEY_HEADER_ROOM: u64 = ir_check::MAX_IR_BYTES as u64 + (1 << 20);

/// The pow2range table width the ZK standard library picks for a circuit lies in `8..25`
/// (`MidnightCircuit::new` tries exactly those).
const MAX_BIT_LEN: std::ops::RangeInclusive<u8> = 8..=24;

/// The raw bytes of a tagged key, read the way transient-crypto reads them (a length-prefixed byte
/// vector after the tag), so they can be inflated under a limit.
struct RawKey<T>(Vec<u8>, std::marker::PhantomData<T>);

impl<T> Deserializable for RawKey<T> {
    fn deserialize(reader: &mut impl Read, recursion_depth: u32) -> std::io::Result<Self> {
        let len = u64::from(<u32 as Deserializable>::deserialize(reader, recursion_depth)?);
        // In one read, where `Vec<u8>`'s deserializer reads a byte per call (8 ms of a 5.7 MB
        // key); the buffer grows as bytes arrive, so a declared length is never allocated unread.
        let mut bytes = Vec::new();
        reader.take(len).read_to_end(&mut bytes)?;
        if bytes.len() as u64 != len {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, format!("{} of {len} key bytes", bytes.len())));
        }
        Ok(RawKey(bytes, std::marker::PhantomData))
    }
}

impl<T: Tagged> Tagged for RawKey<T> {
    fn tag() -> Cow<'static, str> {
        T::tag()
    }
    fn tag_unique_factor() -> String {
        T::tag_unique_factor()
    }
}

/// Reads `n` bytes from `reader` and keeps a copy of what it read.
struct Recording<'a, R> {
    inner: &'a mut R,
    seen: Vec<u8>,
}

impl<R: Read> Read for Recording<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.seen.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

/// The largest inflated prover key of a circuit of size `2^k`.
pub fn inflated_limit(k: u8) -> u64 {
    MAX_KEY_POLYNOMIALS * 32 * (1u64 << k) + KEY_HEADER_ROOM
}

/// A tagged prover key for a circuit that needs `k` (from its validated IR), initialized.
/// `KEY_CORRUPT` naming `name` on anything malformed or for another k.
pub fn read_prover_key(bytes: &[u8], name: &str, k: u8) -> Result<ProverKey<IrSource>> {
    read_for_k(bytes, name, k, Tail::Checked)
}

/// `read_prover_key` with the polynomials a mapped key file holds for it (see `key_map`): only
/// the key's header, IR and verifying key are inflated and read. The rest of its gzip stream is
/// not checked: the key file's SHA-256 was, against the one it had when the polynomials were
/// computed from it.
pub fn read_prover_key_with(bytes: &[u8], name: &str, k: u8, polys: Vec<Vec<Fq>>) -> Result<ProverKey<IrSource>> {
    midnight_proofs::plonk::supplied::with(polys, || read_for_k(bytes, name, k, Tail::Unread))
}

fn read_for_k(bytes: &[u8], name: &str, k: u8, tail: Tail) -> Result<ProverKey<IrSource>> {
    match read_prover_key_from(bytes, name, &OnceLock::from(Some(k)), tail)? {
        KeyRead::Read { key, .. } => key,
        KeyRead::Deferred => fail(ErrorCode::KeyCorrupt, format!("{name}: not read")),
    }
}

/// Keys claiming a k above this are not read before the IR's k is known: what a read allocates
/// from the key's own k before a mismatch stops it (the domain's Lagrange cosets, 200 MB at
/// k = 18) stays bounded.
pub const MAX_SPECULATIVE_K: u8 = 18;

/// What `read_prover_key_beside` did.
pub enum KeyRead {
    /// The key read for the k its header claims: the key, or what was wrong with it. A caller
    /// that did not know the IR's k checks `k` first (`check_k`), so a key for another k is
    /// reported as that, whatever else is wrong with it.
    Read { key: Result<ProverKey<IrSource>>, k: u8 },
    /// Nothing yet: the key claims a k above `MAX_SPECULATIVE_K` and the IR's is not known.
    Deferred,
}

/// `read_prover_key` while the IR's cost model may still be working out its k beside it (the
/// two take about as long at k = 17): `ir_k` is set to the IR's k, or to `None` if the IR
/// failed. Until then the key is read for the k its header claims, within the bounds of that k;
/// every read from the key's stream looks at `ir_k` first and stops at a mismatch. `Err` only
/// for a key whose header cannot be read, or (with the IR's k known) is for another k.
pub fn read_prover_key_beside(bytes: &[u8], name: &str, ir_k: &OnceLock<Option<u8>>) -> Result<KeyRead> {
    read_prover_key_from(bytes, name, ir_k, Tail::Checked)
}

/// What becomes of a key's gzip stream after the proving key is read from it.
#[derive(Clone, Copy, PartialEq)]
enum Tail {
    /// Inflated to its end, which checks its CRC.
    Checked,
    /// Left: the polynomials came from elsewhere.
    Unread,
}

fn read_prover_key_from(bytes: &[u8], name: &str, ir_k: &OnceLock<Option<u8>>, tail: Tail) -> Result<KeyRead> {
    let corrupt = |why: String| ProverError::new(ErrorCode::KeyCorrupt, format!("{name}: {why}"));
    let RawKey(gz, _) = serialize::tagged_deserialize::<RawKey<ProverKey<IrSource>>>(&mut &bytes[..]).code(ErrorCode::KeyCorrupt, || name.to_owned())?;
    let mut inflated = GzDecoder::new(&gz[..]).take(2);
    let mut head = [0u8; 2];
    inflated.read_exact(&mut head).map_err(|e| corrupt(format!("no key header: {e}")))?;
    let k = head[1];
    match ir_k.get() {
        Some(&Some(needed)) => check_k(k, needed, name)?,
        _ if k > MAX_SPECULATIVE_K => return Ok(KeyRead::Deferred),
        _ => {}
    }
    Ok(KeyRead::Read { key: read_after_header(inflated, head, ir_k, &corrupt, tail), k })
}

/// The rest of a prover key whose header (`head`: range-table width, k) `inflated` has read.
fn read_after_header<R: Read>(
    mut inflated: std::io::Take<R>,
    head: [u8; 2],
    ir_k: &OnceLock<Option<u8>>,
    corrupt: &dyn Fn(String) -> ProverError,
    tail: Tail,
) -> Result<ProverKey<IrSource>> {
    let (max_bit_len, k) = (head[0], head[1]);
    if k > MAX_K {
        return Err(corrupt(format!("k={k} is more than the largest served (k={MAX_K})")));
    }
    if !MAX_BIT_LEN.contains(&max_bit_len) {
        return Err(corrupt(format!("has a range-table width of {max_bit_len} bits, outside {MAX_BIT_LEN:?}")));
    }
    inflated.set_limit(inflated_limit(k) - 2);
    let mut watched = Watched { inner: inflated, ir_k, k };
    let mut recording = Recording { inner: &mut watched, seen: head.to_vec() };
    // The key carries the IR it was made for; the proving key is configured from it, so it gets
    // the same checks as any IR (only the static ones: nothing here lays it out).
    let relation = catch_unwind(AssertUnwindSafe(|| <IrSource as Deserializable>::deserialize(&mut recording, 0)))
        .map_err(|p| corrupt(format!("its IR: {}", panic_text(&p))))?
        .map_err(|e| corrupt(format!("its IR: {e}")))?;
    ir_check::validate(&relation).map_err(|e| corrupt(format!("its IR: {}", e.message)))?;
    // The verifying key that follows carries its own k (after a version byte), and that k sizes
    // the domain: a key claiming k = 30 would allocate cosets of 2^33 elements and abort.
    let mut vk_head = [0u8; 2];
    recording.read_exact(&mut vk_head).map_err(|e| corrupt(format!("no verifying key: {e}")))?;
    if vk_head[1] != k {
        return Err(corrupt(format!("its verifying key is for k={}, but its header says k={k}", vk_head[1])));
    }
    let seen = recording.seen;
    let mut rest = (&seen[..]).chain(&mut watched);
    let read = catch_unwind(AssertUnwindSafe(|| MidnightPK::<IrSource>::read(&mut rest, SerdeFormat::RawBytesUnchecked)));
    let within_limit = |watched: &Watched<'_, std::io::Take<R>>| match watched.inner.limit() {
        0 => Err(corrupt(format!("inflates past {} bytes, more than a key for k={k} can hold", inflated_limit(k)))),
        _ => Ok(()),
    };
    within_limit(&watched)?;
    let pk = read.map_err(|p| corrupt(format!("malformed proving key: {}", panic_text(&p))))?.map_err(|e| corrupt(format!("{e}")))?;
    // Reading on to the end of the gzip stream checks its CRC, which the key reader, stopping at
    // the key's last byte, would leave unchecked (a flipped bit in a stored field element).
    if tail == Tail::Checked {
        std::io::copy(&mut watched, &mut std::io::sink()).map_err(|e| corrupt(format!("gzip stream: {e}")))?;
        within_limit(&watched)?;
    }
    Ok(ProverKey::from(pk))
}

/// `KEY_CORRUPT` unless a key for `k` serves a circuit that needs `needed`.
pub fn check_k(k: u8, needed: u8, name: &str) -> Result<()> {
    if k == needed {
        return Ok(());
    }
    fail(ErrorCode::KeyCorrupt, format!("{name}: {}", mismatch(k, needed)))
}

fn mismatch(k: u8, needed: u8) -> String {
    format!("is for k={k}, but the circuit IR needs k={needed}")
}

/// A key's inflated stream that stops once the IR's k is known to be another, or the IR failed.
struct Watched<'a, R> {
    inner: R,
    ir_k: &'a OnceLock<Option<u8>>,
    k: u8,
}

impl<R: Read> Read for Watched<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.ir_k.get() {
            Some(&Some(needed)) if needed != self.k => Err(std::io::Error::other(mismatch(self.k, needed))),
            Some(None) => Err(std::io::Error::other("the circuit IR failed")),
            _ => self.inner.read(buf),
        }
    }
}

/// A tagged verifier key, initialized. transient-crypto refuses one over 50,000 bytes before it
/// reads it, and midnight-proofs checks its k against the field's 2-adicity; the reader runs under
/// `catch_unwind` so that whatever else a malformed key trips stays `KEY_CORRUPT`.
pub fn read_verifier_key(bytes: &[u8], name: &str) -> Result<VerifierKey> {
    let vk: VerifierKey = serialize::tagged_deserialize(&mut &bytes[..]).code(ErrorCode::KeyCorrupt, || name.to_owned())?;
    catch_unwind(AssertUnwindSafe(|| vk.init()))
        .map_err(|p| ProverError::new(ErrorCode::KeyCorrupt, format!("{name}: malformed verifier key: {}", panic_text(&p))))?
        .code(ErrorCode::KeyCorrupt, || name.to_owned())?;
    Ok(vk)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::circuit::{Artifacts, Circuit};
    use crate::keygen::{keygen, GeneratedKeys};
    use crate::params::ParamsStore;
    use flate2::{write::GzEncoder, Compression};
    use serialize::Serializable;
    use std::io::Write;

    /// The arith circuit's tagged prover key with its inflated stream edited by `edit`, and the
    /// keys it was edited from.
    fn edited_key(edit: impl FnOnce(&mut Vec<u8>, usize)) -> (Vec<u8>, GeneratedKeys) {
        let ir = arith_ir();
        let keys = keygen(&ir, &ParamsStore::new(vec![])).unwrap();
        let RawKey(gz, _) = serialize::tagged_deserialize::<RawKey<ProverKey<IrSource>>>(&mut &keys.prover_key[..]).unwrap();
        let mut inflated = Vec::new();
        GzDecoder::new(&gz[..]).read_to_end(&mut inflated).unwrap();
        let (relation, _) = crate::circuit::parse_ir_k(&ir).unwrap();
        let mut ir_bytes = Vec::new();
        relation.serialize(&mut ir_bytes).unwrap();
        // max_bit_len and k, the relation, then the verifying key: its version byte, then its k.
        edit(&mut inflated, 2 + ir_bytes.len());
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(&inflated).unwrap();
        let regz = encoder.finish().unwrap();
        let mut old = Vec::new();
        gz.serialize(&mut old).unwrap();
        let mut bytes = keys.prover_key[..keys.prover_key.len() - old.len()].to_vec();
        regz.serialize(&mut bytes).unwrap();
        (bytes, keys)
    }

    fn arith_ir() -> Vec<u8> {
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../__test__/circuits/arith.zkir")).unwrap()
    }

    /// A circuit loaded from `ir` and the arith circuit's keys (its prover key edited by `edit`).
    fn load_with(ir: &[u8], edit: impl FnOnce(&mut Vec<u8>, usize)) -> Result<Circuit> {
        let (prover, keys) = edited_key(edit);
        let artifacts = Artifacts { ir: (ir, "ir".into()), prover: (&prover, "pk".into()), verifier: (&keys.verifier_key, "vk".into()) };
        Circuit::from_artifacts("arith", artifacts, None)
    }

    /// The key is read beside the IR's cost model, for the k its header claims: a key for
    /// another k than the IR's is refused all the same, whichever finishes first, and a key
    /// claiming more than `MAX_SPECULATIVE_K` waits for the IR's k before it is read at all.
    #[test]
    fn a_key_read_beside_the_cost_model_is_checked_against_the_irs_k() {
        let bench_k6 = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../__test__/circuits/bench_k6.zkir")).unwrap();
        let loaded = load_with(&arith_ir(), |_, _| {}).unwrap();
        assert_eq!((loaded.k, loaded.rows > 0), (5, true));
        let err = load_with(&bench_k6, |_, _| {}).map(|_| ()).unwrap_err();
        assert_eq!(err.code, ErrorCode::KeyCorrupt);
        assert!(err.message.contains("pk: is for k=5, but the circuit IR needs k=6"), "{err}");
        for claimed in [MAX_SPECULATIVE_K, MAX_SPECULATIVE_K + 1, MAX_K + 1] {
            let err = load_with(&arith_ir(), |inflated, _| inflated[1] = claimed).map(|_| ()).unwrap_err();
            assert_eq!(err.code, ErrorCode::KeyCorrupt, "{claimed}: {err}");
            assert!(err.message.contains(&format!("is for k={claimed}, but the circuit IR needs k=5")), "{claimed}: {err}");
        }
        // The IR's own error comes first, whatever the key.
        let err = load_with(b"{ not IR", |_, _| {}).map(|_| ()).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidIr, "{err}");
    }

    #[test]
    fn an_edited_key_reads_back_when_nothing_changed() {
        let (bytes, keys) = edited_key(|_, _| {});
        read_prover_key(&bytes, "pk", keys.k).unwrap();
    }

    /// The verifying key inside a prover key carries its own k, which sizes the domain: a huge
    /// one must be refused, not allocated (2^30 rows of cosets would abort the process).
    #[test]
    fn a_verifying_key_claiming_another_k_is_key_corrupt() {
        for claimed in [6u8, 20, 30, 32, 40, 255] {
            let (bytes, GeneratedKeys { k, .. }) = edited_key(|inflated, at| inflated[at + 1] = claimed);
            let err = read_prover_key(&bytes, "pk", k).map(|_| ()).unwrap_err();
            assert_eq!(err.code, ErrorCode::KeyCorrupt, "{claimed}: {err}");
            assert!(err.message.contains(&format!("its verifying key is for k={claimed}, but its header says k={k}")), "{err}");
        }
    }
}
