//! The `bls_midnight_2p{k}` file layout, checked before a byte of it is parsed.
//!
//! Midnight's layout (midnight-proofs' `RawBytesUnchecked`): k as a little-endian u32, 2^k
//! points `g`, 2^k points `g_lagrange` (G1, uncompressed), then `g2` and `s_g2` (G2). Its
//! reader trusts all of it: the declared k sizes its allocations, a short file makes it panic,
//! and no point is checked. So a file that Midnight's pin does not vouch for is sized and
//! labelled here first:
//! - its length must be exactly the layout's for the k it is named for, and it must declare
//!   that k: a huge declared size, a truncated file or another k's file never reaches the reader;
//! - development parameters made by `dev::generate` carry a trailer after the layout (the
//!   reader stops before it, so Midnight's tools read them as they are): a label saying they are
//!   unsafe, the digest of their seed, and the SHA-256 of the layout, which catches any flipped
//!   byte. A file without the trailer is accepted unvetted, as a file Midnight's tools made.
use super::super::error::{fail, ErrorCode, Result};
use midnight_curves::{Bls12, G1Projective, G2Projective};
use midnight_proofs::poly::kzg::params::ParamsKZG;
use midnight_proofs::utils::helpers::{byte_length, ProcessedSerdeObject};
use midnight_proofs::utils::SerdeFormat::RawBytesUnchecked;
use sha2::{Digest, Sha256};
use std::io;

/// The trailer's opening text, readable with `tail -c` on the file.
pub const LABEL: &[u8] =
    b"\nUNSAFE DEVELOPMENT PARAMETERS (midnight-native-prover dev-params): their secret follows from a public seed; never prove anything of value with them\n";
/// Label, then the seed's SHA-256, then the layout's SHA-256.
pub const TRAILER_LEN: usize = LABEL.len() + 64;

/// Bytes of Midnight's layout for `k`.
pub fn layout_len(k: u8) -> u64 {
    let g1 = byte_length::<G1Projective>(RawBytesUnchecked) as u64;
    let g2 = byte_length::<G2Projective>(RawBytesUnchecked) as u64;
    4 + (2u64 << k) * g1 + 2 * g2
}

pub use kernels::msm::Points;

/// The setup in `bytes`, as midnight-proofs' `read_custom(RawBytesUnchecked)` reads it, but with
/// the points decoded on the current rayon pool (outside a pool, on the calling thread, so it
/// never starts rayon's global pool), and with the curve check left out for `Points::Vouched`
/// files. Decoding the embedded SRS's 2^15 points on one thread, each checked, was the slowest
/// part of a fresh process's first load. Bytes past the layout (a development trailer) are not
/// read. A checked G1 point off the curve is an error; the two G2 points are read by
/// midnight-proofs, which panics on one off the curve, so files are read under `catch_unwind`.
pub fn decode(bytes: &[u8], points: Points) -> io::Result<ParamsKZG<Bls12>> {
    let short = || io::Error::new(io::ErrorKind::UnexpectedEof, "shorter than its declared k's layout");
    let k = u32::from_le_bytes(bytes.get(..4).ok_or_else(short)?.try_into().expect("four bytes"));
    let k = u8::try_from(k).ok().filter(|&k| k <= super::MAX_K).ok_or_else(|| io::Error::other(format!("declares k={k}")))?;
    if (bytes.len() as u64) < layout_len(k) {
        return Err(short());
    }
    let g1 = byte_length::<G1Projective>(RawBytesUnchecked);
    let n = 1usize << k;
    // The length was checked against the layout above.
    let (g, rest) = bytes[4..].split_at(n * g1);
    let (g_lagrange, mut rest) = rest.split_at(n * g1);
    let decode_points = |bytes| {
        kernels::msm::points(bytes, points)
            .ok_or_else(|| io::Error::other(format!("a G1 point with a flag bit set{}", if points == Points::Checked { " or off the curve" } else { "" })))
    };
    let (g, g_lagrange) = (decode_points(g)?, decode_points(g_lagrange)?);
    let g2 = G2Projective::read(&mut rest, RawBytesUnchecked)?;
    let s_g2 = G2Projective::read(&mut rest, RawBytesUnchecked)?;
    Ok(ParamsKZG::from_parts(u32::from(k), g, Some(g_lagrange), g2, s_g2))
}

/// What a sized file turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub enum Shape {
    /// Midnight's layout alone.
    Plain,
    /// Development parameters with an intact trailer; the seed's SHA-256.
    Labelled([u8; 32]),
}

/// Refuses a file of `len` bytes that cannot be the layout for `k`, before it is read.
pub fn check_len(k: u8, len: u64, what: &str) -> Result<()> {
    let plain = layout_len(k);
    if len != plain && len != plain + TRAILER_LEN as u64 {
        return fail(
            ErrorCode::ParamsMismatch,
            format!(
                "{what} is {len} bytes; parameters for k={k} are {plain} bytes ({} with a development trailer): truncated, padded or another k's file",
                plain + TRAILER_LEN as u64
            ),
        );
    }
    Ok(())
}

