//! Validation of untrusted ZKIR v2 before any Midnight code sees it.
//!
//! midnight-zkir trusts its IR: the cost model behind `IrSource::k()` / `model()` / keygen
//! `unwrap`s every synthesis error (a missing variable, an alignment it cannot decode), slices bit
//! vectors by operand widths, and sizes work by `num_inputs`. So every IR that came from outside is
//! decoded and checked here, and `k()` is computed once under `catch_unwind`, before it is handed
//! on. The checks mirror how the IR VM numbers variables: the inputs are variables
//! `0..num_inputs`, then each instruction appends its outputs in order.
use super::error::{fail, panic_text, unwind_as, ErrorCode, ProverError, Result};
use base_crypto::fab::{Alignment, AlignmentAtom, AlignmentSegment};
use midnight_zkir::{Instruction as I, IrSource};
use std::panic::catch_unwind;
use transient_crypto::curve::{FR_BITS, FR_BYTES_STORED};

/// The largest circuit size served. Midnight's proof server serves k ≤ 25 (its parameter files go
/// up to `bls_midnight_2p25`); a circuit needing more cannot be proven anywhere.
pub const MAX_K: u8 = 25;

/// The largest IR accepted, in bytes of `.zkir` JSON or `.bzkir`. The biggest real IR in the
/// fixtures (dust spend, JSON) is 29 KB; 16 MiB is over 500× that, and bounds the memory the JSON
/// decoder's intermediate tree may take (a few dozen bytes per token).
pub const MAX_IR_BYTES: usize = 16 << 20;

/// The most inputs an IR may declare. The real circuits have at most 146 (dust spend); 65,536 is
/// over 400× that. The cost model assigns one cell per input before it looks at any instruction,
/// so this is checked first (an IR declaring 10⁹ inputs made it allocate 40 GB and abort).
pub const MAX_INPUTS: u32 = 1 << 16;

/// The most instructions an IR may have. The real circuits have at most 649; 262,144 is 400× that.
/// It bounds the time the cost model spends before it can tell the circuit is too big for `MAX_K`.
pub const MAX_INSTRUCTIONS: usize = 1 << 18;

/// The most variables one hash instruction may read. The real circuits pass at most 9; each input
/// costs the cost model hashing rounds, and 4,096 still exceeds what fits a k ≤ 25 circuit's hash.
pub const MAX_HASH_INPUTS: usize = 1 << 12;

/// The most segments a `persistent_hash` alignment may have (the real ones have ≤ 9); one segment
/// reads at least one input, so more segments than `MAX_HASH_INPUTS` could never decode anyway.
pub const MAX_ALIGNMENT_SEGMENTS: usize = MAX_HASH_INPUTS;

/// The widest bit operand (`constrain_bits`, `div_mod_power_of_two`, `reconstitute_field`,
/// `less_than`): strictly below the field's 255 bits. The IR VM rejects ≥ 255 for
/// `constrain_bits`/`less_than` only when it runs; the circuit side slices a 255-bit
/// decomposition by it (a panic at 256) and computes `255 - bits` (an underflow). Real circuits
/// use at most 248.
pub const MAX_BITS: u32 = FR_BITS as u32 - 1;

/// The widest `less_than`. The circuit compares over `max(bits + bits % 2, 4)` bits and
/// midnight-circuits refuses bounds over 253 by panicking in the cost model ("Cannot bound an
/// element with a bound 254 > 253 = MAX_BOUND", found by the fuzz run); real circuits use ≤ 192.
pub const MAX_LESS_THAN_BITS: u32 = 252;

/// Decodes IR from `.zkir` JSON or tagged `.bzkir` bytes (told apart by the JSON object's opening
/// brace), validates it, and checks the k it implies: `INVALID_IR` naming what is wrong, never a
/// panic. Returns the IR and its size (the cost model is not cheap: 3 s at k = 17 on one core,
/// so callers take this size rather than asking `ir.k()` or `ir.model()` again). On success
/// `ir.k()` and `ir.model()` are known not to panic.
pub fn parse(bytes: &[u8]) -> Result<(IrSource, Size)> {
    let ir = parse_unsized(bytes)?;
    let size = implied_size(&ir)?;
    if size.k > MAX_K {
        return fail(ErrorCode::InvalidIr, format!("the circuit needs k={}, more than the largest served (k={MAX_K})", size.k));
    }
    Ok((ir, size))
}

/// What the cost model says of a circuit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    /// The k it needs: its domain has 2^k rows.
    pub k: u8,
    /// The rows its layout uses, not counting custom gates and lookups.
    pub rows: usize,
}

/// `parse` without the k: the IR decoded and validated, the cost model not run. For the IR VM
/// alone (a check), which runs under `unwind_as`; only proving needs the k.
pub fn parse_unsized(bytes: &[u8]) -> Result<IrSource> {
    if bytes.len() > MAX_IR_BYTES {
        return fail(ErrorCode::InvalidIr, format!("IR is {} bytes; the limit is {MAX_IR_BYTES}", bytes.len()));
    }
    let ir = decode(bytes)?;
    validate(&ir)?;
    Ok(ir)
}

