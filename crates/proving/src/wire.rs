//! The proof server's wire formats (what midnight-js sends to `/prove`, `/check`, `/k` and reads
//! back), so the HTTP service can speak them with this engine behind it.
//!
//! Requests carry the ledger's `ProofPreimageVersioned`; the engine proves a plain tagged
//! `ProofPreimage`, so decoding unwraps the version and re-serializes the preimage. A proof goes
//! back as `ProofVersioned`, which is what the proof server answers (the ledger also accepts a bare
//! `proof[v5]`, but clients that parse responses themselves expect the versioned form).
use super::circuit::{check_against_ir, parse_ir, parse_ir_k};
use super::error::{fail, ErrorCode, Result, WithCode};
use super::witness::{preimage_from_bytes, serialize_preimage};
use serialize::{Deserializable, Serializable, Tagged};
use std::borrow::Cow;
use std::io::{Read, Write};
use transient_crypto::curve::Fr;
use transient_crypto::proofs::{Proof, ProofPreimage, ProvingKeyMaterial, WrappedIr};

/// The only version the ledger's `*Versioned` enums have today is `V2`, written as discriminant 1.
const V2: u8 = 1;

/// The ledger's one-variant version envelopes around a preimage and a proof. Both serialize as the
/// discriminant then the value; only the tag differs. Kept local because the ledger crate (which
/// defines them) would pull the whole ledger into the addon.
pub struct Versioned<T>(pub T);

pub trait VersionTag {
    const TAG: &'static str;
}

impl VersionTag for ProofPreimage {
    const TAG: &'static str = "proof-preimage-versioned";
}

impl VersionTag for Proof {
    const TAG: &'static str = "proof-versioned";
}

impl<T: Serializable> Serializable for Versioned<T> {
    fn serialize(&self, writer: &mut impl Write) -> std::io::Result<()> {
        V2.serialize(writer)?;
        self.0.serialize(writer)
    }
    fn serialized_size(&self) -> usize {
        1 + self.0.serialized_size()
    }
}

impl<T: Deserializable> Deserializable for Versioned<T> {
    fn deserialize(reader: &mut impl Read, recursion_depth: u32) -> std::io::Result<Self> {
        let version = u8::deserialize(reader, recursion_depth)?;
        if version != V2 {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("unsupported version discriminant {version} (only V2 = 1)")));
        }
        T::deserialize(reader, recursion_depth).map(Versioned)
    }
}

impl<T: VersionTag + Tagged> Tagged for Versioned<T> {
    fn tag() -> Cow<'static, str> {
        Cow::Borrowed(T::TAG)
    }
    fn tag_unique_factor() -> String {
        format!("[[],{}]", T::tag())
    }
}

/// A `/prove` body: what `createProvingPayload` builds.
pub struct ProveRequest {
    /// Tagged `ProofPreimage`, as the engine's `prove` takes it.
    pub preimage: Vec<u8>,
    pub key_location: String,
    pub key_material: Option<ProvingKeyMaterial>,
    pub binding_input: Option<Fr>,
}

/// A `/check` body: what `createCheckPayload` builds.
pub struct CheckRequest {
    pub preimage: Vec<u8>,
    pub key_location: String,
    /// The circuit's IR (`.bzkir` bytes) when the client had it.
    pub ir: Option<Vec<u8>>,
}

type ProveBody = (Versioned<ProofPreimage>, Option<ProvingKeyMaterial>, Option<Fr>);
type CheckBody = (Versioned<ProofPreimage>, Option<WrappedIr>);

/// Deserializes a whole body; the deserializer's own message (e.g. "expected header tag …") is what
/// the proof server answers with, so it is kept as the error message.
fn decode<T: Deserializable + Tagged>(body: &[u8]) -> Result<T> {
    match serialize::tagged_deserialize::<T>(&mut &body[..]) {
        Ok(value) => Ok(value),
        Err(e) => fail(ErrorCode::InvalidArgument, e.to_string()),
    }
}

fn unwrap_preimage(preimage: ProofPreimage) -> (Vec<u8>, String) {
    (serialize_preimage(&preimage), preimage.key_location.0.to_string())
}

pub fn decode_prove_request(body: &[u8]) -> Result<ProveRequest> {
    let (Versioned(preimage), key_material, binding_input) = decode::<ProveBody>(body)?;
    let (preimage, key_location) = unwrap_preimage(preimage);
    Ok(ProveRequest { preimage, key_location, key_material, binding_input })
}

pub fn decode_check_request(body: &[u8]) -> Result<CheckRequest> {
    let (Versioned(preimage), ir) = decode::<CheckBody>(body)?;
    let (preimage, key_location) = unwrap_preimage(preimage);
    Ok(CheckRequest { preimage, key_location, ir: ir.map(|w| w.0) })
}

/// A tagged `proof[v5]` (the engine's output) as the tagged `ProofVersioned` the proof server sends.
pub fn encode_proof_response(proof: &[u8]) -> Result<Vec<u8>> {
    let proof: Proof = serialize::tagged_deserialize(&mut &proof[..]).code(ErrorCode::InvalidArgument, || "not a tagged proof[v5]".into())?;
    let mut out = Vec::new();
    serialize::tagged_serialize(&Versioned(proof), &mut out).expect("in-memory serialization");
    Ok(out)
}

