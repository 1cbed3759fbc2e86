#!/usr/bin/env node
'use strict'
// Bounded-memory soak of `serve` (a script, not a timed test; `npm run soak`). It starts
// `serve --memory-limit N` as a child on 127.0.0.1, sends REQUESTS /prove requests one after the
// other, and samples the child's RSS (VmRSS in /proc/<pid>/status) while they run.
//   - Most requests carry DISTINCT key material: small circuits of the arith test circuit's shape
//     with different constants (so different fixed columns, different keys), keyed here with the
//     package's keygen. A server that keeps every key material it has seen grows without bound.
//   - Every ZSWAP_EVERY-th request is the ledger's real zswap output (`midnight/zswap/output`,
//     k=14), sent by key location with no key material: the server derives its prover key into
//     a fresh key cache on first use and proves the later ones from it.
// Pass when every request is proved and RSS stays under the memory limit plus HEADROOM (Node,
// V8, HTTP buffers and the SRS are outside the prover's budget). Prints the RSS curve and totals.
// The defaults are meant to leave no room for keeping everything: serve starts at ~50 MiB RSS, a
// zswap output proof brings it to ~300 MiB (its key is ~145 MiB held), and each small circuit's
// key material is ~0.4 MiB held (measured on the 2-core dev box, November 2026). Kept forever,
// ~490 of them plus the zswap key (~340 MiB held, an estimate) leave no room under 384 MiB for
// the zswap proof's own reservation, so the run depends on evicting idle circuits.
// Dev-only: it needs the devDependencies (@midnight-ntwrk/ledger-v8) and __test__/ helpers.
//
//   node scripts/soak.js [--requests 500] [--memory-limit 384] [--headroom 128] [--zswap-every 50]
//                        [--time-limit 1800] [--sample-every 25]
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..')
const { keygen, createProver, serializePreimage } = require(ROOT)
const { ServeChild, rssBytes } = require(path.join(ROOT, '__test__', 'support', 'http-child'))

const MiB = 1024 * 1024

function options(argv) {
  const given = {}
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i])
    if (!m) throw new Error(`unknown argument ${argv[i]}`)
    given[m[1]] = m[2] ?? argv[++i]
  }
  const num = (name, fallback) => {
    const v = given[name] === undefined ? fallback : Number(given[name])
    if (!(Number.isFinite(v) && v > 0)) throw new Error(`--${name}: expected a positive number, got ${given[name]}`)
    return v
  }
  return {
    requests: num('requests', 500),
    memoryLimitMiB: num('memory-limit', 384),
    headroomMiB: num('headroom', 128),
    zswapEvery: num('zswap-every', 50),
    timeLimitS: num('time-limit', 1800),
    sampleEvery: num('sample-every', 25),
    requestTimeoutS: num('request-timeout', 300),
  }
}

const { rng } = require('../__test__/support/rng')

/** A load_imm immediate: the magnitude's bytes little-endian in hex, `-` in front if negative. */
const hexImm = (n) => {
  let m = BigInt(n < 0 ? -n : n)
  let hex = ''
  do {
    hex += (m & 0xffn).toString(16).padStart(2, '0')
    m >>= 8n
  } while (m > 0n)
  return (n < 0 ? '-' : '') + hex
}

/**
 * The arith test circuit (__test__/circuits/arith.zkir) with inputs a, b of our choosing: its two
 * constants (a + b and -a) change, so its fixed column, and so its keys, differ per (a, b).
 * Returns the IR text and a satisfying witness.
 */