fn decode(bytes: &[u8]) -> Result<IrSource> {
    // Neither decoder allocates from a declared size: serde_json grows vectors as elements arrive
    // (and `num_inputs` is only a number until `validate` bounds it), and midnight-serialize caps
    // each vector's preallocation at 32 MiB whatever length the bytes declare, a length that must
    // then be backed by bytes actually read. The guard only keeps a future upstream panic typed.
    let decoded = catch_unwind(|| match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => IrSource::load(bytes),
        _ => serialize::tagged_deserialize(&mut &bytes[..]),
    });
    match decoded {
        Ok(Ok(ir)) => Ok(ir),
        Ok(Err(e)) => fail(ErrorCode::InvalidIr, format!("not ZKIR v2 (.zkir JSON or .bzkir): {e}")),
        Err(p) => fail(ErrorCode::InvalidIr, format!("not ZKIR v2: the decoder panicked: {}", panic_text(&p))),
    }
}

/// The start of the message when the cost model panicked on an IR that passed `validate`: a gap
/// in the validation (the property tests fail on it).
pub const LAYOUT_PANICKED: &str = "the circuit cannot be laid out";

/// The circuit's size, from one run of the cost model under `catch_unwind` as a backstop: after
/// `validate` no IR is known to make it panic.
pub fn implied_size(ir: &IrSource) -> Result<Size> {
    unwind_as(
        ErrorCode::InvalidIr,
        || LAYOUT_PANICKED.into(),
        || {
            let model = ir.model();
            Ok(Size { k: model.k(), rows: model.rows() })
        },
    )
}

/// What the IR VM and the circuit need of an IR's structure, checked without running either.
pub fn validate(ir: &IrSource) -> Result<()> {
    if ir.num_inputs > MAX_INPUTS {
        return fail(ErrorCode::InvalidIr, format!("num_inputs is {}; at most {MAX_INPUTS} are accepted", ir.num_inputs));
    }
    if ir.instructions.len() > MAX_INSTRUCTIONS {
        return fail(ErrorCode::InvalidIr, format!("the IR has {} instructions; at most {MAX_INSTRUCTIONS} are accepted", ir.instructions.len()));
    }
    let mut defined = ir.num_inputs as u64;
    // Public inputs declared and not yet grouped by a `pi_skip`: a skip of more would make the IR
    // VM index before the start of its public-input list.
    let mut ungrouped: u64 = 0;
    for (at, ins) in ir.instructions.iter().enumerate() {
        let bad = |what: String| Err(ProverError::new(ErrorCode::InvalidIr, format!("instruction {at} ({}) {what}", op_name(ins))));
        let read = |var: u32| -> Result<()> {
            if (var as u64) < defined {
                Ok(())
            } else {
                bad(format!("reads variable {var}, but only {defined} are defined"))
            }
        };
        let bits = |bits: u32| -> Result<()> {
            if bits <= MAX_BITS {
                Ok(())
            } else {
                bad(format!("has bits {bits}; at most {MAX_BITS} are accepted"))
            }
        };
        let inputs = |inputs: &[u32]| -> Result<()> {
            if inputs.len() > MAX_HASH_INPUTS {
                return bad(format!("reads {} variables; at most {MAX_HASH_INPUTS} are accepted", inputs.len()));
            }
            inputs.iter().try_for_each(|v| read(*v))
        };
        match ins {
            I::Assert { cond } => read(*cond)?,
            I::CondSelect { bit, a, b } => [*bit, *a, *b].into_iter().try_for_each(read)?,
            I::ConstrainBits { var, bits: n } => {
                read(*var)?;
                bits(*n)?
            }
            I::ConstrainEq { a, b } | I::Add { a, b } | I::Mul { a, b } | I::TestEq { a, b } => {
                read(*a)?;
                read(*b)?
            }
            I::ConstrainToBoolean { var } | I::Copy { var } | I::Output { var } => read(*var)?,
            I::DeclarePubInput { var } => {
                read(*var)?;
                ungrouped += 1;
            }
            I::PiSkip { guard, count } => {
                guard.map(read).transpose()?;
                if *count as u64 > ungrouped {
                    return bad(format!("groups {count} public inputs, but only {ungrouped} are declared and not yet grouped"));
                }
                ungrouped -= *count as u64;
            }
            I::EcAdd { a_x, a_y, b_x, b_y } => [*a_x, *a_y, *b_x, *b_y].into_iter().try_for_each(read)?,
            I::EcMul { a_x, a_y, scalar } => [*a_x, *a_y, *scalar].into_iter().try_for_each(read)?,
            I::EcMulGenerator { scalar } => read(*scalar)?,
            I::HashToCurve { inputs: v } | I::TransientHash { inputs: v } => inputs(v)?,
            I::PersistentHash { alignment, inputs: v } => {
                inputs(v)?;
                let needed =
                    alignment_inputs(alignment).map_err(|why| ProverError::new(ErrorCode::InvalidIr, format!("instruction {at} (persistent_hash) {why}")))?;
                if needed > v.len() {
                    return bad(format!("has an alignment of {needed} field elements, but reads only {}", v.len()));
                }
            }
            I::LoadImm { .. } => {}
            I::DivModPowerOfTwo { var, bits: n } => {
                read(*var)?;
                bits(*n)?
            }
            I::ReconstituteField { divisor, modulus, bits: n } => {
                read(*divisor)?;
                read(*modulus)?;
                bits(*n)?
            }
            I::Neg { a } | I::Not { a } => read(*a)?,
            I::LessThan { a, b, bits: n } => {
                read(*a)?;
                read(*b)?;
                if *n > MAX_LESS_THAN_BITS {
                    return bad(format!("has bits {n}; at most {MAX_LESS_THAN_BITS} are accepted"));
                }
            }
            I::PublicInput { guard } | I::PrivateInput { guard } => guard.map(read).transpose().map(drop)?,
        }
        defined += outputs(ins);
    }
    Ok(())
}

