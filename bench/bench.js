'use strict'
// `npm run bench`: prove time per circuit (k = 6, 10, 13, 14) for this addon, the official wasm
// prover @midnight-ntwrk/zkir-v2 and the "Rust floor" (examples/floor.rs: midnight-zkir called
// directly), plus a ledger-v8 transaction proved through each prover. A benchmark, not a test:
// it prints a markdown table to stdout (progress goes to stderr) and writes it to bench/results.md.
//
// Env: BENCH_ITERATIONS (default 3) timed proofs per circuit for the addon and the floor, after
//        one warm-up; also zkir-v2's count below k = 13;
//      BENCH_ZKIR_ITERATIONS (default 1) zkir-v2 proofs for k >= 13 (30-60 s each on 2 cores);
//      BENCH_SKIP_ZKIR=1 leaves the zkir-v2 column out;
//      BENCH_ONLY=k14,tx,... rows to run: k6 k10 ... k17, a circuit id, dust, zswap, tx or large
//        (every row past k = 14: development parameters, made once into .test-cache/dev-params);
//      MIDNIGHT_PROVER_BACKEND the backend of every row but the last ones: the zswap output row
//        is run again on each other backend the CPU has (crates/kernels/src/backend.rs).
const fs = require('node:fs')
const path = require('node:path')
const { performance } = require('node:perf_hooks')
const { createProver, params, devParams } = require('..')
const { compactDir, ROOT } = require('../__test__/support/fixtures')
const { kmProvider, zkirProve, zkirProvingProvider } = require('../__test__/support/zkir-peer')
const { proveTx, wellFormed } = require('../__test__/support/ledger')
const { selectCases, circuitFiles, zkirMaterial } = require('./cases')
const { floorBinary, runFloor } = require('./floor')
const { median, machineInfo, render } = require('./report')

const RESULTS = path.join(__dirname, 'results.md')
/** Development parameters for the rows past k = 14: deterministic, so made once and kept. */
const DEV_PARAMS = path.join(ROOT, '.test-cache', 'dev-params')

const log = (message) => process.stderr.write(`[bench] ${message}\n`)

