//! Field elements from the notations users write: decimal, 0x-hex, JSON integers, negatives.
use super::error::{fail, ErrorCode, Result};
use serde_json::Value;
use transient_crypto::curve::Fr;

/// Parses one scalar of the BLS12-381 scalar field; `what` names the value in errors.
pub fn parse_field(value: &Value, what: &str) -> Result<Fr> {
    let text = match value {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
        _ => return fail(ErrorCode::InvalidWitness, format!("{what}: expected a field element, got {value}")),
    };
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.as_str()),
    };
    let le = match digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        Some(hex) => hex_to_le(hex),
        None => decimal_to_le(digits),
    };
    let Some(field) = le.and_then(|bytes| Fr::from_le_bytes(&bytes)) else {
        return fail(ErrorCode::InvalidWitness, format!("{what}: {text:?} is not an element of the scalar field"));
    };
    Ok(if negative { -field } else { field })
}

/// Decimal digits to 32 little-endian bytes; None on a bad digit or more than 256 bits.
fn decimal_to_le(digits: &str) -> Option<Vec<u8>> {
    if digits.is_empty() {
        return None;
    }
    let mut le = [0u8; 32];
    for c in digits.chars() {
        let mut carry = c.to_digit(10)?;
        for byte in le.iter_mut() {
            let v = *byte as u32 * 10 + carry;
            *byte = v as u8;
            carry = v >> 8;
        }
        if carry != 0 {
            return None;
        }
    }
    Some(le.to_vec())
}

/// Big-endian hex digits to little-endian bytes; None on a bad digit or more than 256 bits.
fn hex_to_le(hex: &str) -> Option<Vec<u8>> {
    let hex = hex.trim_start_matches('0');
    if hex.len() > 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let padded = format!("{hex:0>64}");
    let mut be: Vec<u8> = (0..32).map(|i| u8::from_str_radix(&padded[2 * i..2 * i + 2], 16).unwrap()).collect();
    be.reverse();
    Some(be)
}

/// The field element as an unsigned decimal string.
pub fn field_to_decimal(f: &Fr) -> String {
    let mut le = f.as_le_bytes();
    le.resize(32, 0);
    let mut digits = Vec::new();
    let mut n = le;
    while n.iter().any(|&b| b != 0) {
        let mut rem = 0u32;
        for byte in n.iter_mut().rev() {
            let v = (rem << 8) | *byte as u32;
            *byte = (v / 10) as u8;
            rem = v % 10;
        }
        digits.push(b'0' + rem as u8);
    }
    if digits.is_empty() {
        digits.push(b'0');
    }
    digits.reverse();
    String::from_utf8(digits).expect("ascii digits")
}

/// The field element as four little-endian u64 words (the shape of a JS bigint in N-API).
pub fn field_to_words(f: &Fr) -> Vec<u64> {
    let mut le = f.as_le_bytes();
    le.resize(32, 0);
    le.chunks(8).map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes"))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn notations_agree() {
        let a = parse_field(&json!("255"), "x").unwrap();
        let b = parse_field(&json!("0xff"), "x").unwrap();
        let c = parse_field(&json!(255), "x").unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(field_to_decimal(&a), "255");
    }

    #[test]
    fn negatives_are_field_negation() {
        let m = parse_field(&json!("-1"), "x").unwrap();
        assert_eq!(m + Fr::from(1u64), Fr::from(0u64));
    }

    #[test]
    fn rejects_out_of_field_and_garbage() {
        let modulus = "52435875175126190479447740508185965837690552500527637822603658699938581184513";
        assert!(parse_field(&json!(modulus), "x").is_err());
        let below = "52435875175126190479447740508185965837690552500527637822603658699938581184512";
        assert_eq!(field_to_decimal(&parse_field(&json!(below), "x").unwrap()), below);
        for bad in [json!("12a"), json!(""), json!(1.5), json!(null), json!("0x".to_owned() + &"f".repeat(65))] {
            assert_eq!(parse_field(&bad, "x").unwrap_err().code, ErrorCode::InvalidWitness);
        }
    }

    #[test]
    fn words_are_little_endian() {
        let f = parse_field(&json!("0x10000000000000002"), "x").unwrap();
        assert_eq!(field_to_words(&f), vec![2, 1, 0, 0]);
    }
}
