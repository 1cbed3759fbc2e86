//! A gate program's evaluator over the extended domain: the kernel of the largest part of the
//! quotient polynomial h (a circuit's custom gates, its lookups' compressed expressions and its
//! trash arguments). midnight-proofs interprets its expression graphs one row at a time: for
//! every row and every calculation it matches the operation, then matches each operand's source
//! through a 13-argument call. That dispatch took as much time as the field arithmetic itself
//! (`GraphEvaluator::evaluate` and `ValueSource::get` were 17% of a zswap output proof's samples,
//! self time only).
//!
//! Here a program is a flat list of operations over registers (the proving crate compiles midnight-proofs'
//! graphs into it), and each operation runs over a block of `BLOCK_ROWS` rows at a time: the
//! dispatch is paid once per block, and the inner loops are field operations only. The
//! operations use the inlined arithmetic of `scalar_field`, or its lanes on CPUs with IFMA.
//! `Program::new` checks every register and range once, so running never indexes out of bounds
//! whatever program it is given.

use super::scalar_field::{self, with_fast_arith};
use ff::Field;
use midnight_curves::Fq;
use rayon::prelude::*;

#[cfg(target_arch = "x86_64")]
mod ifma;

/// Rows per block: one operation runs over this many rows before the next is dispatched.
pub const BLOCK_ROWS: usize = 32;
/// Blocks per parallel task: few, so that a worker done early takes more of the rest (with 64,
/// the last task of a graph held one worker alone for about 30 ms per zswap output proof). The
/// scratch is set up once per run of tasks on a worker, not per task.
const BLOCKS_PER_TASK: usize = 8;
/// Registers a program may use. Each is `BLOCK_ROWS` values (1 KiB, or 1.25 KiB in limbs on CPUs with
/// IFMA) in every worker's scratch, so this bounds a worker's scratch to 16 MiB (20 MiB in limbs,
/// and 36 MiB if it met both kinds of block) whatever the proving key's gates are. Real circuits use about
/// a hundred (the zswap output's custom gates: 108); a graph that needs more is left to
/// midnight-proofs, whose per-row scratch is `BLOCK_ROWS` times smaller.
pub const MAX_REGISTERS: usize = 1 << 14;

/// A register: `BLOCK_ROWS` consecutive values in the scratch.
pub type Reg = u32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// dst[i] = column[row(i) + rotation], rotation already scaled to the extended domain.
    Load {
        dst: Reg,
        column: u32,
        rotation: i64,
    },
    /// dst[i] = the value the caller passed in for the row.
    Previous {
        dst: Reg,
    },
    Add(Reg, Reg, Reg),
    Sub(Reg, Reg, Reg),
    Mul(Reg, Reg, Reg),
    Square(Reg, Reg),
    Double(Reg, Reg),
    Negate(Reg, Reg),
    Copy(Reg, Reg),
    /// dst = start; then dst = dst·factor + part, for each part in `parts[from..to]`.
    Horner {
        dst: Reg,
        start: Reg,
        factor: Reg,
        from: u32,
        to: u32,
    },
}

/// What a program is made of, as a compiler builds it; `Program::new` checks it.
#[derive(Debug, Default)]
pub struct ProgramParts {
    pub ops: Vec<Op>,
    /// The parts of every `Op::Horner`, each op reading its `from..to`.
    pub horner_parts: Vec<Reg>,
    /// Registers that hold the same value in every row (constants, challenges, y), set once.
    pub broadcast: Vec<(Reg, Fq)>,
    pub registers: usize,
    /// The register whose value each row ends with; none gives zero.
    pub result: Option<Reg>,
}

/// A checked gate program: every register below `registers`, at most `MAX_REGISTERS`, every
/// Horner range inside `horner_parts`, and no operation writing a register it reads.
#[derive(Debug)]
pub struct Program {
    ops: Vec<Op>,
    horner_parts: Vec<Reg>,
    broadcast: Vec<(Reg, Fq)>,
    registers: usize,
    result: Option<Reg>,
    /// One more than the largest column index a load reads.
    columns: usize,
}

/// A worker's registers, set up on its first block of each kind and kept for the next.
#[derive(Default)]
struct Scratch {
    plain: Option<Vec<Fq>>,
    #[cfg(target_arch = "x86_64")]
    lanes: Option<Vec<ifma::Reg8>>,
}

