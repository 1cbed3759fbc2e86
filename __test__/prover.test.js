'use strict'
// The prover as a service inside Node: real Compact directories, status, threads, scheduling,
// cancellation, and an event loop that keeps running while proofs do.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { createProver, AbortError } = require('..')
const { ARTTT, compactDir, testCircuit, witness } = require('./support/fixtures')

/** Resolves once the prover reports a proof running (a driver thread has taken it). */
async function untilRunning(prover) {
  while ((await prover.getStatus()).activeProofs === 0) await new Promise((r) => setTimeout(r, 2))
}

let dir
before(async () => {
  dir = await compactDir({ arith: testCircuit('arith'), bench_k13: testCircuit('bench_k13') })
})

test('a real Compact output directory loads through circuitKeysPath; getStatus lists circuits with k', async () => {
  // k per circuit as the fixtures' README lists it; circuits without a .prover are not loadable.
  const expectedK = { allowance: 10, balanceOf: 10, clearMemos: 13, decimals: 6, isRegistered: 9, name: 6, pendingOf: 10, register: 13, sweep: 13, symbol: 6, totalSupply: 6 }
  const prover = await createProver({ circuitKeysPath: ARTTT, preloadCircuits: Object.keys(expectedK) })
  const status = await prover.getStatus()
  assert.deepEqual(status.loadedCircuits, Object.keys(expectedK).sort())
  const builtins = ['midnight/dust/spend', 'midnight/zswap/output', 'midnight/zswap/sign', 'midnight/zswap/spend']
  assert.deepEqual(status.availableCircuits, [...Object.keys(expectedK), ...builtins].sort())
  for (const c of status.circuits) {
    assert.equal(c.k, expectedK[c.id], c.id)
    assert.ok(c.rows > 0 && c.rows <= 2 ** c.k, `${c.id} rows ${c.rows}`)
    assert.ok(c.proverKeyBytes > 0 && c.loadMs >= 0)
  }
  assert.ok(status.memory.nativeBytes + status.mapping.keyBytes >= status.memory.proverKeyBytes, 'keys are counted in native or mapped memory')
  assert.ok(status.circuits.every((c) => c.mapped && c.mappedBytes > 0 && c.loadBytes >= c.mappedBytes), 'keys are mapped from the key cache')
  assert.ok(status.memory.rssBytes > 0)
  await assert.rejects(prover.prove('transfer', { inputs: [] }), (err) => {
    assert.equal(err.code, 'CIRCUIT_NOT_FOUND')
    assert.match(err.message, /no prover key/)
    return true
  })
  await prover.close()
})

test('a zswap sign preimage built from a secret that ends in zero bytes checks, like any other', async () => {
  const ledger = require('./support/ledger')
  const prover = await createProver({ circuitKeysPath: dir })
  for (const last of [0, 7]) {
    const secret = Buffer.alloc(32, 9)
    secret[30] = 0
    secret[31] = last
    const { keyLocation, preimage } = ledger.buildSignPreimage(secret)
    assert.equal(keyLocation, 'midnight/zswap/sign')
    assert.ok((await prover.check(keyLocation, preimage)).length > 0, `secret ending in ${last}`)
  }
  await prover.close()
})

test('preloading a missing circuit rejects createProver with its error', async () => {
  await assert.rejects(createProver({ circuitKeysPath: dir, preloadCircuits: ['arith', 'missing'] }), { code: 'CIRCUIT_NOT_FOUND' })
})

test('the event loop keeps ticking while a proof runs', async () => {
  const prover = await createProver({ circuitKeysPath: dir, preloadCircuits: ['bench_k13'] })
  let ticks = 0
  const timer = setInterval(() => ticks++, 5)
  const result = await prover.prove('bench_k13', witness('bench_k13.witness.json'))
  clearInterval(timer)
  // A blocked loop would see no tick at all until the proof settled.
  assert.ok(ticks >= 10, `only ${ticks} ticks during a ${result.provingTimeMs.toFixed(0)} ms proof`)
  await prover.close()
})

test('threads: explicit option wins over PROVER_THREADS; default is the usable CPUs', async () => {
  const os = require('node:os')
  process.env.PROVER_THREADS = '2'
  try {
    const fromEnv = await createProver({ circuitKeysPath: dir })
    const explicit = await createProver({ circuitKeysPath: dir, threads: 1 })
    assert.equal((await fromEnv.getStatus()).threads, 2)
    assert.equal((await explicit.getStatus()).threads, 1)
    await Promise.all([fromEnv.close(), explicit.close()])
  } finally {
    delete process.env.PROVER_THREADS
  }
  const byDefault = await createProver({ circuitKeysPath: dir })
  assert.equal((await byDefault.getStatus()).threads, os.availableParallelism())
  await byDefault.close()
})

test('concurrent first uses of a circuit load it once and all prove', async () => {
  const prover = await createProver({ circuitKeysPath: dir, maxConcurrent: 2 })
  const results = await Promise.all(Array.from({ length: 4 }, () => prover.prove('arith', witness('arith.witness.json'))))
  for (const r of results) assert.equal(await prover.verify('arith', r.proof, r.publicInputs), true)
  const status = await prover.getStatus()
  assert.deepEqual(status.loadedCircuits, ['arith'])
  assert.equal(status.proofsCompleted, 4)
  await prover.close()
})

