'use strict'
// `npm run bench:tables`: the memory of 4 prover processes on one host, each holding the zswap
// output circuit (k = 14), with and without the MSM engine's shared table files (with them, the
// prover key is mapped too), their load times from a warm key cache, and the first proof after
// a map against a later one. Without: every
// process builds its own fixed-base tables (its own key cache directory, no table file). With: all
// four map the same files read-only. Prints RSS and PSS (proportional set size: shared pages
// divided among their users) per process and in total, from /proc/<pid>/smaps_rollup.
const { spawn } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const CIRCUIT = 'midnight/zswap/output'
const PROCESSES = 4
const log = (message) => process.stderr.write(`[bench:tables] ${message}\n`)

// A child: holds the circuit and its parameters, reports, then waits to be killed.
const CHILD = `
const { createProver } = require(${JSON.stringify(path.join(__dirname, '..'))})
;(async () => {
  const started = Date.now()
  const prover = await createProver({ keyCachePath: process.argv[1], preloadCircuits: [${JSON.stringify(CIRCUIT)}] })
  const s = await prover.getStatus()
  process.stdout.write(JSON.stringify({ loadMs: Date.now() - started, msm: s.msm, mapping: s.mapping }) + '\\n')
  setInterval(() => {}, 1 << 30)
})()`

// A child that loads the circuit from a warm key cache, then proves it twice: the page faults
// (getrusage) and time of the first proof after the map against the second.
const PROVING_CHILD = `
const fs = require('node:fs')
const { createProver } = require(${JSON.stringify(path.join(__dirname, '..'))})
;(async () => {
  const [dir, preimageFile, bindingInput] = process.argv.slice(1)
  const bytes = fs.readFileSync(preimageFile)
  const started = Date.now()
  const prover = await createProver({ keyCachePath: dir, preloadCircuits: [${JSON.stringify(CIRCUIT)}] })
  const loadMs = Date.now() - started
  const proofs = []
  for (let i = 0; i < 2; i++) {
    const before = process.resourceUsage()
    const t = process.hrtime.bigint()
    await prover.prove(${JSON.stringify(CIRCUIT)}, bytes, bindingInput ? { bindingInput: BigInt(bindingInput) } : {})
    const after = process.resourceUsage()
    proofs.push({ ms: Number(process.hrtime.bigint() - t) / 1e6, minor: after.minorPageFault - before.minorPageFault, major: after.majorPageFault - before.majorPageFault })
  }
  process.stdout.write(JSON.stringify({ loadMs, proofs }) + '\\n')
  await prover.close()
})()`

function runChild(script, args, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`child exited with ${code}`))))
  })
}

/** First proof after a warm map, against the second, with the mapping's prefetch on and off. */
async function firstProofs(dir) {
  const { preimage } = require('./cases.js').zswapOutput
  const { bytes, bindingInput } = await preimage()
  const file = path.join(dir, 'preimage.bin')
  fs.writeFileSync(file, bytes)
  const rows = []
  for (const [label, env] of [['read ahead (MADV_WILLNEED), pages mapped by the CRC check', {}], ['no prefetch', { MIDNIGHT_PROVER_PREFETCH: '0' }]]) {
    const r = await runChild(PROVING_CHILD, [dir, file, bindingInput === undefined ? '' : String(bindingInput)], env)
    const [first, later] = r.proofs
    log(`${label}: load ${r.loadMs} ms, first proof ${first.ms.toFixed(0)} ms (${first.minor} minor, ${first.major} major faults), later ${later.ms.toFixed(0)} ms (${later.minor} minor)`)
    rows.push(`| ${label} | ${r.loadMs} | ${first.ms.toFixed(0)} | ${first.minor} / ${first.major} | ${later.ms.toFixed(0)} | ${later.minor} / ${later.major} | ${(first.ms / later.ms).toFixed(2)} |`)
  }
  return rows
}

/**
 * Four circuits proved in turn, twice around, under a `memoryLimit` that holds one of them at a
 * time: every proof evicts the circuit before it and loads its own. From a warm key cache each
 * load is a map, so the round is bounded by proving.
 */