/// `check`'s public-input skips as the tagged `Vec<Option<u64>>` that `parseCheckResult` reads.
pub fn encode_check_response(skips: &[Option<u64>]) -> Vec<u8> {
    let mut out = Vec::new();
    serialize::tagged_serialize(&skips.to_vec(), &mut out).expect("in-memory serialization");
    out
}

/// `/check` with the IR the client sent: no keys are needed, so nothing is loaded or cached, and
/// no k: the IR's cost model (0.1–2.6 s for arttt's circuits) would run on every request.
pub fn check_with_ir(ir: &[u8], preimage: &[u8]) -> Result<Vec<Option<usize>>> {
    let ir = parse_ir(ir).map_err(|e| e.about("the check request's IR"))?;
    let preimage = preimage_from_bytes(preimage)?;
    // check_against_ir turns the IR VM's panic on witness values no IR check can rule out (EC
    // coordinates that do not decode as a point) into WITNESS_UNSATISFIED.
    check_against_ir(&ir, &preimage.key_location.0, &preimage)
}

/// The k a `/k` body (a tagged ZKIR v2 `IrSource`) needs.
pub fn ir_k(body: &[u8]) -> Result<u8> {
    // The proof server's message for a body that is not ZKIR v2, kept as the prefix.
    parse_ir_k(body).map(|(_, k)| k).map_err(|e| e.about("Unsupported ZKIR version"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::witness::Witness;

    fn preimage(location: &str) -> ProofPreimage {
        Witness::Json(r#"{"inputs":["7"],"bindingInput":"3"}"#.into()).into_preimage(location).unwrap()
    }

    fn prove_body(key_material: Option<ProvingKeyMaterial>, binding: Option<Fr>) -> Vec<u8> {
        let mut body = Vec::new();
        serialize::tagged_serialize(&(Versioned(preimage("midnight/zswap/output")), key_material, binding), &mut body).unwrap();
        body
    }

    #[test]
    fn prove_request_round_trips_with_and_without_material() {
        let body = prove_body(None, None);
        assert!(body.starts_with(b"midnight:(proof-preimage-versioned,option(proving-data),option(fr-bls)):"), "{:?}", String::from_utf8_lossy(&body[..80]));
        let req = decode_prove_request(&body).unwrap();
        assert_eq!(req.key_location, "midnight/zswap/output");
        assert_eq!(Witness::Serialized(req.preimage.into()).into_preimage("x").unwrap(), preimage("midnight/zswap/output"));
        assert!(req.key_material.is_none() && req.binding_input.is_none());

        let km = ProvingKeyMaterial { prover_key: vec![1, 2], verifier_key: vec![3], ir_source: vec![4, 5, 6] };
        let req = decode_prove_request(&prove_body(Some(km), Some(Fr::from(9u64)))).unwrap();
        let km = req.key_material.unwrap();
        assert_eq!((km.prover_key, km.verifier_key, km.ir_source), (vec![1, 2], vec![3], vec![4, 5, 6]));
        assert_eq!(req.binding_input, Some(Fr::from(9u64)));
    }

    #[test]
    fn malformed_bodies_are_invalid_argument_with_the_deserializer_message() {
        let body = prove_body(None, None);
        for bad in [&b""[..], &b"{\"key\":1}"[..], &body[..body.len() - 1], &[&body[..], &body[..]].concat()[..]] {
            let err = decode_prove_request(bad).err().expect("must fail");
            assert_eq!(err.code, ErrorCode::InvalidArgument);
            assert!(!err.message.is_empty());
        }
        let err = decode_prove_request(b"").err().unwrap();
        assert!(err.message.contains("expected header tag"), "{}", err.message);
    }

    #[test]
    fn check_request_and_responses_have_the_ledger_tags() {
        let mut body = Vec::new();
        serialize::tagged_serialize(&(Versioned(preimage("c")), Some(WrappedIr(vec![8, 9]))), &mut body).unwrap();
        let req = decode_check_request(&body).unwrap();
        assert_eq!((req.key_location.as_str(), req.ir), ("c", Some(vec![8, 9])));

        let check = encode_check_response(&[Some(2), None]);
        assert!(check.starts_with(b"midnight:vec(option(u64)):"));
        let back: Vec<Option<u64>> = serialize::tagged_deserialize(&mut &check[..]).unwrap();
        assert_eq!(check_with_ir(b"{}", &req.preimage).unwrap_err().code, ErrorCode::InvalidIr);
        assert_eq!(back, vec![Some(2), None]);

        let mut proof = Vec::new();
        serialize::tagged_serialize(&Proof(vec![1, 2, 3]), &mut proof).unwrap();
        let versioned = encode_proof_response(&proof).unwrap();
        assert!(versioned.starts_with(b"midnight:proof-versioned:\x01"));
        let Versioned(back): Versioned<Proof> = serialize::tagged_deserialize(&mut &versioned[..]).unwrap();
        assert_eq!(back, Proof(vec![1, 2, 3]));
    }
}