impl Program {
    /// None when a register is out of range (or shared by an operation's destination and an
    /// operand), a Horner range is outside the parts, or there are more than `MAX_REGISTERS`.
    pub fn new(parts: ProgramParts) -> Option<Program> {
        let ProgramParts { ops, horner_parts, broadcast, registers, result } = parts;
        let fits = |r: Reg| (r as usize) < registers;
        let parts_fit = |from: u32, to: u32| from <= to && to as usize <= horner_parts.len();
        let sound = registers <= MAX_REGISTERS
            && horner_parts.iter().all(|&r| fits(r))
            && broadcast.iter().all(|&(r, _)| fits(r))
            && result.is_none_or(fits)
            && ops.iter().all(|op| match *op {
                Op::Horner { dst, start, factor, from, to } => {
                    parts_fit(from, to)
                        && [dst, start, factor].into_iter().all(fits)
                        && horner_parts[from as usize..to as usize].iter().chain([&start, &factor]).all(|&r| r != dst)
                }
                op => {
                    let (dst, reads) = registers_of(&op);
                    fits(dst) && reads.iter().all(|&r| fits(r) && r != dst)
                }
            });
        let columns = ops.iter().filter_map(|op| if let Op::Load { column, .. } = op { Some(*column as usize + 1) } else { None }).max().unwrap_or(0);
        sound.then_some(Program { ops, horner_parts, broadcast, registers, result, columns })
    }

    /// Registers the program uses (each `BLOCK_ROWS` values of every worker's scratch).
    pub fn registers(&self) -> usize {
        self.registers
    }

    /// Registers set once to a value every row shares.
    pub fn broadcast_registers(&self) -> usize {
        self.broadcast.len()
    }

    /// Evaluates every row into `values` (which holds the previous values): full blocks in
    /// lanes when `in_lanes` (`Backend::lanes`), everything else one row at a time. False, with
    /// `values` untouched, when a load reads a column there is not or a column's length is not
    /// `values`' length.
    pub fn run(&self, columns: &[&[Fq]], values: &mut [Fq], in_lanes: bool) -> bool {
        if columns.len() < self.columns || columns.iter().any(|c| c.len() != values.len()) {
            return false;
        }
        #[cfg(target_arch = "x86_64")]
        let in_lanes = in_lanes && crate::backend::Backend::Ifma.supported();
        self.run_blocks(columns, values, in_lanes);
        true
    }

    fn run_blocks(&self, columns: &[&[Fq]], values: &mut [Fq], in_lanes: bool) {
        #[cfg(not(target_arch = "x86_64"))]
        let _ = in_lanes;
        let task_rows = BLOCK_ROWS * BLOCKS_PER_TASK;
        values.par_chunks_mut(task_rows).enumerate().for_each_init(Scratch::default, |scratch, (task, rows)| {
            for (block, out) in rows.chunks_mut(BLOCK_ROWS).enumerate() {
                let start = task * task_rows + block * BLOCK_ROWS;
                #[cfg(target_arch = "x86_64")]
                if in_lanes && out.len() == BLOCK_ROWS {
                    // SAFETY: `in_lanes` only where the CPU has the features (`run`); `new` checked every
                    // register and range, and `run` every column.
                    unsafe {
                        let s = scratch.lanes.get_or_insert_with(|| self.lane_scratch());
                        self.lane_block(s, columns, start, out);
                    }
                    continue;
                }
                let s = scratch.plain.get_or_insert_with(|| self.scratch());
                with_fast_arith(
                    #[inline(always)]
                    || self.block(s, columns, start, out),
                );
            }
        });
    }

    fn scratch(&self) -> Vec<Fq> {
        let mut scratch = vec![Fq::ZERO; self.registers * BLOCK_ROWS];
        for &(reg, value) in &self.broadcast {
            lanes_mut(&mut scratch, reg).fill(value);
        }
        scratch
    }