function arithLike(a, b) {
  const ir = {
    version: { major: 2, minor: 0 },
    do_communications_commitment: false,
    num_inputs: 3,
    instructions: [
      { op: 'constrain_to_boolean', var: 2 },
      { op: 'add', a: 0, b: 1 },
      { op: 'mul', a: 0, b: 1 },
      { op: 'neg', a: 0 },
      { op: 'copy', var: 3 },
      { op: 'load_imm', imm: hexImm(a + b) },
      { op: 'constrain_eq', a: 6, b: 7 },
      { op: 'load_imm', imm: hexImm(-a) },
      { op: 'constrain_eq', a: 5, b: 8 },
      { op: 'cond_select', bit: 2, a: 4, b: 5 },
      { op: 'not', a: 2 },
      { op: 'test_eq', a: 3, b: 7 },
      { op: 'assert', cond: 11 },
      { op: 'test_eq', a: 0, b: 1 },
      { op: 'load_imm', imm: '01' },
      { op: 'declare_pub_input', var: 9 },
      { op: 'declare_pub_input', var: 4 },
      { op: 'pi_skip', guard: 13, count: 2 },
      { op: 'declare_pub_input', var: 10 },
      { op: 'declare_pub_input', var: 12 },
      { op: 'pi_skip', guard: null, count: 2 },
    ],
  }
  const product = String(BigInt(a) * BigInt(b))
  const witness = {
    inputs: [String(a), String(b), '1'],
    privateTranscript: [],
    publicTranscriptInputs: [product, product, '0', '0'],
    publicTranscriptOutputs: [],
    bindingInput: '0',
  }
  return { ir: JSON.stringify(ir), witness }
}

const mib = (bytes) => (bytes === undefined ? '   -  ' : (bytes / MiB).toFixed(1).padStart(6))

async function post(url, body, timeoutS) {
  const res = await fetch(url, { method: 'POST', body, signal: AbortSignal.timeout(timeoutS * 1000) })
  return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()) }
}

const isProof = (bytes) => Buffer.from(bytes.subarray(0, 25)).toString('latin1') === 'midnight:proof-versioned:'

function unversioned(response) {
  return new Uint8Array(Buffer.concat([Buffer.from('midnight:proof[v5]:'), response.subarray(26)]))
}