/// Checks a whole file's bytes against the layout for `k`: its length, its declared k and, for
/// labelled development parameters, the checksum in its trailer.
pub fn inspect(k: u8, bytes: &[u8], what: &str) -> Result<Shape> {
    check_len(k, bytes.len() as u64, what)?;
    let declared = u32::from_le_bytes(bytes[..4].try_into().expect("four bytes"));
    if declared != u32::from(k) {
        return fail(ErrorCode::ParamsMismatch, format!("{what} declares k={declared}, not the k={k} it is named for"));
    }
    let (layout, trailer) = bytes.split_at(layout_len(k) as usize);
    if trailer.is_empty() {
        return Ok(Shape::Plain);
    }
    let (label, digests) = trailer.split_at(LABEL.len());
    let (seed, sum) = digests.split_at(32);
    if label != LABEL || Sha256::digest(layout)[..] != *sum {
        return fail(ErrorCode::ParamsMismatch, format!("{what}: its development trailer does not match its contents (a changed or corrupted file)"));
    }
    Ok(Shape::Labelled(seed.try_into().expect("32 bytes")))
}

/// The trailer `inspect` expects after `layout`.
pub fn trailer(layout: &[u8], seed_digest: &[u8; 32]) -> Vec<u8> {
    [LABEL, seed_digest, &Sha256::digest(layout)[..]].concat()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::embedded_file;

    fn labelled(k: u8) -> Vec<u8> {
        let layout = embedded_file(k).unwrap();
        [layout.clone(), trailer(&layout, &[7; 32])].concat()
    }

    fn refused(k: u8, bytes: &[u8]) -> String {
        let err = inspect(k, bytes, "f").unwrap_err();
        assert_eq!(err.code, ErrorCode::ParamsMismatch, "{}", err.message);
        err.message
    }

    #[test]
    fn the_layout_length_is_midnights() {
        for k in [1, 5, 14] {
            assert_eq!(layout_len(k), embedded_file(k).unwrap().len() as u64, "k={k}");
        }
    }

    #[test]
    fn decodes_as_midnights_reader_on_a_pool_and_off_it() {
        let bytes = labelled(12);
        let theirs = ParamsKZG::<Bls12>::read_custom(&mut &bytes[..], RawBytesUnchecked).unwrap();
        let written = |p: &ParamsKZG<Bls12>| {
            let mut out = Vec::new();
            p.write_custom(&mut out, RawBytesUnchecked).unwrap();
            out
        };
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        for points in [Points::Vouched, Points::Checked] {
            let on_pool = pool.install(|| decode(&bytes, points)).unwrap();
            assert_eq!(written(&on_pool), written(&theirs), "{points:?}");
            assert_eq!(written(&decode(&bytes, points).unwrap()), written(&theirs), "{points:?} off a pool");
            for short in [0, 3, 4 + 96, bytes.len() / 2, layout_len(12) as usize - 1] {
                assert!(decode(&bytes[..short], points).is_err(), "cut at {short}");
            }
            let mut huge = bytes.clone();
            huge[..4].copy_from_slice(&40u32.to_le_bytes());
            assert!(decode(&huge, points).is_err(), "a declared k past Midnight's largest");
        }
        let mut off_curve = bytes.clone();
        off_curve[4 + 96 * 7 + 60] ^= 1;
        assert!(decode(&off_curve, Points::Checked).is_err(), "a checked point off the curve");
        assert!(decode(&off_curve, Points::Vouched).is_ok(), "a vouched one is taken as it is");
    }

    #[test]
    fn plain_and_labelled_files_pass() {
        inspect(12, &embedded_file(12).unwrap(), "f").unwrap();
        inspect(12, &labelled(12), "f").unwrap();
    }

    #[test]
    fn wrong_sizes_ks_and_bytes_are_refused_before_parsing() {
        let good = labelled(10);
        assert!(refused(10, &good[..good.len() - 1]).contains("bytes"), "truncated by one byte");
        refused(10, &good[..4]);
        refused(10, &[]);
        refused(11, &good);
        refused(9, &embedded_file(10).unwrap());
        let mut padded = embedded_file(10).unwrap();
        padded.push(0);
        refused(10, &padded);
        for declared in [9u32, 11, 31, u32::MAX] {
            let mut huge = good.clone();
            huge[..4].copy_from_slice(&declared.to_le_bytes());
            assert!(refused(10, &huge).contains(&format!("declares k={declared}")));
        }
        for at in [4, 1000, layout_len(10) as usize - 1, layout_len(10) as usize + 3, good.len() - 1] {
            let mut flipped = good.clone();
            flipped[at] ^= 0x10;
            assert!(refused(10, &flipped).contains("trailer"), "a byte flipped at {at}");
        }
    }
}
