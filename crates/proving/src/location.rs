//! Key locations, the names the ledger and midnight-js give circuits. Either a circuit id (a
//! file name in the key directories, or a built-in's `midnight/…` path), or, from midnight-js 5
//! and the new proof server on, `contract:<address>/<circuit>?vk=<sha256>`.
//!
//! The contract form follows the proof server's grammar (midnight-ledger
//! `proof-server/src/artifacts.rs`) exactly, so a location one accepts the other accepts: the
//! address is 64 hex digits of either case and names no file (the verifier key's hash says
//! which keys are meant); the circuit is `[A-Za-z0-9_]+`; the vk is 64 lowercase hex digits,
//! the SHA-256 of the `.verifier` file's bytes; nothing is percent-decoded; nothing follows.
use super::error::{fail, ErrorCode, Result};
use super::files::{hex, lower_hex_32};

const CONTRACT: &str = "contract:";

#[derive(Debug, PartialEq, Eq)]
pub enum Location<'a> {
    /// A circuit id or a built-in's location, validated where it is looked up.
    Id(&'a str),
    /// A contract's circuit, whose verifier key must hash to `vk`.
    Contract { circuit: &'a str, vk: [u8; 32] },
}

impl Location<'_> {
    /// The key store's name for what this location loads. Contract locations drop the address,
    /// which selects nothing, so every address of one circuit and key shares one load.
    pub fn store_key(&self) -> String {
        match self {
            Location::Id(id) => (*id).to_owned(),
            Location::Contract { circuit, vk } => format!("{CONTRACT}{circuit}?vk={}", hex(vk)),
        }
    }
}

/// Reads a key location; a string that starts like a contract location but does not follow
/// the grammar is `INVALID_CIRCUIT_ID`, naming what was expected.
pub fn parse(location: &str) -> Result<Location<'_>> {
    let Some(rest) = location.strip_prefix(CONTRACT) else {
        return Ok(Location::Id(location));
    };
    match contract(rest) {
        Some(parsed) => Ok(parsed),
        None => fail(
            ErrorCode::InvalidCircuitId,
            format!(
                "{:?} is not a contract key location: expected contract:<64 hex digits>/<circuit: letters, digits, _>?vk=<64 lowercase hex digits>",
                clip(location)
            ),
        ),
    }
}

fn contract(rest: &str) -> Option<Location<'_>> {
    let (address, rest) = rest.split_at_checked(64)?;
    let (circuit, vk) = rest.strip_prefix('/')?.split_once("?vk=")?;
    let circuit_ok = !circuit.is_empty() && circuit.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !(address.bytes().all(|b| b.is_ascii_hexdigit()) && circuit_ok) {
        return None;
    }
    Some(Location::Contract { circuit, vk: lower_hex_32(vk)? })
}

/// Error messages quote at most the start of a location a caller sent.
fn clip(s: &str) -> &str {
    let end = (0..=s.len().min(200)).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDRESS: &str = "0200ab45cd0200ab45cd0200ab45cd0200ab45cd0200ab45cd0200ab45cd0200";
    const VK: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    fn location(address: &str, circuit: &str, vk: &str) -> String {
        format!("contract:{address}/{circuit}?vk={vk}")
    }

    #[test]
    fn contract_locations_follow_the_proof_servers_grammar() {
        let text = location(ADDRESS, "transfer_from2", VK);
        let parsed = parse(&text).unwrap();
        let Location::Contract { circuit, vk } = parsed else { panic!("a contract location") };
        assert_eq!((circuit, hex(&vk).as_str()), ("transfer_from2", VK));
        let upper = location(&ADDRESS.to_uppercase(), "transfer", VK);
        assert!(matches!(parse(&upper), Ok(Location::Contract { .. })), "the address may be upper case");
    }

    #[test]
    fn anything_else_after_contract_is_an_invalid_circuit_id() {
        let bad = [
            location(&ADDRESS[1..], "transfer", VK),
            location(&format!("{ADDRESS}0"), "transfer", VK),
            location(&ADDRESS.replace('a', "g"), "transfer", VK),
            location(ADDRESS, "", VK),
            location(ADDRESS, "a-b", VK),
            location(ADDRESS, "../x", VK),
            location(ADDRESS, "%74ransfer", VK),
            location(ADDRESS, "transfer", &VK.to_uppercase()),
            location(ADDRESS, "transfer", &VK[1..]),
            location(ADDRESS, "transfer", &format!("{VK}\n")),
            location(ADDRESS, "transfer", &format!("{VK}&x=1")),
            format!("contract:{ADDRESS}/transfer"),
            format!("contract:{ADDRESS}/transfer?vk="),
            format!("contract:{ADDRESS}transfer?vk={VK}"),
            "contract:".into(),
            format!("contract:{}é/x?vk={VK}", &ADDRESS[..63]),
        ];
        for location in bad {
            let err = parse(&location).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidCircuitId, "{location:?}");
        }
    }

    #[test]
    fn other_locations_are_ids_and_store_keys_drop_the_address() {
        assert_eq!(parse("midnight/zswap/output").unwrap(), Location::Id("midnight/zswap/output"));
        assert_eq!(parse("Contract:x").unwrap(), Location::Id("Contract:x"), "the prefix is case-sensitive, as the server's");
        let a = parse(&location(ADDRESS, "mint", VK)).unwrap().store_key();
        let b = parse(&location(&"f".repeat(64), "mint", VK)).unwrap().store_key();
        assert_eq!(a, b);
        assert_eq!(a, format!("contract:mint?vk={VK}"));
    }

    #[test]
    fn messages_quote_a_bounded_prefix() {
        let long = format!("contract:{}", "é".repeat(10_000));
        let err = parse(&long).unwrap_err();
        assert!(err.message.len() < 400, "{}", err.message.len());
    }
}
