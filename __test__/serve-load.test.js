'use strict'
// A bounded load test of `serve` on loopback: 200 proof requests, 20 at a time, job capacity 8.
// Every request must end in a proof or a 429, none may hang or be lost; latency is printed (the
// figures are for reading, not asserted: speed goals live in benchmarks).
const { test } = require('node:test')
const assert = require('node:assert/strict')
const L = require('@midnight-ntwrk/ledger-v8')
const { createProver } = require('..')
const { compactDir, testCircuit } = require('./support/fixtures')
const { serveWith, arithPreimage, post, text, unversioned } = require('./support/serve')

const REQUESTS = 200
const CONCURRENCY = 20
const CAPACITY = 8
/** Per request; a request still open after this counts as hung. */
const HANG_MS = 60_000

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]

test(`${REQUESTS} /prove requests, ${CONCURRENCY} at a time, job capacity ${CAPACITY}: each a proof or a 429`, async () => {
  const dir = await compactDir({ arith: testCircuit('arith') })
  const server = await serveWith(['--keys', dir, '--job-capacity', String(CAPACITY)])
  const prover = await createProver({ circuitKeysPath: dir })
  const preimage = arithPreimage()
  const payload = L.createProvingPayload(preimage, undefined)
  const { publicInputs } = await prover.prove('arith', preimage)
  const outcomes = []
  let next = 0
  async function worker() {
    while (next < REQUESTS) {
      const i = next++
      const started = performance.now()
      const res = await post(server.url + '/prove', payload, {}, AbortSignal.timeout(HANG_MS))
      outcomes[i] = { status: res.status, ms: performance.now() - started, body: res.bytes }
    }
  }
  try {
    const started = performance.now()
    await Promise.all(Array.from({ length: CONCURRENCY }, worker))
    const wallMs = performance.now() - started

    assert.equal(outcomes.filter(Boolean).length, REQUESTS, 'every request answered')
    const proofs = outcomes.filter((o) => o.status === 200)
    const refused = outcomes.filter((o) => o.status === 429)
    assert.equal(proofs.length + refused.length, REQUESTS, `only 200 or 429: ${[...new Set(outcomes.map((o) => o.status))]}`)
    assert.ok(proofs.length >= CAPACITY, `at least a full queue of proofs, got ${proofs.length}`)
    for (const o of refused) assert.equal(text(o.body), 'Job Queue full')
    // Every proof is real: a sample verifies (all share the statement; the proofs differ by randomness).
    for (const o of proofs.filter((_, i) => i % 10 === 0)) assert.equal(await prover.verify('arith', unversioned(o.body), publicInputs), true)
    const status = await (await fetch(server.url + '/status')).json()
    const { jobsProcessing, jobsPending, jobCapacity, body } = status.server
    assert.deepEqual({ jobsProcessing, jobsPending, jobCapacity }, { jobsProcessing: 0, jobsPending: 0, jobCapacity: CAPACITY }, 'no job left behind')
    assert.equal(body.inFlightBytes, 0, 'no body bytes left held')

    const latency = (list) => {
      const ms = list.map((o) => o.ms).sort((a, b) => a - b)
      return ms.length ? `p50 ${percentile(ms, 50).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms` : 'none'
    }
    console.log(
      `serve load: ${REQUESTS} requests, ${CONCURRENCY} concurrent, capacity ${CAPACITY}, arith (k=5), ${(wallMs / 1000).toFixed(2)} s wall\n` +
        `  proofs ${proofs.length} (${latency(proofs)})\n  429s   ${refused.length} (${latency(refused)})\n  all    ${latency(outcomes)}`,
    )
  } finally {
    await server.close()
    await prover.close()
  }
})