async function main() {
  const opt = options(process.argv.slice(2))
  let L
  let ledgerHelpers
  try {
    L = require('@midnight-ntwrk/ledger-v8')
    ledgerHelpers = require(path.join(ROOT, '__test__', 'support', 'ledger'))
  } catch (err) {
    throw new Error(`the soak needs the devDependencies (npm install in a clone): ${err.message}`)
  }
  const started = performance.now()
  const elapsed = () => (performance.now() - started) / 1000
  const zswapCount = Math.floor(opt.requests / opt.zswapEvery)
  const distinct = opt.requests - zswapCount

  // 1. Distinct small circuits and their keys (keygen in this process, not in the server).
  const random = rng(0x50a4)
  const seen = new Set()
  const circuits = []
  const keygenStarted = performance.now()
  while (circuits.length < distinct) {
    const a = 2 + Math.floor(random() * 2 ** 30)
    const b = 2 + Math.floor(random() * 2 ** 30)
    if (a === b || seen.has(`${a},${b}`)) continue
    seen.add(`${a},${b}`)
    const { ir, witness } = arithLike(a, b)
    const keys = await keygen(ir)
    const id = `soak/c${circuits.length}`
    circuits.push({ id, ir: new TextEncoder().encode(ir), witness, keys, preimage: serializePreimage(id, witness) })
    if (circuits.length % 100 === 0) console.log(`  keygen: ${circuits.length}/${distinct} circuits (${((performance.now() - keygenStarted) / 1000).toFixed(1)} s)`)
  }
  const keygenS = (performance.now() - keygenStarted) / 1000
  const keyBytes = circuits.reduce((sum, c) => sum + c.keys.proverKey.length + c.keys.verifierKey.length + c.ir.length, 0)
  console.log(`${distinct} distinct circuits keyed in ${keygenS.toFixed(1)} s; their key material totals ${(keyBytes / MiB).toFixed(1)} MiB`)

  // 2. Real zswap output preimages (the ledger builds them; a few, repeated).
  const zswapPreimages = []
  for (let i = 0; i < Math.min(5, zswapCount); i++) {
    const calls = await ledgerHelpers.capturePreimages(ledgerHelpers.buildZswapOutputTx(1))
    zswapPreimages.push(calls[0].preimage)
  }

  // 3. The server, with a memory limit and a fresh key cache.
  const keyCache = fs.mkdtempSync(path.join(os.tmpdir(), 'mnp-soak-keys-'))
  const server = await ServeChild.start(['--memory-limit', String(opt.memoryLimitMiB), '--key-cache', keyCache, '--job-timeout', String(opt.requestTimeoutS)])
  const limitBytes = (opt.memoryLimitMiB + opt.headroomMiB) * MiB
  const baseline = rssBytes(server.pid)
  console.log(`serve pid ${server.pid} at ${server.url}, --memory-limit ${opt.memoryLimitMiB} MiB; RSS at start ${mib(baseline)} MiB; pass bound ${opt.memoryLimitMiB} + ${opt.headroomMiB} MiB headroom`)

  let peak = baseline ?? 0
  const loopStarted = performance.now()
  console.log(`\nRSS of the serve child (MiB) every ${opt.sampleEvery} requests:\n  request    RSS   peak   seconds`)
  const sampler = setInterval(() => {
    const rss = rssBytes(server.pid)
    if (rss > peak) peak = rss
  }, 100)

  const statuses = {}
  const failures = []
  const curve = []
  const sampled = [] // small circuits whose proofs are verified at the end
  let sent = 0
  const zswapMs = []
  const smallMs = []
  let next = 0
  try {
    for (let i = 1; i <= opt.requests; i++) {
      if (elapsed() > opt.timeLimitS) {
        failures.push(`time limit of ${opt.timeLimitS} s reached after ${sent} requests`)
        break
      }
      if (!server.alive) {
        failures.push(`serve exited after ${sent} requests: ${JSON.stringify(server.exit)}\n${server.output(1500)}`)
        break
      }
      const zswap = i % opt.zswapEvery === 0
      const t0 = performance.now()
      let res
      let circuit
      try {
        if (zswap) res = await post(server.url + '/prove', L.createProvingPayload(zswapPreimages[i % zswapPreimages.length], undefined), opt.requestTimeoutS)
        else {
          circuit = circuits[next++]
          const km = { proverKey: circuit.keys.proverKey, verifierKey: circuit.keys.verifierKey, ir: circuit.ir }
          res = await post(server.url + '/prove', L.createProvingPayload(circuit.preimage, undefined, km), opt.requestTimeoutS)
        }
      } catch (err) {
        res = { status: `error: ${err.cause?.code ?? err.message}`, bytes: new Uint8Array(0) }
      }
      sent++
      ;(zswap ? zswapMs : smallMs).push(performance.now() - t0)
      statuses[res.status] = (statuses[res.status] ?? 0) + 1
      if (res.status !== 200 || !isProof(res.bytes)) {
        if (failures.length < 20) failures.push(`request ${i} (${zswap ? 'zswap output' : circuit.id}): ${res.status} ${Buffer.from(res.bytes.subarray(0, 300)).toString('utf8')}`)
      } else if (circuit && sampled.length < 10 && next % 50 === 1) sampled.push({ circuit, proof: res.bytes })
      const rss = rssBytes(server.pid)
      if (rss > peak) peak = rss
      if (i % opt.sampleEvery === 0 || i === opt.requests) {
        const row = { i, rss, peak, s: (performance.now() - loopStarted) / 1000 }
        curve.push(row)
        console.log(`  ${String(row.i).padStart(7)} ${mib(row.rss)} ${mib(row.peak)} ${row.s.toFixed(1).padStart(8)}`)
      }
    }
  } finally {
    clearInterval(sampler)
  }
  const loopS = (performance.now() - loopStarted) / 1000

  let status
  let metrics = ''
  try {
    status = await (await fetch(server.url + '/status')).json()
    metrics = await (await fetch(server.url + '/metrics')).text()
  } catch (err) {
    failures.push(`/status after the run: ${err.message}`)
  }
  const finalRss = rssBytes(server.pid)
  const exit = await server.stop()
  fs.rmSync(keyCache, { recursive: true, force: true })

  // The sampled small-circuit proofs verify (against their own keys, proved locally for the statement).
  let verified = 0
  if (sampled.length) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mnp-soak-verify-'))
    fs.mkdirSync(path.join(dir, 'keys'))
    fs.mkdirSync(path.join(dir, 'zkir'))
    for (const { circuit } of sampled) {
      const name = circuit.id.replace('/', '_')
      fs.writeFileSync(path.join(dir, 'keys', `${name}.prover`), circuit.keys.proverKey)
      fs.writeFileSync(path.join(dir, 'keys', `${name}.verifier`), circuit.keys.verifierKey)
      fs.writeFileSync(path.join(dir, 'zkir', `${name}.zkir`), circuit.ir)
    }
    const prover = await createProver({ circuitKeysPath: dir })
    try {
      for (const { circuit, proof } of sampled) {
        const name = circuit.id.replace('/', '_')
        const { publicInputs } = await prover.prove(name, circuit.witness)
        if (await prover.verify(name, unversioned(proof), publicInputs)) verified++
        else failures.push(`the proof served for ${circuit.id} does not verify`)
      }
    } finally {
      await prover.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }

  const median = (xs) => (xs.length ? `${[...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)].toFixed(0)} ms` : 'none')
  const evictions = /^\S*evict\S*\s+(\d+)/m.exec(metrics)
  console.log(
    `\ntotals: ${sent} requests in ${loopS.toFixed(1)} s, ${elapsed().toFixed(1)} s in all with keygen and checks (${distinct} distinct key materials planned, ${zswapCount} zswap output by location); ` +
      `statuses ${JSON.stringify(statuses)}\n` +
      `  median latency: small circuits ${median(smallMs)}, zswap output ${median(zswapMs)} (the first derives its key)\n` +
      `  RSS: start ${mib(baseline)} MiB, peak ${mib(peak)} MiB, end ${mib(finalRss)} MiB; bound ${opt.memoryLimitMiB} + ${opt.headroomMiB} = ${opt.memoryLimitMiB + opt.headroomMiB} MiB\n` +
      (status
        ? `  server status at the end: ${status.loadedCircuits.length} circuits loaded, held ${mib(status.memory.budget.heldBytes)} MiB, native ${mib(status.memory.nativeBytes)} MiB, ` +
          `proofs completed ${status.proofsCompleted}, failed ${status.proofsFailed}, keys derived ${status.keysDerived}` +
          (evictions ? `, evictions ${evictions[1]}` : '') +
          '\n'
        : '') +
      `  sampled proofs verified: ${verified}/${sampled.length}; serve exited ${JSON.stringify(exit)} on SIGTERM`,
  )
  const late = curve.slice(Math.floor(curve.length / 2)).map((c) => c.rss).filter((r) => r !== undefined)
  if (late.length) console.log(`  RSS over the second half of the run: ${mib(Math.min(...late))} to ${mib(Math.max(...late))} MiB`)
  if (peak > limitBytes) failures.push(`peak RSS ${mib(peak)} MiB is over the bound of ${opt.memoryLimitMiB + opt.headroomMiB} MiB`)
  if (sent < opt.requests && !failures.some((f) => /time limit|exited/.test(f))) failures.push(`only ${sent} of ${opt.requests} requests sent`)
  if (failures.length) {
    console.log(`\nSOAK FAILED (${failures.length} findings):\n  ${failures.join('\n  ')}`)
    return 1
  }
  console.log('\nSOAK PASSED: every request proved, RSS stayed within the bound')
  return 0
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err)
    process.exit(2)
  },
)
