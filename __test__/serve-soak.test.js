'use strict'
// An overload soak of `serve` in a child process (issue 25): for SOAK_SECONDS, about five times
// what one worker can prove of real /prove requests (distinct bodies: each its own binding
// input, so none share a job), plus /check, oversized bodies (413), undecodable bodies (400) and
// slow bodies abandoned half-way. Every request must be answered with a status that says what
// happened, the child must live, its RSS must stay bounded and /health must keep answering.
// Figures are printed: the RSS curve, the statuses and the /health latency.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const L = require('@midnight-ntwrk/ledger-v8')
const { compactDir, testCircuit, witness } = require('./support/fixtures')
const { ServeChild, rssBytes, rawExchange, openHalf } = require('./support/http-child')
const { serializePreimage } = require('..')

const MiB = 1024 * 1024
const SECONDS = Number(process.env.SOAK_SECONDS ?? 60)
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

const headers = (bytes) => `POST /prove HTTP/1.1\r\nHost: x\r\nContent-Length: ${bytes}\r\n\r\n`

/** Announces a body over the limit and sends none of it: resolves to the answer's status (0: none). */
const oversized = (port, bytes) => rawExchange(port, headers(bytes)).then(({ statuses }) => statuses[0] ?? 0)

/** Announces `bytes`, sends a tenth of them, then goes away: the server must let go of it. */
function abandonedBody(port, bytes) {
  openHalf(port, Buffer.concat([Buffer.from(headers(bytes)), Buffer.alloc(bytes / 10)])).then((socket) => setTimeout(() => socket.destroy(), 2000), () => {})
}

test(`overload soak, ${SECONDS} s: 5× one worker's capacity of real proofs plus bad and slow bodies; all answered, RSS bounded, no death`, async () => {
  const dir = await compactDir({ bench_k13: testCircuit('bench_k13') })
  const server = await ServeChild.start(['--keys', dir, '--job-capacity', '4', '--body-limit', String(8 * MiB)])
  const preimage = serializePreimage('bench_k13', witness('bench_k13.witness.json'))
  // A request whose connection failed before an answer counts as 0: none may.
  const post = async (route, body) => {
    try {
      const res = await fetch(server.url + route, { method: 'POST', body, signal: AbortSignal.timeout(120_000) })
      await res.arrayBuffer()
      return res.status
    } catch {
      return 0
    }
  }
  try {
    assert.equal(await post('/prove', L.createProvingPayload(preimage, 0n)), 200, 'warm: the circuit is loaded')
    const started = performance.now()
    assert.equal(await post('/prove', L.createProvingPayload(preimage, 1n)), 200)
    const proofMs = performance.now() - started
    const rate = Math.max(1, (5 * 1000) / proofMs) // /prove per second: 5× one worker's capacity
    const baseline = rssBytes(server.pid)
    const rss = []
    const health = []
    const statuses = {}
    const pending = []
    const count = (kind) => (status) => {
      const key = `${kind} ${status}`
      statuses[key] = (statuses[key] ?? 0) + 1
    }
    let binding = 2n
    let due = 0
    const until = performance.now() + SECONDS * 1000
    for (let tick = 0; performance.now() < until; tick++) {
      if (tick % 10 === 0) {
        rss.push(rssBytes(server.pid))
        pending.push(post('/check', L.createCheckPayload(preimage)).then(count('check')))
        pending.push(oversized(server.port, 9 * MiB).then(count('oversized')))
        pending.push(post('/prove', new Uint8Array(64).fill(7)).then(count('garbage')))
        abandonedBody(server.port, 4 * MiB)
      }
      for (due += rate / 10; due >= 1; due--) pending.push(post('/prove', L.createProvingPayload(preimage, binding++)).then(count('prove')))
      const h = performance.now()
      const res = await fetch(server.url + '/health')
      await res.arrayBuffer()
      health.push({ status: res.status, ms: performance.now() - h })
      await sleep(100)
    }
    await Promise.all(pending)
    const status = (await (await fetch(server.url + '/status')).json()).server
    const ms = health.map((h) => h.ms).sort((a, b) => a - b)
    const peak = Math.max(...rss)
    console.log(
      `overload soak: ${SECONDS} s, one proof ${proofMs.toFixed(0)} ms, ${rate.toFixed(1)} /prove per s (5× one worker), job capacity 4\n` +
        `  answers: ${JSON.stringify(statuses)}\n` +
        `  RSS every second (MiB): ${rss.map((b) => Math.round(b / MiB)).join(' ')}; baseline ${Math.round(baseline / MiB)}, peak ${Math.round(peak / MiB)}\n` +
        `  /health: ${health.length} answered, p50 ${percentile(ms, 50).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms; refused ${JSON.stringify(status.refused)}`,
    )
    assert.ok(server.alive, 'serve is alive')
    // A full queue is told before the body is read, so 429 may come first for any request.
    const allowed = { prove: [200, 429], check: [200, 429], oversized: [413, 429], garbage: [400, 429] }
    for (const [key, n] of Object.entries(statuses)) {
      const [kind, code] = key.split(' ')
      assert.ok(allowed[kind].includes(Number(code)), `${n} × ${key}`)
    }
    assert.ok((statuses['prove 200'] ?? 0) > 0 && (statuses['prove 429'] ?? 0) > 0, 'some proved, some refused: it was overloaded')
    assert.ok(health.every((h) => h.status === 200))
    assert.ok(peak - baseline < 400 * MiB, `RSS grew ${Math.round((peak - baseline) / MiB)} MiB`)
    await sleep(2500)
    const after = (await (await fetch(server.url + '/status')).json()).server
    assert.deepEqual([after.body.inFlightBytes, after.jobsProcessing, after.jobsPending], [0, 0, 0], 'nothing left held')
  } finally {
    await server.stop()
  }
})