async function cycling(cache) {
  const { compactDir, testCircuit, witness } = require('../__test__/support/fixtures')
  const { createProver, serializePreimage } = require('..')
  const ids = ['bench_k10', 'bench_k11', 'bench_k12', 'bench_k13']
  const dir = await compactDir(Object.fromEntries(ids.map((id) => [id, testCircuit(id)])))
  const preimages = Object.fromEntries(ids.map((id) => [id, serializePreimage(id, witness(`${id}.witness.json`))]))
  // Sizes first, without a limit (and the key maps written).
  const sizing = await createProver({ circuitKeysPath: dir, keyCachePath: cache })
  for (const id of ids) await sizing.prove(id, preimages[id])
  const { circuits: sized, memory } = await sizing.getStatus()
  await sizing.close()
  // Parameters and tables stay held; of the circuits, room for the largest and its proof.
  const others = memory.budget.heldBytes - sized.reduce((a, c) => a + c.loadBytes, 0)
  const need = Math.max(...sized.map((c) => c.loadBytes + c.reserveBytes))
  const smallest = Math.min(...sized.map((c) => c.loadBytes))
  const limitMiB = Math.floor((others + need + smallest / 2) / 2 ** 20)
  const prover = await createProver({ circuitKeysPath: dir, keyCachePath: cache, memoryLimit: limitMiB })
  let proving = 0
  const started = performance.now()
  for (let round = 0; round < 2; round++) {
    for (const id of ids) proving += (await prover.prove(id, preimages[id])).provingTimeMs
  }
  const wallMs = performance.now() - started
  const status = await prover.getStatus()
  await prover.close()
  const line = `Cycling ${ids.join(', ')} twice under memoryLimit ${limitMiB} MiB (one circuit at a time): ${status.cache.evicted} evictions, ${(wallMs / 1000).toFixed(2)} s wall for 8 proofs, of which loads (maps) ${((wallMs - proving) / 1000).toFixed(2)} s.`
  log(line)
  return line
}

function smaps(pid) {
  const text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8')
  const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)[1])
  return { rssMiB: kib('Rss') / 1024, pssMiB: kib('Pss') / 1024 }
}

/** Starts one child per directory, waits until all report, measures them together, ends them. */
async function measure(dirs) {
  const children = dirs.map((dir) => spawn(process.execPath, ['-e', CHILD, dir], { stdio: ['ignore', 'pipe', 'inherit'] }))
  const reports = await Promise.all(
    children.map(
      (child) =>
        new Promise((resolve, reject) => {
          let out = ''
          child.stdout.on('data', (d) => {
            out += d
            if (out.includes('\n')) resolve(JSON.parse(out))
          })
          child.on('exit', (code) => reject(new Error(`child exited with ${code}`)))
        }),
    ),
  )
  const memory = children.map((c) => smaps(c.pid))
  for (const c of children) c.kill()
  return reports.map((r, i) => ({ ...r, ...memory[i] }))
}

function table(name, rows) {
  const sum = (f) => rows.reduce((a, r) => a + r[f], 0)
  log(`${name}: load ${rows.map((r) => (r.loadMs / 1000).toFixed(1)).join(', ')} s`)
  return [
    `| ${name} | ${rows.map((r) => r.rssMiB.toFixed(0)).join(' / ')} | ${sum('rssMiB').toFixed(0)} | ${rows.map((r) => r.pssMiB.toFixed(0)).join(' / ')} | ${sum('pssMiB').toFixed(0)} | ${(rows[0].msm.tableBytes / 2 ** 20).toFixed(0)} (${(rows[0].msm.mappedBytes / 2 ** 20).toFixed(0)} mapped) |`,
  ]
}

async function main() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mnp-tables-'))
  try {
    const shared = path.join(root, 'shared')
    log('deriving the prover key and writing the table files once')
    await measure([shared])
    const tableFiles = fs.readdirSync(shared).filter((f) => f.startsWith('msm-fixed-'))
    if (tableFiles.length === 0) throw new Error('no table file was written')
    const own = Array.from({ length: PROCESSES }, (_, i) => {
      const dir = path.join(root, `own-${i}`)
      fs.cpSync(shared, dir, { recursive: true, filter: (f) => !path.basename(f).startsWith('msm-fixed-') })
      return dir
    })
    const without = await measure(own)
    const withShared = await measure(Array(PROCESSES).fill(shared))
    const alone = await measure([shared])
    const three = await measure(Array(3).fill(shared))
    const pss = (rows) => rows.reduce((a, r) => a + r.pssMiB, 0)
    const lines = [
      `## ${PROCESSES} prover processes holding ${CIRCUIT} (k = 14)`,
      '',
      '| tables | RSS MiB per process | RSS total | PSS MiB per process | PSS total | MSM tables MiB per process |',
      '|---|---|---:|---|---:|---:|',
      ...table('built in each process', without),
      ...table('one shared file, mapped', withShared),
      '',
      `3 processes sharing keys and tables: PSS total ${pss(three).toFixed(0)} MiB against ${pss(alone).toFixed(0)} MiB for one process alone (${(pss(three) / pss(alone)).toFixed(2)}x).`,
      '',
      `Load (createProver + preload, warm key cache): ${withShared.map((r) => r.loadMs).join(', ')} ms; each process maps the prover key (${(withShared[0].mapping.keyBytes / 2 ** 20).toFixed(0)} MiB) and the tables.`,
      '',
      `## First proof of ${CIRCUIT} after a warm map, in a fresh process`,
      '',
      '| mapping | load ms | first proof ms | faults minor / major | later proof ms | faults minor / major | first / later |',
      '|---|---:|---:|---:|---:|---:|---:|',
      ...(await firstProofs(shared)),
      '',
      await cycling(path.join(root, 'cycling')),
      '',
    ]
    process.stdout.write(lines.join('\n'))
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
