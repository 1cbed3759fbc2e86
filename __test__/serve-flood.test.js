'use strict'
// `serve` under a flood of request bodies (issue 25's first figure): 24 connections each announce
// a 100 MiB /prove body and send it slowly. Before the body budget the process grew by 2.7 GB in
// 20 s, since every body was read whole before admission. Now the bodies that do not fit the
// budget are answered 503 before any of their bytes are read, /health and real proofs keep being
// answered, and memory stays near the budget. Then a slowloris: 1,000 connections sending a header
// byte every 10 s are let go by the headers timeout while /health and proofs are answered.
// Figures are printed; the bounds asserted are loose.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const net = require('node:net')
const L = require('@midnight-ntwrk/ledger-v8')
const { compactDir, testCircuit } = require('./support/fixtures')
const { serveWith, arithPreimage, post } = require('./support/serve')

const MiB = 1024 * 1024
const CONNECTIONS = 24
const BODY = 100 * MiB
const SECONDS = 10
/** Each slow sender's pace: 256 KiB every 100 ms (all 24 together: 60 MiB/s). */
const CHUNK = 256 * 1024

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]

/** A connection announcing `BODY` bytes for /prove and trickling them; `status` is its answer's status line. */
function slowSender(url) {
  const { port } = new URL(url)
  const socket = net.connect(Number(port), '127.0.0.1')
  const sender = { socket, status: undefined, answeredMs: undefined, sent: 0 }
  const started = performance.now()
  socket.on('error', () => {})
  socket.write(`POST /prove HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${BODY}\r\n\r\n`)
  socket.on('data', (d) => {
    sender.status ??= String(d).split('\r\n')[0]
    sender.answeredMs ??= performance.now() - started
  })
  const chunk = Buffer.alloc(CHUNK, 7)
  sender.timer = setInterval(() => {
    if (socket.writable && !sender.status) {
      socket.write(chunk)
      sender.sent += CHUNK
    }
  }, 100)
  return sender
}

test(`${CONNECTIONS} slow ${BODY / MiB} MiB bodies: the ones beyond the budget are refused at once, RSS stays bounded, /health and proofs answered`, async () => {
  const dir = await compactDir({ arith: testCircuit('arith') })
  const server = await serveWith(['--keys', dir])
  const payload = L.createProvingPayload(arithPreimage(), undefined)
  const senders = []
  try {
    assert.equal((await post(server.url + '/prove', payload)).status, 200, 'warm: the circuit is loaded')
    global.gc?.()
    const rssBefore = process.memoryUsage().rss
    let rssPeak = rssBefore
    for (let i = 0; i < CONNECTIONS; i++) senders.push(slowSender(server.url))
    const { health, proofs } = await probe(server.url, payload, performance.now() + SECONDS * 1000, () => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss)
    })
    const status = (await (await fetch(server.url + '/status')).json()).server
    const refused = senders.filter((s) => /^HTTP\/1\.1 503/.test(s.status ?? ''))
    const receiving = senders.filter((s) => s.status === undefined)
    const ms = health.map((h) => h.ms).sort((a, b) => a - b)
    const growthMiB = (rssPeak - rssBefore) / MiB
    console.log(
      `serve flood: ${CONNECTIONS} × ${BODY / MiB} MiB slow bodies for ${SECONDS} s, body budget ${status.body.limitBytes / MiB} MiB\n` +
        `  refused 503 before their body: ${refused.length} (slowest answer ${Math.max(...refused.map((s) => s.answeredMs)).toFixed(0)} ms); still receiving: ${receiving.length}\n` +
        `  held body bytes at the end: ${(status.body.inFlightBytes / MiB).toFixed(0)} MiB; RSS growth (peak) ${growthMiB.toFixed(0)} MiB\n` +
        `  /health: ${health.length} answered, p50 ${percentile(ms, 50).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms; proofs during the flood: ${proofs.join(' ')}`,
    )
    assert.equal(refused.length + receiving.length, CONNECTIONS, `only 503 or still receiving: ${senders.map((s) => s.status)}`)
    assert.ok(receiving.length * BODY <= status.body.limitBytes, 'no more bodies are received than fit the budget')
    assert.ok(refused.every((s) => s.answeredMs < 2000), 'each refusal came at once, not after its body')
    assert.equal(status.refused.body_budget, refused.length)
    assert.ok(health.every((h) => h.status === 200) && health.length > SECONDS * 10)
    assert.ok(proofs.length > 0 && proofs.every((s) => s === 200), `proofs during the flood: ${proofs}`)
    assert.ok(growthMiB < 300, `RSS grew ${growthMiB.toFixed(0)} MiB`)
  } finally {
    for (const s of senders) {
      clearInterval(s.timer)
      s.socket.destroy()
    }
    await server.close()
  }
})

/** Polls /health (and proves every 20th round) until `until`; returns latencies and proof statuses. */
async function probe(url, payload, until, eachRound = () => {}) {
  const health = []
  const proofs = []
  while (performance.now() < until) {
    const started = performance.now()
    const res = await fetch(url + '/health')
    await res.arrayBuffer()
    health.push({ status: res.status, ms: performance.now() - started })
    if (health.length % 20 === 0) proofs.push((await post(url + '/prove', payload)).status)
    eachRound()
    await new Promise((r) => setTimeout(r, 25))
  }
  return { health, proofs }
}

test('slowloris: 1,000 connections sending a header byte every 10 s are answered 408 and closed; /health and proofs go on', async () => {
  const LORIS = 1000
  const dir = await compactDir({ arith: testCircuit('arith') })
  const server = await serveWith(['--keys', dir, '--headers-timeout', '4'])
  const payload = L.createProvingPayload(arithPreimage(), undefined)
  const { port } = new URL(server.url)
  const loris = []
  try {
    for (let i = 0; i < LORIS; i++) {
      const socket = net.connect(Number(port), '127.0.0.1')
      const conn = { socket, answer: '', closed: false }
      socket.on('error', () => {})
      socket.on('data', (d) => (conn.answer += d))
      socket.on('close', () => (conn.closed = true))
      socket.write('POST /prove HTTP/1.1\r\nHost: x\r\nX-A: ')
      conn.timer = setInterval(() => socket.writable && socket.write('a'), 10_000)
      loris.push(conn)
    }
    const { health, proofs } = await probe(server.url, payload, performance.now() + 8000)
    const status = (await (await fetch(server.url + '/status')).json()).server
    const timedOut = loris.filter((c) => /^HTTP\/1\.1 408/.test(c.answer))
    const ms = health.map((h) => h.ms).sort((a, b) => a - b)
    console.log(
      `slowloris: ${LORIS} connections, a header byte every 10 s, headers timeout 4 s: ${timedOut.length} answered 408, ${loris.filter((c) => c.closed).length} closed; ` +
        `open connections at the end ${status.connections}\n  /health: ${health.length} answered, p50 ${percentile(ms, 50).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms; proofs: ${proofs.join(' ')}`,
    )
    assert.ok(health.every((h) => h.status === 200) && health.length > 50, `/health answered: ${health.length}`)
    assert.ok(proofs.length > 0 && proofs.every((p) => p === 200), `proofs: ${proofs}`)
    assert.equal(timedOut.length, LORIS, 'every slow connection was let go with a 408')
    assert.ok(status.connections < 10, `open connections: ${status.connections}`)
  } finally {
    for (const c of loris) {
      clearInterval(c.timer)
      c.socket.destroy()
    }
    await server.close()
  }
})
