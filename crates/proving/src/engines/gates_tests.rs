//! The evaluator against midnight-proofs' own `GraphEvaluator::evaluate`, on random graphs.
use super::*;
use ff::Field;
use midnight_proofs::poly::{EvaluationDomain, LagrangeCoeff, Polynomial};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const ROWS_K: u32 = 7;
const ROT_SCALE: i32 = 4;

struct Columns {
    fixed: Vec<Polynomial<Fq, LagrangeCoeff>>,
    advice: Vec<Polynomial<Fq, LagrangeCoeff>>,
    instance: Vec<Polynomial<Fq, LagrangeCoeff>>,
    challenges: Vec<Fq>,
    /// beta, gamma, theta, the trash challenge and y.
    scalars: [Fq; 5],
}

fn columns(rng: &mut StdRng) -> Columns {
    let domain = EvaluationDomain::<Fq>::new(2, ROWS_K);
    let mut column = || domain.lagrange_from_vec((0..1 << ROWS_K).map(|_| Fq::random(&mut *rng)).collect());
    let (fixed, advice, instance) = ((0..3).map(|_| column()).collect(), (0..4).map(|_| column()).collect(), vec![column()]);
    Columns { fixed, advice, instance, challenges: vec![Fq::random(&mut *rng), Fq::random(&mut *rng)], scalars: std::array::from_fn(|_| Fq::random(&mut *rng)) }
}

/// A random source any calculation may read, among the `defined` intermediates so far.
fn source(rng: &mut StdRng, graph: &GraphEvaluator<Fq>, defined: usize) -> ValueSource {
    let rot = rng.gen_range(0..graph.rotations.len());
    match rng.gen_range(0..10) {
        0 => ValueSource::Constant(rng.gen_range(0..graph.constants.len())),
        1 => ValueSource::Fixed(rng.gen_range(0..3), rot),
        2 => ValueSource::Advice(rng.gen_range(0..4), rot),
        3 => ValueSource::Instance(0, rot),
        4 => ValueSource::Challenge(rng.gen_range(0..2)),
        5 => [ValueSource::Beta(), ValueSource::Gamma(), ValueSource::Theta(), ValueSource::TrashChallenge(), ValueSource::Y()][rng.gen_range(0..5)],
        6 => ValueSource::PreviousValue(),
        _ if defined > 0 => ValueSource::Intermediate(rng.gen_range(0..defined)),
        _ => ValueSource::Constant(1),
    }
}

fn random_graph(rng: &mut StdRng, calculations: usize) -> GraphEvaluator<Fq> {
    let mut graph = GraphEvaluator::<Fq>::default();
    graph.constants.extend([Fq::random(&mut *rng), -Fq::ONE]);
    graph.rotations = vec![0, 1, -1, 3, -(1 << ROWS_K)];
    for target in 0..calculations {
        let mut s = || source(rng, &graph, target);
        let calculation = match s_kind(target, calculations) {
            0 => Calculation::Add(s(), s()),
            1 => Calculation::Sub(s(), s()),
            2 => Calculation::Mul(s(), s()),
            3 => Calculation::Square(s()),
            4 => Calculation::Double(s()),
            5 => Calculation::Negate(s()),
            6 => Calculation::Store(s()),
            _ => Calculation::Horner(s(), (0..5).map(|_| s()).collect(), s()),
        };
        graph.calculations.push(CalculationInfo { calculation, target });
    }
    graph.num_intermediates = calculations;
    graph
}

/// Every kind in turn, and a Horner last, as the custom gates' graph ends.
fn s_kind(target: usize, calculations: usize) -> usize {
    if target + 1 == calculations {
        7
    } else {
        target % 8
    }
}

fn upstream(graph: &GraphEvaluator<Fq>, c: &Columns, previous: &[Fq]) -> Vec<Fq> {
    let mut data = graph.instance();
    let size = previous.len();
    (0..size)
        .map(|idx| {
            let [beta, gamma, theta, trash, y] = &c.scalars;
            graph.evaluate(
                &mut data,
                &c.fixed,
                &c.advice,
                &c.instance,
                &c.challenges,
                beta,
                gamma,
                theta,
                trash,
                y,
                &previous[idx],
                idx,
                ROT_SCALE,
                size as i32,
            )
        })
        .collect()
}

fn slices(cols: &[Polynomial<Fq, LagrangeCoeff>]) -> Vec<&[Fq]> {
    cols.iter().map(|p| &p[..]).collect()
}

fn inputs(c: &Columns) -> GraphInputs<'_> {
    GraphInputs {
        fixed: slices(&c.fixed),
        advice: slices(&c.advice),
        instance: slices(&c.instance),
        challenges: &c.challenges,
        scalars: c.scalars,
        rot_scale: ROT_SCALE,
    }
}

fn ours(graph: &GraphEvaluator<Fq>, c: &Columns, previous: &[Fq]) -> Option<Vec<Fq>> {
    let inputs = inputs(c);
    let mut values = previous.to_vec();
    engine(graph, &inputs, &mut values).then_some(values)
}

/// The compiled program run on the first `rows` rows of every column, in lanes or not.
fn run_on(graph: &GraphEvaluator<Fq>, c: &Columns, previous: &[Fq], rows: usize, lanes: bool) -> Vec<Fq> {
    let inputs = inputs(c);
    let columns: Vec<&[Fq]> = inputs.fixed.iter().chain(&inputs.advice).chain(&inputs.instance).map(|c| &c[..rows]).collect();
    let mut values = previous[..rows].to_vec();
    assert!(compile(graph, &inputs).expect("compiled").run(&columns, &mut values, lanes));
    values
}

