//! Our evaluator of midnight-proofs' expression graphs over the extended domain: a circuit's
//! custom gates, its lookups' compressed expressions and its trash arguments, the largest part of
//! computing the quotient polynomial h. midnight-proofs interprets a graph one row at a time: for
//! every row and every calculation it matches the operation, then matches each operand's source
//! through a 13-argument call. That dispatch took as much time as the field arithmetic itself
//! (`GraphEvaluator::evaluate` and `ValueSource::get` were 17% of a zswap output proof's samples,
//! self time only).
//!
//! Here a graph is compiled once per call into a flat program over registers, and each operation
//! runs over a block of `BLOCK_ROWS` rows at a time: the dispatch is paid once per block, and the
//! inner loops are field operations only. Registers are reused once their value is dead, so a
//! block's working set stays small. The operations use the inlined arithmetic of `scalar_field`.
//! Field arithmetic is exact, so the values are the same as midnight-proofs' (tested against its
//! own evaluator, and proofs are byte-identical).
//!
//! Installed by the hook in `patches/midnight-proofs+0.7.3.patch` (`set_graph_engine`); a graph
//! this program cannot compile (an index out of range) is left to midnight-proofs' evaluator.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

use super::scalar_field::{self, with_fast_arith};
use ff::Field;
use midnight_curves::Fq;
use midnight_proofs::plonk::evaluation::{Calculation, GraphEvaluator, GraphInputs, ValueSource};
use rayon::prelude::*;

#[cfg(target_arch = "x86_64")]
mod ifma;

/// Rows per block: one operation runs over this many rows before the next is dispatched.
const BLOCK_ROWS: usize = 32;
/// Blocks per parallel task: few, so that a worker done early takes more of the rest (with 64,
/// the last task of a graph held one worker alone for about 30 ms per zswap output proof). The
/// scratch is set up once per run of tasks on a worker, not per task.
const BLOCKS_PER_TASK: usize = 8;
/// Registers a program may use. Each is `BLOCK_ROWS` values (1 KiB, or 1.25 KiB in limbs on CPUs with
/// IFMA) in every worker's scratch, so this bounds a worker's scratch to 16 MiB (20 MiB in limbs,
/// and 36 MiB if it met both kinds of block) whatever the proving key's gates are. Real circuits use about
/// a hundred (the zswap output's custom gates: 108); a graph that needs more is left to
/// midnight-proofs, whose per-row scratch is `BLOCK_ROWS` times smaller.
const MAX_REGISTERS: usize = 1 << 14;

static ENABLED: AtomicBool = AtomicBool::new(true);
static EVALUATED: AtomicU64 = AtomicU64::new(0);

/// Installs the evaluator into midnight-proofs (once per process; later calls do nothing).
pub fn install() {
    midnight_proofs::plonk::evaluation::set_graph_engine(engine);
}

/// Turns the evaluator off (midnight-proofs' own runs) or back on. For comparisons: the values
/// are the same either way.
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Relaxed);
}

/// How many graphs this evaluator has evaluated in this process (tests check it ran).
pub fn evaluated() -> u64 {
    EVALUATED.load(Relaxed)
}

fn engine(graph: &GraphEvaluator<Fq>, inputs: &GraphInputs<'_>, values: &mut [Fq]) -> bool {
    if !ENABLED.load(Relaxed) {
        return false;
    }
    let columns: Vec<&[Fq]> = inputs.fixed.iter().chain(&inputs.advice).chain(&inputs.instance).copied().collect();
    if columns.iter().any(|c| c.len() != values.len()) {
        return false;
    }
    match Program::compile(graph, inputs) {
        Some(program) => {
            program.run(&columns, values, super::backend::current().lanes());
            EVALUATED.fetch_add(1, Relaxed);
            true
        }
        None => false,
    }
}

/// A register: `BLOCK_ROWS` consecutive values in the scratch.
type Reg = u32;

#[derive(Debug, Clone)]
enum Op {
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

/// A gate graph compiled to register operations.
#[derive(Debug)]
struct Program {
    ops: Vec<Op>,
    horner_parts: Vec<Reg>,
    /// Registers that hold the same value in every row (constants, challenges, y), set once.
    broadcast: Vec<(Reg, Fq)>,
    registers: usize,
    result: Option<Reg>,
}

/// A worker's registers, set up on its first block of each kind and kept for the next.
#[derive(Default)]
struct Scratch {
    plain: Option<Vec<Fq>>,
    #[cfg(target_arch = "x86_64")]
    lanes: Option<Vec<ifma::Reg8>>,
}

/// Where a calculation's operand lives before compilation: a register, or a value to load.
enum Operand {
    Reg(Reg),
    Load(Op),
}

struct Compiler<'g> {
    graph: &'g GraphEvaluator<Fq>,
    inputs: &'g GraphInputs<'g>,
    program: Program,
    /// Register of each intermediate, while it is live.
    of_intermediate: Vec<Option<Reg>>,
    /// Index of the last calculation that reads each intermediate.
    last_use: Vec<usize>,
    free: Vec<Reg>,
}

