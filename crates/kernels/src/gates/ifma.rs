//! The evaluator's blocks in lanes, on CPUs with AVX-512 IFMA. A register holds its block's 32
//! rows as four groups of eight, in 52-bit limbs (`lanes`), from the loads to the result: every
//! operation between them is vertical, with no transposes but the loads' and the result's.

use std::arch::x86_64::*;

use midnight_curves::Fq;

use super::{load, Op, Program, BLOCK_ROWS};
use crate::lanes;
use crate::scalar_field::{ifma as fr8, LANES_MODULUS as R};

/// A register: `BLOCK_ROWS` rows, eight to a group of limbs.
pub type Reg8 = [[__m512i; 5]; BLOCK_ROWS / 8];

impl Program {
    /// A scratch of registers in limbs, with the broadcast ones set.
    ///
    /// # Safety
    /// The CPU must have AVX-512F and IFMA (`backend::current().lanes()`).
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) unsafe fn lane_scratch(&self) -> Vec<Reg8> {
        let mut scratch = vec![[[_mm512_setzero_si512(); 5]; BLOCK_ROWS / 8]; self.registers];
        for (reg, value) in &self.broadcast {
            scratch[*reg as usize] = [fr8::splat(value, 0); BLOCK_ROWS / 8];
        }
        scratch
    }

    /// `block` for a full block of `BLOCK_ROWS` rows, in limbs.
    ///
    /// # Safety
    /// The CPU must have AVX-512F and IFMA (`backend::current().lanes()`); `out` holds `BLOCK_ROWS` rows.
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) unsafe fn lane_block(&self, s: &mut [Reg8], columns: &[&[Fq]], start: usize, out: &mut [Fq]) {
        assert_eq!(out.len(), BLOCK_ROWS);
        let zero = [[_mm512_setzero_si512(); 5]; BLOCK_ROWS / 8];
        for op in &self.ops {
            match *op {
                Op::Load { dst, column, rotation } => {
                    let mut rows = [Fq::default(); BLOCK_ROWS];
                    load(&mut rows, columns[column as usize], start, rotation);
                    s[dst as usize] = from_rows(&rows);
                }
                Op::Previous { dst } => s[dst as usize] = from_rows(out),
                Op::Add(d, a, b) => s[d as usize] = rows(Arith::Add, &s[a as usize], &s[b as usize]),
                Op::Sub(d, a, b) => s[d as usize] = rows(Arith::Sub, &s[a as usize], &s[b as usize]),
                Op::Mul(d, a, b) => s[d as usize] = rows(Arith::Mul, &s[a as usize], &s[b as usize]),
                Op::Square(d, a) => s[d as usize] = rows(Arith::Mul, &s[a as usize], &s[a as usize]),
                Op::Double(d, a) => s[d as usize] = rows(Arith::Add, &s[a as usize], &s[a as usize]),
                Op::Negate(d, a) => s[d as usize] = rows(Arith::Sub, &zero, &s[a as usize]),
                Op::Copy(d, a) => s[d as usize] = s[a as usize],
                Op::Horner { dst, start: first, factor, from, to } => {
                    let mut acc = s[first as usize];
                    for &part in &self.horner_parts[from as usize..to as usize] {
                        acc = rows(Arith::Add, &rows(Arith::Mul, &acc, &s[factor as usize]), &s[part as usize]);
                    }
                    s[dst as usize] = acc;
                }
            }
        }
        match self.result {
            Some(r) => {
                for (g, group) in s[r as usize].iter().enumerate() {
                    fr8::store(out.as_mut_ptr().add(8 * g), group);
                }
            }
            None => out.fill(Fq::default()),
        }
    }
}

#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
unsafe fn from_rows(rows: &[Fq]) -> Reg8 {
    let mut reg = [[_mm512_setzero_si512(); 5]; BLOCK_ROWS / 8];
    for (g, group) in reg.iter_mut().enumerate() {
        *group = fr8::load(rows.as_ptr().add(8 * g), 0);
    }
    reg
}

/// The field operations a block makes, row by row.
#[derive(Clone, Copy)]
enum Arith {
    Add,
    Sub,
    Mul,
}

#[target_feature(enable = "avx512f,avx512ifma")]
#[inline]
unsafe fn rows(op: Arith, a: &Reg8, b: &Reg8) -> Reg8 {
    let mut out = *a;
    for g in 0..BLOCK_ROWS / 8 {
        out[g] = match op {
            Arith::Add => lanes::add(&a[g], &b[g], &R),
            Arith::Sub => lanes::sub(&a[g], &b[g], &R),
            Arith::Mul => lanes::mul(&a[g], &b[g], &R),
        };
    }
    out
}