test('abort: a queued proof rejects at once and never runs; a running one rejects at once', async () => {
  const prover = await createProver({ circuitKeysPath: dir, preloadCircuits: ['bench_k13', 'arith'] })
  const running = new AbortController()
  const queued = new AbortController()
  const first = prover.prove('bench_k13', witness('bench_k13.witness.json'), { signal: running.signal })
  await untilRunning(prover)
  const second = prover.prove('arith', witness('arith.witness.json'), { signal: queued.signal })
  const third = prover.prove('arith', witness('arith.witness.json'))
  queued.abort()
  await assert.rejects(second, (err) => err instanceof AbortError && err.code === 'ABORT_ERR' && err.name === 'AbortError')
  running.abort(new Error('user left'))
  await assert.rejects(first, (err) => {
    assert.equal(err.code, 'ABORT_ERR')
    assert.equal(err.cause.message, 'user left')
    return true
  })
  await third
  await prover.close()
  const status = await prover.getStatus()
  // The running proof finished in the background; the queued one never started.
  assert.equal(status.proofsCompleted + status.proofsFailed, 2)
  const pre = new AbortController()
  pre.abort()
  const p2 = await createProver({ circuitKeysPath: dir })
  await assert.rejects(p2.prove('arith', witness('arith.witness.json'), { signal: pre.signal }), { code: 'ABORT_ERR' })
  await p2.close()
})

test('every async operation takes a signal', async () => {
  const { keygen } = require('..')
  const prover = await createProver({ circuitKeysPath: dir })
  const aborted = AbortSignal.abort()
  const w = witness('arith.witness.json')
  for (const call of [
    () => prover.check('arith', w, { signal: aborted }),
    () => prover.verify('arith', new Uint8Array(4), [], { signal: aborted }),
    () => prover.preload(['arith'], { signal: aborted }),
    () => keygen(require('node:fs').readFileSync(testCircuit('arith'), 'utf8'), { signal: aborted }),
  ]) {
    await assert.rejects(call(), { name: 'AbortError', code: 'ABORT_ERR' })
  }
  const later = new AbortController()
  const pending = keygen(require('node:fs').readFileSync(testCircuit('bench_k13'), 'utf8'), { signal: later.signal })
  later.abort()
  await assert.rejects(pending, { code: 'ABORT_ERR' })
  assert.equal((await prover.check('arith', w)).length, 2, 'the prover works on after aborts')
  await prover.close()
})

test('backpressure: beyond maxQueue waiting proofs, prove rejects at once with PROVER_OVERLOADED', async () => {
  const prover = await createProver({ circuitKeysPath: dir, maxQueue: 1, preloadCircuits: ['bench_k13', 'arith'] })
  const w = witness('arith.witness.json')
  const running = prover.prove('bench_k13', witness('bench_k13.witness.json'))
  await untilRunning(prover)
  const waiting = prover.prove('arith', w)
  await assert.rejects(prover.prove('arith', w), (err) => {
    assert.equal(err.code, 'PROVER_OVERLOADED')
    assert.match(err.message, /1 proofs running and 1 waiting/)
    return true
  })
  await Promise.all([running, waiting])
  assert.equal((await prover.prove('arith', w)).circuitId, 'arith', 'room again once the queue drains')
  await prover.close()
})

test('an aborted queued proof leaves the queue at once; timeoutMs rejects with PROOF_TIMEOUT', async () => {
  const prover = await createProver({ circuitKeysPath: dir, preloadCircuits: ['bench_k13', 'arith'] })
  const w = witness('arith.witness.json')
  const running = prover.prove('bench_k13', witness('bench_k13.witness.json'))
  await untilRunning(prover)
  const controller = new AbortController()
  const queued = prover.prove('arith', w, { signal: controller.signal })
  const timed = prover.prove('arith', w, { timeoutMs: 1 })
  assert.equal((await prover.getStatus()).queuedProofs, 2)
  controller.abort()
  await assert.rejects(queued, { code: 'ABORT_ERR' })
  await assert.rejects(timed, { code: 'PROOF_TIMEOUT' })
  assert.equal((await prover.getStatus()).queuedProofs, 0, 'both left the queue without running')
  await running
  await assert.rejects(prover.prove('arith', w, { timeoutMs: 0 }), { code: 'INVALID_ARGUMENT' })
  await prover.close()
  const status = await prover.getStatus()
  assert.equal(status.proofsCompleted, 1, 'only the running proof ran')
  const withDefault = await createProver({ circuitKeysPath: dir, timeoutMs: 1, preloadCircuits: ['bench_k13'] })
  await assert.rejects(withDefault.prove('bench_k13', witness('bench_k13.witness.json')), { code: 'PROOF_TIMEOUT' })
  await withDefault.close()
})

test('lifecycle events: queued, started, finished or failed, with durations and peak memory', async () => {
  const prover = await createProver({ circuitKeysPath: dir, preloadCircuits: ['arith'] })
  const events = []
  for (const kind of ['queued', 'started', 'finished', 'failed']) prover.on(kind, (e) => events.push({ kind, ...e }))
  await prover.prove('arith', witness('arith.witness.json'))
  await assert.rejects(prover.prove('arith', witness('arith.bad.witness.json')))
  // Events may trail the promise by a tick.
  for (let i = 0; i < 100 && events.length < 6; i++) await new Promise((r) => setTimeout(r, 5))
  const kinds = (id) => events.filter((e) => e.proofId === id).map((e) => e.kind)
  assert.deepEqual(kinds(1), ['queued', 'started', 'finished'])
  assert.deepEqual(kinds(2), ['queued', 'started', 'failed'])
  const finished = events.find((e) => e.kind === 'finished')
  assert.equal(finished.circuitId, 'arith')
  assert.ok(finished.durationMs > 0 && finished.waitedMs >= 0)
  assert.ok(finished.peakBytes > 0, 'a proof needs heap')
  assert.equal(events.find((e) => e.kind === 'failed').error.code, 'WITNESS_UNSATISFIED')
  const [circuit] = (await prover.getStatus()).circuits
  assert.equal(circuit.peakProofBytes, finished.peakBytes, 'status keeps the measured peak per circuit')
  await prover.close()
})