impl Program {
    /// None when the graph reads an index out of range or needs more than `MAX_REGISTERS`: the
    /// caller falls back.
    fn compile(graph: &GraphEvaluator<Fq>, inputs: &GraphInputs<'_>) -> Option<Program> {
        let mut c = Compiler::new(graph, inputs)?;
        for (at, calc) in graph.calculations.iter().enumerate() {
            c.calculation(at, calc)?;
            if c.program.registers > MAX_REGISTERS {
                return None;
            }
        }
        c.program.result = match graph.calculations.last() {
            Some(last) => Some(c.of_intermediate.get(last.target).copied().flatten()?),
            None => None,
        };
        Some(c.program)
    }

    /// Evaluates every row into `values`: full blocks in lanes when `in_lanes` (a CPU with
    /// AVX-512 IFMA, `ifma`), everything else one row at a time.
    fn run(&self, columns: &[&[Fq]], values: &mut [Fq], in_lanes: bool) {
        #[cfg(not(target_arch = "x86_64"))]
        let _ = in_lanes;
        let task_rows = BLOCK_ROWS * BLOCKS_PER_TASK;
        values.par_chunks_mut(task_rows).enumerate().for_each_init(Scratch::default, |scratch, (task, rows)| {
            for (block, out) in rows.chunks_mut(BLOCK_ROWS).enumerate() {
                let start = task * task_rows + block * BLOCK_ROWS;
                #[cfg(target_arch = "x86_64")]
                if in_lanes && out.len() == BLOCK_ROWS {
                    // SAFETY: `in_lanes` only where the CPU has the features (`engine`).
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

impl<'g> Compiler<'g> {
    fn new(graph: &'g GraphEvaluator<Fq>, inputs: &'g GraphInputs<'g>) -> Option<Compiler<'g>> {
        let count = graph.num_intermediates;
        let mut last_use = vec![0; count];
        for (at, calc) in graph.calculations.iter().enumerate() {
            for source in sources(&calc.calculation) {
                if let ValueSource::Intermediate(i) = source {
                    *last_use.get_mut(*i)? = at;
                }
            }
        }
        let mut c = Compiler {
            graph,
            inputs,
            program: Program { ops: vec![], horner_parts: vec![], broadcast: vec![], registers: 0, result: None },
            of_intermediate: vec![None; count],
            last_use,
            free: vec![],
        };
        c.broadcast_constants();
        Some(c)
    }

    fn broadcast_constants(&mut self) {
        let values: Vec<Fq> = self.graph.constants.iter().chain(self.inputs.challenges).chain(&self.inputs.scalars).copied().collect();
        for value in values {
            let reg = self.fresh();
            self.program.broadcast.push((reg, value));
        }
    }

    fn fresh(&mut self) -> Reg {
        self.free.pop().unwrap_or_else(|| {
            self.program.registers += 1;
            (self.program.registers - 1) as Reg
        })
    }

    /// The register of a broadcast value: constants first, then challenges, then `scalars`.
    fn broadcast_reg(&self, index: usize) -> Reg {
        self.program.broadcast[index].0
    }

    fn operand(&mut self, source: &ValueSource) -> Option<Operand> {
        let (constants, challenges) = (self.graph.constants.len(), self.inputs.challenges.len());
        let column = |base: usize, count: usize, col: usize, rot: usize| -> Option<Operand> {
            let rotation = *self.graph.rotations.get(rot)? as i64 * self.inputs.rot_scale as i64;
            (col < count).then(|| Operand::Load(Op::Load { dst: 0, column: (base + col) as u32, rotation }))
        };
        let (fixed, advice, instance) = (self.inputs.fixed.len(), self.inputs.advice.len(), self.inputs.instance.len());
        Some(match *source {
            ValueSource::Constant(i) if i < constants => Operand::Reg(self.broadcast_reg(i)),
            ValueSource::Challenge(i) if i < challenges => Operand::Reg(self.broadcast_reg(constants + i)),
            ValueSource::Beta() => Operand::Reg(self.broadcast_reg(constants + challenges)),
            ValueSource::Gamma() => Operand::Reg(self.broadcast_reg(constants + challenges + 1)),
            ValueSource::Theta() => Operand::Reg(self.broadcast_reg(constants + challenges + 2)),
            ValueSource::TrashChallenge() => Operand::Reg(self.broadcast_reg(constants + challenges + 3)),
            ValueSource::Y() => Operand::Reg(self.broadcast_reg(constants + challenges + 4)),
            ValueSource::Intermediate(i) => Operand::Reg((*self.of_intermediate.get(i)?)?),
            ValueSource::Fixed(col, rot) => column(0, fixed, col, rot)?,
            ValueSource::Advice(col, rot) => column(fixed, advice, col, rot)?,
            ValueSource::Instance(col, rot) => column(fixed + advice, instance, col, rot)?,
            // The block's output holds the previous values until the block ends.
            ValueSource::PreviousValue() => Operand::Load(Op::Previous { dst: 0 }),
            ValueSource::Constant(_) | ValueSource::Challenge(_) => return None,
        })
    }

    /// A register holding `source`: columns and the previous value are loaded into a temporary,
    /// which the caller frees once its calculation is emitted.
    fn reg(&mut self, source: &ValueSource, temps: &mut Vec<Reg>) -> Option<Reg> {
        Some(match self.operand(source)? {
            Operand::Reg(r) => r,
            Operand::Load(load) => {
                let dst = self.fresh();
                self.program.ops.push(with_dst(load, dst));
                temps.push(dst);
                dst
            }
        })
    }

    fn calculation(&mut self, at: usize, info: &midnight_proofs::plonk::evaluation::CalculationInfo) -> Option<()> {
        let mut temps = vec![];
        let op = match &info.calculation {
            Calculation::Store(a) => match self.operand(a)? {
                Operand::Load(load) => load,
                Operand::Reg(r) => Op::Copy(0, r),
            },
            Calculation::Add(a, b) => Op::Add(0, self.reg(a, &mut temps)?, self.reg(b, &mut temps)?),
            Calculation::Sub(a, b) => Op::Sub(0, self.reg(a, &mut temps)?, self.reg(b, &mut temps)?),
            Calculation::Mul(a, b) => Op::Mul(0, self.reg(a, &mut temps)?, self.reg(b, &mut temps)?),
            Calculation::Square(a) => Op::Square(0, self.reg(a, &mut temps)?),
            Calculation::Double(a) => Op::Double(0, self.reg(a, &mut temps)?),
            Calculation::Negate(a) => Op::Negate(0, self.reg(a, &mut temps)?),
            Calculation::Horner(first, parts, factor) => {
                let (first, factor) = (self.reg(first, &mut temps)?, self.reg(factor, &mut temps)?);
                let from = self.program.horner_parts.len() as u32;
                for part in parts {
                    let reg = self.reg(part, &mut temps)?;
                    self.program.horner_parts.push(reg);
                }
                Op::Horner { dst: 0, start: first, factor, from, to: self.program.horner_parts.len() as u32 }
            }
        };
        // The destination never shares a register with an operand: operands are freed after it
        // is taken, so Horner can read its parts after writing its destination.
        let dst = self.fresh();
        self.program.ops.push(with_dst(op, dst));
        self.free.extend(temps);
        self.define(at, info.target, dst)?;
        self.release_dead(at, &info.calculation);
        Some(())
    }

    fn define(&mut self, at: usize, target: usize, reg: Reg) -> Option<()> {
        let slot = self.of_intermediate.get_mut(target)?;
        // A value no later calculation reads is dropped at once, unless it is the result.
        let read_later = self.last_use[target] > at;
        if read_later || at + 1 == self.graph.calculations.len() {
            *slot = Some(reg);
        } else {
            self.free.push(reg);
        }
        Some(())
    }

    /// Frees the registers of intermediates whose last reader is calculation `at`.
    fn release_dead(&mut self, at: usize, calc: &Calculation) {
        for source in sources(calc) {
            if let ValueSource::Intermediate(i) = *source {
                if self.last_use[i] == at {
                    if let Some(reg) = self.of_intermediate[i].take() {
                        self.free.push(reg);
                    }
                }
            }
        }
    }
}

/// The operands a calculation reads.
fn sources(calc: &Calculation) -> Vec<&ValueSource> {
    match calc {
        Calculation::Add(a, b) | Calculation::Sub(a, b) | Calculation::Mul(a, b) => vec![a, b],
        Calculation::Square(a) | Calculation::Double(a) | Calculation::Negate(a) | Calculation::Store(a) => vec![a],
        Calculation::Horner(first, parts, factor) => [first, factor].into_iter().chain(parts).collect(),
    }
}

fn with_dst(op: Op, dst: Reg) -> Op {
    match op {
        Op::Add(_, a, b) => Op::Add(dst, a, b),
        Op::Sub(_, a, b) => Op::Sub(dst, a, b),
        Op::Mul(_, a, b) => Op::Mul(dst, a, b),
        Op::Square(_, a) => Op::Square(dst, a),
        Op::Double(_, a) => Op::Double(dst, a),
        Op::Negate(_, a) => Op::Negate(dst, a),
        Op::Copy(_, a) => Op::Copy(dst, a),
        Op::Horner { start, factor, from, to, .. } => Op::Horner { dst, start, factor, from, to },
        Op::Load { column, rotation, .. } => Op::Load { dst, column, rotation },
        Op::Previous { .. } => Op::Previous { dst },
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