#[test]
fn random_graphs_evaluate_as_midnight_proofs_does() {
    let mut rng = StdRng::seed_from_u64(7);
    for calculations in [1, 2, 3, 8, 40, 300] {
        let c = columns(&mut rng);
        let graph = random_graph(&mut rng, calculations);
        let previous: Vec<Fq> = (0..1 << ROWS_K).map(|_| Fq::random(&mut rng)).collect();
        let expected = upstream(&graph, &c, &previous);
        for (backend, got) in kernels::backend::each(|_| ours(&graph, &c, &previous).expect("compiled")) {
            assert_eq!(got, expected, "{calculations} calculations, {backend:?}");
        }
        assert_eq!(run_on(&graph, &c, &previous, 1 << ROWS_K, false), expected, "{calculations} calculations, one row at a time");
    }
}

/// Where the CPU has IFMA, full blocks run in lanes (the test above goes through them) and a
/// last block shorter than `BLOCK_ROWS` one row at a time: the results agree on 100 rows.
#[test]
fn lanes_and_rows_agree_with_a_short_last_block() {
    if !kernels::backend::ifma_testable() {
        return;
    }
    let mut rng = StdRng::seed_from_u64(11);
    for calculations in [1, 40, 300] {
        let c = columns(&mut rng);
        let graph = random_graph(&mut rng, calculations);
        let previous: Vec<Fq> = (0..1 << ROWS_K).map(|_| Fq::random(&mut rng)).collect();
        let plain = run_on(&graph, &c, &previous, 100, false);
        assert_eq!(run_on(&graph, &c, &previous, 100, true), plain, "{calculations} calculations");
    }
}

#[test]
fn registers_are_reused_once_values_are_dead() {
    let mut rng = StdRng::seed_from_u64(8);
    let c = columns(&mut rng);
    // A chain: each calculation reads the one before it and a column, as gate terms do.
    let mut graph = GraphEvaluator::<Fq> { rotations: vec![0], ..Default::default() };
    for target in 0..300 {
        let previous = if target == 0 { ValueSource::Constant(1) } else { ValueSource::Intermediate(target - 1) };
        let calculation = Calculation::Mul(previous, ValueSource::Advice(target % 4, 0));
        graph.calculations.push(CalculationInfo { calculation, target });
    }
    graph.num_intermediates = 300;
    let inputs = GraphInputs {
        fixed: slices(&c.fixed),
        advice: slices(&c.advice),
        instance: slices(&c.instance),
        challenges: &c.challenges,
        scalars: c.scalars,
        rot_scale: 1,
    };
    let program = compile(&graph, &inputs).unwrap();
    let broadcast = program.broadcast_registers();
    assert!(program.registers() <= broadcast + 3, "{} registers for 300 intermediates", program.registers());
    let previous = vec![Fq::ZERO; 1 << ROWS_K];
    let expected: Vec<Fq> = (0..1 << ROWS_K).map(|row| (0..300).fold(Fq::ONE, |v, t| v * c.advice[t % 4][row])).collect();
    assert_eq!(ours(&graph, &c, &previous).unwrap(), expected);
}

#[test]
fn an_empty_graph_gives_zero_and_indices_out_of_range_fall_back() {
    let mut rng = StdRng::seed_from_u64(9);
    let c = columns(&mut rng);
    let previous: Vec<Fq> = (0..1 << ROWS_K).map(|_| Fq::random(&mut rng)).collect();
    let empty = GraphEvaluator::<Fq>::default();
    assert_eq!(ours(&empty, &c, &previous).unwrap(), upstream(&empty, &c, &previous));

    let mut unknown_challenge = GraphEvaluator::<Fq>::default();
    unknown_challenge.calculations.push(CalculationInfo { calculation: Calculation::Add(ValueSource::Challenge(2), ValueSource::Y()), target: 0 });
    unknown_challenge.num_intermediates = 1;
    assert_eq!(ours(&unknown_challenge, &c, &previous), None, "a challenge index out of range");

    let mut out_of_range = GraphEvaluator::<Fq>::default();
    out_of_range.calculations.push(CalculationInfo { calculation: Calculation::Store(ValueSource::Advice(9, 0)), target: 0 });
    out_of_range.num_intermediates = 1;
    assert_eq!(ours(&out_of_range, &c, &previous), None, "a column index out of range");
}

#[test]
fn a_graph_that_keeps_too_many_values_live_falls_back() {
    let mut rng = StdRng::seed_from_u64(10);
    let c = columns(&mut rng);
    let previous: Vec<Fq> = (0..1 << ROWS_K).map(|_| Fq::random(&mut rng)).collect();
    // Every value stays live until one Horner reads them all, as the custom gates' final sum
    // reads every gate's polynomial.
    let mut graph = GraphEvaluator::<Fq> { rotations: vec![0], ..Default::default() };
    let count = MAX_REGISTERS + 1;
    for target in 0..count {
        graph.calculations.push(CalculationInfo { calculation: Calculation::Store(ValueSource::Advice(target % 4, 0)), target });
    }
    let parts = (0..count).map(ValueSource::Intermediate).collect();
    graph.calculations.push(CalculationInfo { calculation: Calculation::Horner(ValueSource::PreviousValue(), parts, ValueSource::Y()), target: count });
    graph.num_intermediates = count + 1;
    assert_eq!(ours(&graph, &c, &previous), None, "more than MAX_REGISTERS live values");
    graph.calculations.drain(1000..count);
    let Calculation::Horner(_, parts, _) = &mut graph.calculations.last_mut().unwrap().calculation else { unreachable!() };
    parts.truncate(1000);
    assert_eq!(ours(&graph, &c, &previous).unwrap(), upstream(&graph, &c, &previous), "1000 live values compile");
}
