//! Programs built by hand against the same rows computed one by one (the proving crate tests compiled
//! graphs against midnight-proofs' own evaluator), and the checks `Program::new` and `run` make.
use super::*;
use rand::rngs::StdRng;
use rand::SeedableRng;

const ROWS: usize = 128;

/// Columns a, b and the previous values, random.
fn rows(rng: &mut StdRng) -> [Vec<Fq>; 3] {
    std::array::from_fn(|_| (0..ROWS).map(|_| Fq::random(&mut *rng)).collect())
}

/// r = ((prev·y + a(ω·x)·b) ·y + (a − b(ω⁻¹·x)))·y + c, where c = −(2a)², every operation once.
fn program(y: Fq) -> Program {
    use Op::*;
    let ops = vec![
        Load { dst: 1, column: 0, rotation: 1 },
        Load { dst: 2, column: 1, rotation: 0 },
        Mul(3, 1, 2),
        Load { dst: 1, column: 0, rotation: 0 },
        Load { dst: 2, column: 1, rotation: -1 },
        Sub(4, 1, 2),
        Double(5, 1),
        Square(6, 5),
        Negate(7, 6),
        Copy(2, 7),
        Add(8, 2, 0),
        Sub(9, 8, 0),
        Previous { dst: 1 },
        Horner { dst: 10, start: 1, factor: 0, from: 0, to: 3 },
    ];
    Program::new(ProgramParts { ops, horner_parts: vec![3, 4, 9], broadcast: vec![(0, y)], registers: 11, result: Some(10) }).expect("a sound program")
}

fn expected(y: Fq, [a, b, previous]: &[Vec<Fq>; 3], rows: usize) -> Vec<Fq> {
    let at = |column: &Vec<Fq>, row: usize, rotation: i64| column[(row as i64 + rotation).rem_euclid(rows as i64) as usize];
    (0..rows)
        .map(|row| {
            let c = -(at(a, row, 0).double()).square();
            ((previous[row] * y + at(a, row, 1) * at(b, row, 0)) * y + (at(a, row, 0) - at(b, row, -1))) * y + c
        })
        .collect()
}

#[test]
fn every_operation_equals_the_rows_computed_one_by_one_on_every_backend_and_block_length() {
    let mut rng = StdRng::seed_from_u64(5);
    let (columns, y) = (rows(&mut rng), Fq::random(&mut rng));
    let program = program(y);
    for rows in [ROWS, 100, 31, 1] {
        let inputs: Vec<&[Fq]> = columns[..2].iter().map(|c| &c[..rows]).collect();
        let cut = [columns[0][..rows].to_vec(), columns[1][..rows].to_vec(), columns[2][..rows].to_vec()];
        let want = expected(y, &cut, rows);
        for (backend, got) in crate::backend::each(|b| {
            let mut values = cut[2].clone();
            assert!(program.run(&inputs, &mut values, b.lanes()));
            values
        }) {
            assert_eq!(got, want, "{rows} rows, {backend:?}");
        }
    }
}

#[test]
fn programs_that_could_index_out_of_bounds_are_refused() {
    let parts =
        |ops: Vec<Op>, horner_parts: Vec<Reg>, registers: usize, result: Option<Reg>| ProgramParts { ops, horner_parts, broadcast: vec![], registers, result };
    let refused = |p: ProgramParts| Program::new(p).is_none();
    assert!(!refused(parts(vec![Op::Add(2, 0, 1)], vec![], 3, Some(2))));
    assert!(refused(parts(vec![Op::Add(3, 0, 1)], vec![], 3, None)), "a destination out of range");
    assert!(refused(parts(vec![Op::Mul(2, 0, 5)], vec![], 3, None)), "an operand out of range");
    assert!(refused(parts(vec![Op::Add(1, 0, 1)], vec![], 3, None)), "a destination that is an operand");
    assert!(refused(parts(vec![], vec![], 3, Some(3))), "a result out of range");
    assert!(refused(parts(vec![], vec![], MAX_REGISTERS + 1, None)), "more than MAX_REGISTERS");
    let horner = |from, to| Op::Horner { dst: 2, start: 0, factor: 1, from, to };
    assert!(!refused(parts(vec![horner(0, 2)], vec![0, 1], 3, None)));
    assert!(refused(parts(vec![horner(0, 3)], vec![0, 1], 3, None)), "a Horner range past its parts");
    assert!(refused(parts(vec![horner(2, 1)], vec![0, 1], 3, None)), "a Horner range backwards");
    assert!(refused(parts(vec![horner(0, 1)], vec![2], 3, None)), "a Horner part that is its destination");
}

#[test]
fn a_missing_column_or_a_column_of_another_length_runs_nothing() {
    let mut rng = StdRng::seed_from_u64(6);
    let columns = rows(&mut rng);
    let program = program(Fq::ONE);
    let mut values = columns[2].clone();
    assert!(!program.run(&[&columns[0]], &mut values, false), "column 1 is missing");
    assert!(!program.run(&[&columns[0], &columns[1][..ROWS - 1]], &mut values, false), "a short column");
    assert_eq!(values, columns[2], "values untouched");
}
