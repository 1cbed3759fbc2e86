'use strict'
// Numbers to markdown: the results table, the machine it ran on and how it was measured.
const fs = require('node:fs')
const os = require('node:os')

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** The CPU as /proc/cpuinfo names it (os.cpus() where there is none). */
function cpuModel() {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))
    if (m) return m[1].trim()
  } catch (_) { /* not Linux */ }
  return os.cpus()[0]?.model ?? 'unknown'
}

function machineInfo(threads) {
  return { cpu: cpuModel(), cores: os.availableParallelism(), threads, node: process.version, memGiB: os.totalmem() / 2 ** 30 }
}

const seconds = (ms) => (ms === undefined ? '—' : (ms / 1000).toFixed(3))
const times = (a, b) => (a === undefined || b === undefined ? '—' : `${(a / b).toFixed(1)}×`)

/** A row's name, marked when it proved on development parameters. */
const rowName = (row) => (row.dev ? `${row.name} (dev params)` : row.name)

/** One table line; a row holds per-run ms for `addon`, `zkir` and `floor` (any may be missing). */
function tableRow(row) {
  const [addon, cpu, zkir, floor] = [row.addon, row.addonCpu, row.zkir, row.floor].map((ms) => (ms ? median(ms) : undefined))
  const zkirCell = row.zkirSkipped ? 'skipped' : seconds(zkir)
  const cores = addon && cpu ? `${seconds(cpu)} (${(cpu / addon).toFixed(2)})` : '—'
  const ratio = addon && floor ? (addon / floor).toFixed(2) : '—'
  return `| ${rowName(row)} | ${row.k} | ${row.threads} | ${seconds(addon)} | ${cores} | ${zkirCell} | ${seconds(floor)} | ${times(zkir, addon)} | ${ratio} |`
}

const mebibytes = (bytes) => (bytes ? (bytes / 2 ** 20).toFixed(0) : '—')
const ratioOf = (a, b) => (a && b ? (a / b).toFixed(2) : '—')

/**
 * A load-and-memory line: the addon's load of the circuit beside Midnight's own decode of its
 * prover key, and the heap a proof held at its peak in each.
 */
function loadRow(row) {
  const load = `${seconds(row.load)} | ${seconds(row.decode)} | ${ratioOf(row.load, row.decode)}`
  return `| ${rowName(row)} | ${row.k} | ${load} | ${mebibytes(row.addonPeak)} | ${mebibytes(row.floorPeak)} | ${ratioOf(row.addonPeak, row.floorPeak)} |`
}

/** The key-load table, for the rows that have both figures (circuit rows). */
function loadTable(rows) {
  const loaded = rows.filter((row) => row.load !== undefined && row.decode !== undefined)
  if (loaded.length === 0) return []
  return [
    '## Key load and proof memory per circuit',
    '',
    '| circuit | k | addon load s | Midnight decode s | load/decode | addon peak MiB | floor peak MiB | addon/floor |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...loaded.map(loadRow),
    '',
    '- addon load: `getStatus().circuits[].loadMs` of the preload (one circuit at a time, on the prover\'s',
    '  pool): the IR parsed and validated, its cost model run (k and rows), beside the prover key read under',
    '  its bounds (crates/proving/src/key_check.rs) and the verifier key read.',
    '- Midnight decode: transient-crypto\'s `ProverKey` read and `init` of the same file in the floor process,',
    '  in a pool of the same size, with midnight-proofs\' own FFTs: what loading costs without this addon.',
    '- peak: the most native heap a proof held above what was live when it began (counting allocator),',
    '  `getStatus().circuits[].peakProofBytes` for the addon (its check and self-verification included)',
    '  and the same window around `Zkir::prove` in the floor, over its warm-up and timed proofs.',
    '',
  ]
}

function render({ rows, machine, config, wallMs }) {
  const zkirPlan = config.skipZkir
    ? 'skipped (BENCH_SKIP_ZKIR=1)'
    : `1 warm-up + ${config.iterations} timed for k < 13, ${config.zkirIterations} timed (no warm-up) for k ≥ 13 (median)`
  return [
    '## Prove time per circuit',
    '',
    `Machine: ${machine.cpu}; ${machine.cores} cores (os.availableParallelism), addon and floor on ${machine.threads} threads, backend ${machine.backend} unless the row names one; ` +
      `${machine.memGiB.toFixed(0)} GiB RAM; Node ${machine.node}; ${new Date().toISOString().slice(0, 10)}.`,
    '',
    `Iterations: addon and Rust floor 1 warm-up + ${config.iterations} timed (median); zkir-v2 ${zkirPlan}.`,
    '',
    '| circuit | k | threads | addon median s | addon CPU s (CPU/wall) | zkir-v2 s | Rust floor median s | zkir-v2/addon | addon/floor |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(tableRow),
    '',
    '- addon: wall time of `await prover.prove(id, preimageBytes)` in Node, keys and params preloaded; it includes',
    '  preimage decoding, the constraint check and the self-verification of the proof. Its commitments go',
    '  through our MSM engine (crates/kernels/src/msm), its quotient\'s expressions through our graph evaluator',
    '  (crates/kernels/src/gates.rs) and its FFTs through ours (crates/kernels/src/fft.rs); the floor runs midnight-proofs\'',
    '  own MSM (blst\'s multi_exp), evaluator and FFT (midnight-curves\' best_fft).',
    '- addon CPU: the Node process\'s CPU time (all threads) over the proof, and CPU/wall: the cores it used.',
    '  `threads` bounds it: a row with threads 1 shows it stays near 1.',
    '- zkir-v2: `@midnight-ntwrk/zkir-v2` `prove` on the same bytes and keys; parameters are handed over',
    '  ready-made (`params(k)`, computed once), zkir-v2 still parses them on every proof. It proves on one',
    '  thread (its CPU time equals its wall time). From k = 13 on it gets no warm-up, so a circuit that is',
    "  its first proof at that k pays one-off costs (seconds at k = 14: the tx row, run later, is warm).",
    '- Rust floor: `examples/floor.rs`, only `Zkir::prove` timed (no check, no verification) in a rayon pool of',
    '  the same size.',
    '- arttt clearMemos: real Compact compiler output (the fixtures\' `contracts/arttt`), with the witness of',
    '  `__test__/compact/`; bench_k6 to bench_k14 are hand-written ZKIR (chains of transient hashes).',
    '- ledger tx: `tx.prove(provider, CostModel.initialCostModel())` of a ledger-v8 transaction with one zswap',
    "  output, through our `prover.provingProvider(kmProvider)` vs zkir-v2's `provingProvider(kmProvider)`, one",
    '  kmProvider (same keys) for both; every proven transaction passes `wellFormed`.',
    '  It has no floor: the floor proves bare circuits only.',
    '- (dev params): past k = 14, where Midnight\'s `bls_midnight_2p{k}` cannot be fetched offline, the addon and',
    '  the floor prove with the same UNSAFE development parameters (`devParams`, one fixed seed) and keys made',
    '  on them; zkir-v2 is left out (minutes per proof). The spend + output transaction is proved through',
    '  `tx.prove` like the tx row above, but the ledger\'s `wellFormed` verifies with Midnight\'s parameters and',
    '  rejects development proofs, so it is not asked.',
    '',
    ...loadTable(rows),
    `Bench wall time: ${(wallMs / 1000).toFixed(0)} s.`,
    '',
  ].join('\n')
}

module.exports = { median, machineInfo, render }