    /// Evaluates rows `start..start + out.len()` into `out` (which holds the previous values).
    #[inline(always)]
    fn block(&self, s: &mut [Fq], columns: &[&[Fq]], start: usize, out: &mut [Fq]) {
        let n = out.len();
        for op in &self.ops {
            match *op {
                Op::Load { dst, column, rotation } => load(&mut lanes_mut(s, dst)[..n], columns[column as usize], start, rotation),
                Op::Previous { dst } => lanes_mut(s, dst)[..n].copy_from_slice(out),
                Op::Add(d, a, b) => binary(s, d, a, b, n, scalar_field::add),
                Op::Sub(d, a, b) => binary(s, d, a, b, n, scalar_field::sub),
                Op::Mul(d, a, b) => binary(s, d, a, b, n, scalar_field::mul),
                Op::Square(d, a) => binary(s, d, a, a, n, scalar_field::mul),
                Op::Double(d, a) => unary(s, d, a, n, |x| scalar_field::double(&x)),
                Op::Negate(d, a) => unary(s, d, a, n, |x| scalar_field::neg(&x)),
                Op::Copy(d, a) => unary(s, d, a, n, |x| x),
                Op::Horner { dst, start: first, factor, from, to } => {
                    unary(s, dst, first, n, |x| x);
                    for &part in &self.horner_parts[from as usize..to as usize] {
                        let (d, [f, p]) = regs(s, dst, [factor, part]);
                        for i in 0..n {
                            d[i] = scalar_field::add(&scalar_field::mul(&d[i], &f[i]), &p[i]);
                        }
                    }
                }
            }
        }
        match self.result {
            Some(r) => out.copy_from_slice(&lanes_mut(s, r)[..n]),
            None => out.fill(Fq::ZERO),
        }
    }
}

/// The register an operation writes and those it reads (a Horner's parts aside).
fn registers_of(op: &Op) -> (Reg, Vec<Reg>) {
    match *op {
        Op::Load { dst, .. } | Op::Previous { dst } => (dst, vec![]),
        Op::Add(d, a, b) | Op::Sub(d, a, b) | Op::Mul(d, a, b) => (d, vec![a, b]),
        Op::Square(d, a) | Op::Double(d, a) | Op::Negate(d, a) | Op::Copy(d, a) => (d, vec![a]),
        Op::Horner { dst, start, factor, .. } => (dst, vec![start, factor]),
    }
}

fn lanes_mut(scratch: &mut [Fq], reg: Reg) -> &mut [Fq] {
    let at = reg as usize * BLOCK_ROWS;
    &mut scratch[at..at + BLOCK_ROWS]
}

/// The destination register's lanes, mutable, and the operands' lanes (none of them `dst`).
fn regs<const N: usize>(scratch: &mut [Fq], dst: Reg, operands: [Reg; N]) -> (&mut [Fq], [&[Fq]; N]) {
    let at = dst as usize * BLOCK_ROWS;
    let (below, rest) = scratch.split_at_mut(at);
    let (d, above) = rest.split_at_mut(BLOCK_ROWS);
    let (below, above) = (&*below, &*above);
    let lanes = operands.map(|r| {
        let r = r as usize * BLOCK_ROWS;
        debug_assert_ne!(r, at, "an operand shares the destination's register");
        if r < at {
            &below[r..r + BLOCK_ROWS]
        } else {
            &above[r - at - BLOCK_ROWS..r - at]
        }
    });
    (d, lanes)
}

#[inline(always)]
fn binary(s: &mut [Fq], d: Reg, a: Reg, b: Reg, n: usize, f: impl Fn(&Fq, &Fq) -> Fq) {
    let (d, [a, b]) = regs(s, d, [a, b]);
    for i in 0..n {
        d[i] = f(&a[i], &b[i]);
    }
}

#[inline(always)]
fn unary(s: &mut [Fq], d: Reg, a: Reg, n: usize, f: impl Fn(Fq) -> Fq) {
    let (d, [a]) = regs(s, d, [a]);
    for i in 0..n {
        d[i] = f(a[i]);
    }
}

/// `dst[i] = column[(start + i + rotation) mod len]`, in one copy when that does not wrap.
fn load(dst: &mut [Fq], column: &[Fq], start: usize, rotation: i64) {
    let len = column.len();
    let first = (start as i64 + rotation).rem_euclid(len as i64) as usize;
    if first + dst.len() <= len {
        dst.copy_from_slice(&column[first..first + dst.len()]);
    } else {
        for (i, d) in dst.iter_mut().enumerate() {
            *d = column[(first + i) % len];
        }
    }
}

#[cfg(test)]
mod tests;