function positiveInt(name, fallback) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`)
  return n
}

function readConfig() {
  return {
    iterations: positiveInt('BENCH_ITERATIONS', 3),
    zkirIterations: positiveInt('BENCH_ZKIR_ITERATIONS', 1),
    skipZkir: process.env.BENCH_SKIP_ZKIR === '1',
    only: (process.env.BENCH_ONLY || '').split(',').map((s) => s.trim()).filter(Boolean),
  }
}

/**
 * Wall ms of `iterations` sequential runs of `fn` after `warmup` untimed ones, the process's CPU ms
 * (all threads, user + system) over each, and the last result.
 */
async function timeRuns(fn, { warmup, iterations }) {
  for (let i = 0; i < warmup; i++) await fn()
  const ms = []
  const cpuMs = []
  let last
  for (let i = 0; i < iterations; i++) {
    const [started, cpu] = [performance.now(), process.cpuUsage()]
    last = await fn()
    ms.push(performance.now() - started)
    const used = process.cpuUsage(cpu)
    cpuMs.push((used.user + used.system) / 1000)
  }
  return { ms, cpuMs, last }
}

/** zkir-v2 takes 30-60 s per proof from k = 13 on, so it gets fewer (and no warm-up) there. */
function zkirPlan(config, k) {
  return k >= 13 ? { warmup: 0, iterations: config.zkirIterations } : { warmup: 1, iterations: config.iterations }
}

/**
 * zkir-v2 asks for the params file on every proof (twice); making it once per k keeps our
 * serialization of the SRS out of zkir-v2's column.
 */
function paramsCache() {
  const byK = new Map()
  return (k) => {
    if (!byK.has(k)) byK.set(k, params(k))
    return byK.get(k)
  }
}

function logRuns(name, who, ms) {
  log(`${name} ${who}: median ${(median(ms) / 1000).toFixed(3)} s of [${ms.map((t) => (t / 1000).toFixed(3)).join(', ')}]`)
}

/** Makes the development parameters the cases need that DEV_PARAMS does not hold yet. */
async function ensureDevParams(cases) {
  const ks = [...new Set(cases.filter((c) => c.dev).map((c) => c.k))]
  for (const k of ks) {
    if (fs.existsSync(path.join(DEV_PARAMS, `bls_midnight_2p${k}`))) continue
    log(`making UNSAFE development parameters for k=${k} into ${path.relative(ROOT, DEV_PARAMS)}`)
    await devParams(k, { out: DEV_PARAMS })
  }
}

/** One circuit row: the same preimage bytes through the addon, the floor and zkir-v2 (not past k = 14). */
async function benchCircuit(c, env) {
  const { bytes, bindingInput } = await c.preimage()
  const threads = c.threads ?? env.threads
  const row = { name: c.name, k: c.k, threads, dev: c.dev, zkirSkipped: env.config.skipZkir || c.dev }
  const plan = { warmup: 1, iterations: env.config.iterations }
  const prover = await env.proverFor(threads)
  const runs = await timeRuns(() => prover.prove(c.id, bytes, { bindingInput }), plan)
  Object.assign(row, { addon: runs.ms, addonCpu: runs.cpuMs })
  logRuns(c.name, 'addon', row.addon)
  // The floor proves the preimage as captured: the binding input is one field of the statement,
  // so overwriting it (as the dust spend's prover call does) changes no work.
  const floor = runFloor(env.floor, { dir: env.dir, circuitId: c.id, preimage: bytes, iterations: plan.iterations, threads, paramsDir: DEV_PARAMS })
  const addonPeak = (await prover.getStatus()).circuits.find((s) => s.id === c.id)?.peakProofBytes
  Object.assign(row, { floor: floor.iterationsMs, load: env.loadMs.get(c.id), decode: floor.decodeMs, addonPeak, floorPeak: floor.peakProofBytes })
  logRuns(c.name, 'floor', row.floor)
  if (!row.zkirSkipped) {
    const material = await zkirMaterial(c.ir)
    row.zkir = (await timeRuns(() => zkirProve(bytes, material, env.params, bindingInput), zkirPlan(env.config, c.k))).ms
    logRuns(c.name, 'zkir-v2', row.zkir)
  }
  return row
}

/**
 * Proves the same unproven tx through `provider`; the last proven tx must be well formed, unless
 * `dev` (the ledger verifies with Midnight's parameters, so it rejects development proofs).
 */
async function timeTx(tx, provider, plan, dev) {
  const runs = await timeRuns(() => proveTx(tx, provider), plan)
  if (!dev) wellFormed(runs.last)
  return runs
}

/**
 * The ledger-transaction row: tx.prove end to end through our `provingProvider(kmProvider)` and
 * through zkir-v2's, both fed by the same kmProvider (same keys).
 */
async function benchTx(c, env) {
  const tx = c.tx.build()
  const row = { name: c.name, k: c.k, threads: env.threads, dev: c.dev, zkirSkipped: env.config.skipZkir || c.dev }
  const keys = {}
  for (const [location, ir] of Object.entries(c.tx.irs)) keys[location] = await zkirMaterial(ir, env.keygenOptions(c))
  const ours = env.prover.provingProvider(kmProvider(keys, env.params))
  const runs = await timeTx(tx, ours, { warmup: 1, iterations: env.config.iterations }, c.dev)
  Object.assign(row, { addon: runs.ms, addonCpu: runs.cpuMs })
  logRuns(c.name, 'addon', row.addon)
  if (!row.zkirSkipped) {
    const theirs = zkirProvingProvider(keys, env.params)
    row.zkir = (await timeTx(tx, theirs, zkirPlan(env.config, c.k))).ms
    logRuns(c.name, 'zkir-v2', row.zkir)
  }
  return row
}

/**
 * The zswap output row again on every other backend this CPU has, each on a prover made while
 * MIDNIGHT_PROVER_BACKEND names it: on an IFMA machine this measures the path without IFMA too.
 * The backend is process-wide (every prover runs the last one created), so these rows run last.
 */
async function backendRows(cases, env, proverOptions) {
  const output = cases.find((c) => c.id === 'zswap_output' && !c.tx && !c.threads)
  if (!output) return []
  const { backend, backends } = await env.prover.getStatus()
  const before = process.env.MIDNIGHT_PROVER_BACKEND
  const rows = []
  try {
    for (const other of backends.filter((b) => b !== backend)) {
      process.env.MIDNIGHT_PROVER_BACKEND = other
      const prover = await createProver({ ...proverOptions, preloadCircuits: [output.id] })
      const loadMs = new Map((await prover.getStatus()).circuits.map((s) => [s.id, s.loadMs]))
      const config = { ...env.config, skipZkir: true }
      try {
        const row = await benchCircuit(output, { ...env, config, loadMs, proverFor: async () => prover })
        rows.push({ ...row, name: `${output.name}, backend ${other}` })
      } finally {
        await prover.close()
      }
    }
  } finally {
    if (before === undefined) delete process.env.MIDNIGHT_PROVER_BACKEND
    else process.env.MIDNIGHT_PROVER_BACKEND = before
  }
  return rows
}

/** Fails early if a case's circuit loaded with another k than its row says. */
async function checkKs(prover, cases) {
  const loaded = new Map((await prover.getStatus()).circuits.map((s) => [s.id, s.k]))
  for (const c of cases) {
    if (loaded.get(c.id) !== c.k) throw new Error(`${c.id} loaded with k=${loaded.get(c.id)}, the bench expects k=${c.k}`)
  }
}

async function main() {
  const started = performance.now()
  const config = readConfig()
  const cases = selectCases(config.only)
  const floor = floorBinary(log)
  await ensureDevParams(cases)
  for (const c of cases) if (c.prepare) await c.prepare()
  // Keys of the rows past k = 14 are made on the development parameters.
  const devOptions = { paramsPath: DEV_PARAMS, allowUnpinnedParams: true }
  const devIds = new Set(cases.filter((c) => c.dev).map((c) => c.id))
  const keygenOptions = (c) => (c.dev ? devOptions : undefined)
  const files = circuitFiles(cases)
  log(`keys for ${Object.keys(files).join(', ')} (generated once, then cached in .test-cache/)`)
  const dir = await compactDir(files, (id) => (devIds.has(id) ? devOptions : undefined))
  const proverOptions = { circuitKeysPath: dir, preloadCircuits: Object.keys(files), ...devOptions }
  const prover = await createProver(proverOptions)
  const others = new Map()
  try {
    await checkKs(prover, cases)
    // Rows with a `threads` of their own get a prover of that size, made on first use.
    const proverFor = async (threads) => {
      if (threads === env.threads) return prover
      if (!others.has(threads)) others.set(threads, await createProver({ ...proverOptions, threads }))
      return others.get(threads)
    }
    const status = await prover.getStatus()
    const loadMs = new Map(status.circuits.map((s) => [s.id, s.loadMs]))
    const env = { config, prover, dir, floor, threads: status.threads, loadMs, params: paramsCache(), proverFor, keygenOptions }
    const rows = []
    for (const c of cases) rows.push(await (c.tx ? benchTx(c, env) : benchCircuit(c, env)))
    rows.push(...(await backendRows(cases, env, proverOptions)))
    const machine = { ...machineInfo(env.threads), backend: status.backend }
    const markdown = render({ rows, machine, config, wallMs: performance.now() - started })
    process.stdout.write(markdown)
    fs.writeFileSync(RESULTS, markdown)
    log(`written to ${path.relative(process.cwd(), RESULTS)}`)
  } finally {
    await prover.close()
    for (const other of others.values()) await other.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
