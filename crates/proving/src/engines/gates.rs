//! midnight-proofs' expression graphs compiled into the kernels' gate programs
//! (`kernels::gates`), and that evaluator installed in midnight-proofs by the hook in
//! `patches/midnight-proofs+0.7.3.patch` (`set_graph_engine`). A graph is compiled once per
//! call: registers are reused once their value is dead, so a block's working set stays small.
//! Field arithmetic is exact, so the values are the same as midnight-proofs' (tested against
//! its own evaluator, and proofs are byte-identical). A graph this cannot compile (an index out
//! of range, too many live values) is left to midnight-proofs' evaluator.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

use kernels::gates::{Op, Program, ProgramParts, Reg, MAX_REGISTERS};
use midnight_curves::Fq;
use midnight_proofs::plonk::evaluation::{Calculation, CalculationInfo, GraphEvaluator, GraphInputs, ValueSource};

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
    let ran = compile(graph, inputs).is_some_and(|program| program.run(&columns, values, kernels::backend::current().lanes()));
    if ran {
        EVALUATED.fetch_add(1, Relaxed);
    }
    ran
}

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
    Program::new(c.program)
}

/// Where a calculation's operand lives before compilation: a register, or a value to load.
enum Operand {
    Reg(Reg),
    Load(Op),
}

struct Compiler<'g> {
    graph: &'g GraphEvaluator<Fq>,
    inputs: &'g GraphInputs<'g>,
    program: ProgramParts,
    /// Register of each intermediate, while it is live.
    of_intermediate: Vec<Option<Reg>>,
    /// Index of the last calculation that reads each intermediate.
    last_use: Vec<usize>,
    free: Vec<Reg>,
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
        let mut c = Compiler { graph, inputs, program: ProgramParts::default(), of_intermediate: vec![None; count], last_use, free: vec![] };
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

    fn calculation(&mut self, at: usize, info: &CalculationInfo) -> Option<()> {
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

#[cfg(test)]
#[path = "gates_tests.rs"]
mod tests;
