'use strict'
// `npm run bench:concurrency`: proofs per hour against maxConcurrent, at k = 10 and k = 14, on
// this machine's cores. Proving has serial stretches (witness generation, transcript hashing)
// that one proof leaves idle cores in; overlapping proofs may fill them, at the price of memory.
// The default maxConcurrent is chosen from this table (see the README).
//
// Env: BENCH_CONCURRENCY=1,2,3 levels to try; BENCH_PROOFS_K10 (default 24), BENCH_PROOFS_K14 (6).
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { performance } = require('node:perf_hooks')
const { createProver, serializePreimage } = require('..')
const { builtin, compactDir, testCircuit, witness } = require('../__test__/support/fixtures')
const { capturePreimages, buildZswapOutputTx } = require('../__test__/support/ledger')
const { machineInfo } = require('./report')

const RESULTS = path.join(__dirname, 'concurrency.md')
const log = (message) => process.stderr.write(`[bench:concurrency] ${message}\n`)
const list = (raw, fallback) => (raw ? raw.split(',').map(Number) : fallback)

/** Wall time of `count` proofs submitted at once, with `maxConcurrent` of them running at a time. */
async function burst(dir, id, preimages, maxConcurrent) {
  const prover = await createProver({ circuitKeysPath: dir, preloadCircuits: [id], maxConcurrent })
  await prover.prove(id, preimages[0]) // warm-up
  let peak = 0
  prover.on('finished', (e) => (peak = Math.max(peak, e.peakBytes)))
  const started = performance.now()
  await Promise.all(preimages.map((p) => prover.prove(id, p)))
  const ms = performance.now() - started
  await prover.close()
  return { ms, perHour: (preimages.length * 3600e3) / ms, peakMiB: peak / 2 ** 20 }
}

async function main() {
  const levels = list(process.env.BENCH_CONCURRENCY, [1, 2, 3])
  const dir = await compactDir({ bench_k10: testCircuit('bench_k10'), output: builtin('zswap/output').bzkir })
  const k10 = serializePreimage('bench_k10', witness('bench_k10.witness.json'))
  const k14 = (await capturePreimages(buildZswapOutputTx(1)))[0].preimage
  const cases = [
    { id: 'bench_k10', k: 10, preimages: Array(Number(process.env.BENCH_PROOFS_K10 || 24)).fill(k10) },
    { id: 'output', k: 14, preimages: Array(Number(process.env.BENCH_PROOFS_K14 || 6)).fill(k14) },
  ]
  const rows = []
  for (const c of cases) {
    for (const level of levels) {
      log(`${c.id} (k=${c.k}): ${c.preimages.length} proofs, maxConcurrent ${level}`)
      const r = await burst(dir, c.id, c.preimages, level)
      rows.push(`| ${c.id} | ${c.k} | ${level} | ${c.preimages.length} | ${(r.ms / 1000).toFixed(2)} | ${Math.round(r.perHour)} | ${r.peakMiB.toFixed(0)} |`)
    }
  }
  const m = machineInfo(os.availableParallelism())
  const table = [
    `Machine: ${m.cpu}; ${m.cores} cores, prover pool of ${m.threads} threads; Node ${m.node}; ${new Date().toISOString().slice(0, 10)}.`,
    '',
    '| circuit | k | maxConcurrent | proofs | wall s | proofs/hour | peak proof heap MiB |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    'Peak proof heap: the highest per-proof peak reported by `finished` events; with overlapping proofs it approximates their combined peak.',
  ].join('\n')
  fs.writeFileSync(RESULTS, `## Proofs per hour against maxConcurrent\n\n${table}\n`)
  process.stdout.write(`${table}\n`)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
