//! Proof preimages from the two forms `prove` accepts: witness JSON, or the ledger's tagged bytes.
use super::error::{fail, ErrorCode, Result, WithCode};
use super::field_text::parse_field;
use super::lent::Lent;
use serde_json::{Map, Value};
use std::borrow::Cow;
use transient_crypto::curve::Fr;
use transient_crypto::proofs::{KeyLocation, ProofPreimage};

const FIELDS: [&str; 6] = ["inputs", "privateTranscript", "publicTranscriptInputs", "publicTranscriptOutputs", "bindingInput", "communicationsCommitment"];

/// What a caller hands to `prove` / `check`.
pub enum Witness {
    Json(String),
    Serialized(Lent),
}

impl Witness {
    /// The preimage for `circuit_id`; a JSON witness gets the circuit id as its key location.
    pub fn into_preimage(self, circuit_id: &str) -> Result<ProofPreimage> {
        match self {
            Witness::Json(text) => from_json(&text, circuit_id),
            Witness::Serialized(bytes) => preimage_from_bytes(&bytes),
        }
    }
}

/// A tagged-serialized preimage, read where it lies.
pub fn preimage_from_bytes(bytes: &[u8]) -> Result<ProofPreimage> {
    serialize::tagged_deserialize::<ProofPreimage>(&mut &bytes[..]).code(ErrorCode::InvalidWitness, || "not a tagged-serialized ProofPreimage".into())
}

/// The ledger's tagged serialization of a preimage (`midnight:proof-preimage:`…).
pub fn serialize_preimage(preimage: &ProofPreimage) -> Vec<u8> {
    let mut bytes = Vec::new();
    serialize::tagged_serialize(preimage, &mut bytes).expect("in-memory serialization");
    bytes
}

fn from_json(text: &str, circuit_id: &str) -> Result<ProofPreimage> {
    let value: Value = serde_json::from_str(text).code(ErrorCode::InvalidWitness, || "witness is not JSON".into())?;
    let Value::Object(obj) = value else {
        return fail(ErrorCode::InvalidWitness, "witness must be an object");
    };
    if let Some(unknown) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return fail(ErrorCode::InvalidWitness, format!("unknown witness field {unknown:?} (expected one of {FIELDS:?})"));
    }
    if !obj.contains_key("inputs") {
        return fail(ErrorCode::InvalidWitness, "witness.inputs is required");
    }
    Ok(ProofPreimage {
        inputs: field_list(&obj, "inputs")?,
        private_transcript: field_list(&obj, "privateTranscript")?,
        public_transcript_inputs: field_list(&obj, "publicTranscriptInputs")?,
        public_transcript_outputs: field_list(&obj, "publicTranscriptOutputs")?,
        binding_input: match obj.get("bindingInput") {
            None | Some(Value::Null) => Fr::from(0u64),
            Some(v) => parse_field(v, "witness.bindingInput")?,
        },
        communications_commitment: commitment(&obj)?,
        key_location: KeyLocation(Cow::Owned(circuit_id.to_owned())),
    })
}

fn field_list(obj: &Map<String, Value>, name: &str) -> Result<Vec<Fr>> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().enumerate().map(|(i, v)| parse_field(v, &format!("witness.{name}[{i}]"))).collect(),
        Some(other) => fail(ErrorCode::InvalidWitness, format!("witness.{name} must be an array, got {other}")),
    }
}

fn commitment(obj: &Map<String, Value>) -> Result<Option<(Fr, Fr)>> {
    match obj.get("communicationsCommitment") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(pair)) if pair.len() == 2 => {
            Ok(Some((parse_field(&pair[0], "witness.communicationsCommitment[0]")?, parse_field(&pair[1], "witness.communicationsCommitment[1]")?)))
        }
        Some(other) => fail(ErrorCode::InvalidWitness, format!("witness.communicationsCommitment must be [commitment, randomness], got {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_witness_round_trips_through_tagged_bytes() {
        let w = r#"{"inputs":["1","0x2",3],"privateTranscript":["4"],"bindingInput":"9","communicationsCommitment":["5","6"]}"#;
        let p = Witness::Json(w.into()).into_preimage("c").unwrap();
        assert_eq!(p.inputs, vec![Fr::from(1u64), Fr::from(2u64), Fr::from(3u64)]);
        assert_eq!(p.binding_input, Fr::from(9u64));
        assert_eq!(p.communications_commitment, Some((Fr::from(5u64), Fr::from(6u64))));
        let bytes = serialize_preimage(&p);
        assert!(bytes.starts_with(b"midnight:proof-preimage:"));
        assert_eq!(Witness::Serialized(bytes.into()).into_preimage("other").unwrap(), p);
    }

    #[test]
    fn shape_errors_are_invalid_witness() {
        for bad in [r#"[]"#, r#"{}"#, r#"{"inputs":"1"}"#, r#"{"inputs":[],"typo":[]}"#, r#"{"inputs":[],"communicationsCommitment":["1"]}"#, "not json"] {
            let err = Witness::Json(bad.into()).into_preimage("c").unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidWitness, "{bad}");
        }
        let err = Witness::Serialized(vec![1, 2, 3].into()).into_preimage("c").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidWitness);
    }
}