/// How many field elements the circuit's in-circuit decoder takes for `alignment`: it decodes only
/// atoms of field elements and bytes, and fails the synthesis (a panic inside the cost model) on
/// anything else.
fn alignment_inputs(alignment: &Alignment) -> std::result::Result<usize, String> {
    if alignment.0.len() > MAX_ALIGNMENT_SEGMENTS {
        return Err(format!("has an alignment of {} segments; at most {MAX_ALIGNMENT_SEGMENTS} are accepted", alignment.0.len()));
    }
    let mut needed = 0usize;
    for segment in &alignment.0 {
        needed += match segment {
            AlignmentSegment::Atom(AlignmentAtom::Field) => 1,
            AlignmentSegment::Atom(AlignmentAtom::Bytes { length }) => (*length as usize).div_ceil(FR_BYTES_STORED),
            AlignmentSegment::Atom(AlignmentAtom::Compress) => return Err("has a compressed alignment atom, which the circuit cannot decode".into()),
            AlignmentSegment::Option(_) => return Err("has an optional alignment segment, which the circuit cannot decode".into()),
        };
    }
    Ok(needed)
}

/// The number of variables an instruction appends, as the IR VM and the circuit both count them.
pub fn outputs(ins: &I) -> u64 {
    match ins {
        I::Assert { .. }
        | I::ConstrainBits { .. }
        | I::ConstrainEq { .. }
        | I::ConstrainToBoolean { .. }
        | I::DeclarePubInput { .. }
        | I::PiSkip { .. }
        | I::Output { .. } => 0,
        I::CondSelect { .. }
        | I::Copy { .. }
        | I::LoadImm { .. }
        | I::ReconstituteField { .. }
        | I::TransientHash { .. }
        | I::TestEq { .. }
        | I::Add { .. }
        | I::Mul { .. }
        | I::Neg { .. }
        | I::Not { .. }
        | I::LessThan { .. }
        | I::PublicInput { .. }
        | I::PrivateInput { .. } => 1,
        I::EcAdd { .. } | I::EcMul { .. } | I::EcMulGenerator { .. } | I::HashToCurve { .. } | I::DivModPowerOfTwo { .. } | I::PersistentHash { .. } => 2,
    }
}

/// The instruction's `op` as written in `.zkir` JSON.
pub fn op_name(ins: &I) -> &'static str {
    match ins {
        I::Assert { .. } => "assert",
        I::CondSelect { .. } => "cond_select",
        I::ConstrainBits { .. } => "constrain_bits",
        I::ConstrainEq { .. } => "constrain_eq",
        I::ConstrainToBoolean { .. } => "constrain_to_boolean",
        I::Copy { .. } => "copy",
        I::DeclarePubInput { .. } => "declare_pub_input",
        I::PiSkip { .. } => "pi_skip",
        I::EcAdd { .. } => "ec_add",
        I::EcMul { .. } => "ec_mul",
        I::EcMulGenerator { .. } => "ec_mul_generator",
        I::HashToCurve { .. } => "hash_to_curve",
        I::LoadImm { .. } => "load_imm",
        I::DivModPowerOfTwo { .. } => "div_mod_power_of_two",
        I::ReconstituteField { .. } => "reconstitute_field",
        I::Output { .. } => "output",
        I::TransientHash { .. } => "transient_hash",
        I::PersistentHash { .. } => "persistent_hash",
        I::TestEq { .. } => "test_eq",
        I::Add { .. } => "add",
        I::Mul { .. } => "mul",
        I::Neg { .. } => "neg",
        I::Not { .. } => "not",
        I::LessThan { .. } => "less_than",
        I::PublicInput { .. } => "public_input",
        I::PrivateInput { .. } => "private_input",
    }
}
