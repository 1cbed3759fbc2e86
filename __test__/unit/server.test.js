'use strict'
// The HTTP routes of `serve` (lib/serve/routes.js on lib/serve/http.js) over a fake binding: the
// real ProofServer, engine and prover, with no addon behind them.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { ProofServer, makeServe } = require('../../lib/serve/server')
const { makeEngine } = require('../../lib/serve/engine')
const { resolveServeConfig } = require('../../lib/serve/config')
const { makeApi } = require('../../lib/api')
const { version } = require('../../package.json')
const { fakeBinding, nativeError } = require('./fake-binding')

const TIMESTAMP = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \+00:00:00$/

/** A listening ProofServer on a free port, over a fresh fake binding whose proofs finish at once. */
async function serve(env = {}, args = []) {
  const binding = fakeBinding()
  const prover = await makeApi(binding).createProver({ threads: 1 })
  const native = binding.provers[0]
  native.prove = async (proofId, circuit) => ({ circuitId: circuit, proof: Buffer.from([9, 8, 7]), publicInputs: [], k: 10, provingTimeMs: 1 })
  const fetched = []
  const fetchParams = async (k, options) => {
    fetched.push([k, options])
    return `/params/bls_midnight_2p${k}`
  }
  const config = resolveServeConfig(['--port', '0', ...args], env)
  const server = await new ProofServer(config, prover, { workers: 1, engine: makeEngine(binding), fetchParams }).listen()
  return { server, binding, native, fetched, get: (route, init) => fetch(server.url + route, init) }
}

const post = (s, route, body) => s.get(route, { method: 'POST', body })
/** A binding function that fails as the addon does. */
const failing = (code, message) => () => {
  throw nativeError(code, message)
}

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms))

/**
 * A binding function whose calls wait until the test answers them: `calls` counts them,
 * `answerNext()` answers the oldest (waiting for one to be made), `answerAll()` every one made.
 */
function heldCalls(answer) {
  const waiting = []
  const held = {
    calls: 0,
    fn: () => new Promise((resolve) => {
      held.calls++
      waiting.push(() => resolve(answer(held.calls)))
    }),
    async answerNext() {
      while (waiting.length === 0) await tick()
      waiting.shift()()
    },
    async answerAll() {
      while (waiting.length === 0) await tick()
      waiting.splice(0).forEach((settle) => settle())
    },
  }
  return held
}

test('GET /, /health, /ready, /version, /proof-versions, /metrics, /status answer like the proof server', async (t) => {
  const s = await serve()
  t.after(() => s.server.close())
  for (const route of ['/', '/health']) {
    const res = await s.get(route)
    assert.equal(res.status, 200, route)
    assert.equal(res.headers.get('content-type'), 'application/json')
    const body = await res.json()
    assert.equal(body.status, 'ok')
    assert.match(body.timestamp, TIMESTAMP)
  }
  const ready = await s.get('/ready')
  assert.equal(ready.status, 200)
  const { timestamp, ...counts } = await ready.json()
  assert.match(timestamp, TIMESTAMP)
  assert.deepEqual(counts, { status: 'ok', jobsProcessing: 0, jobsPending: 0, jobCapacity: 0 })
  assert.equal(await (await s.get('/version')).text(), version)
  assert.equal(await (await s.get('/proof-versions')).text(), '["V2"]')
  const metrics = await s.get('/metrics')
  assert.equal(metrics.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
  const exposition = await metrics.text()
  assert.ok(exposition.startsWith('# fake metrics\n'), 'the prover\'s series first')
  assert.match(exposition, /^prover_request_body_limit_bytes 268435456$/m, 'two 128 MiB bodies with no memory limit')
  assert.match(exposition, /^prover_requests_refused_total\{reason="queue_full"\} 0$/m)
  const status = await (await s.get('/status')).json()
  assert.deepEqual(status.loadedCircuits, ['arith'])
  const { connections, ...server } = status.server
  assert.ok(connections >= 1, 'this request\'s own connection at least')
  assert.deepEqual(server, {
    jobsProcessing: 0, jobsPending: 0, jobCapacity: 0,
    body: { inFlightBytes: 0, limitBytes: 268435456, refused: 0 },
    refused: { body_budget: 0, queue_full: 0, shutting_down: 0, max_connections: 0 },
    results: { entries: 0, bytes: 0, inFlight: 0, hits: 0, joined: 0, ttlMs: 30000, maxBytes: 16777216, maxEntries: 256 },
  })
})

test('unknown paths and known paths with the wrong method answer 404 with an empty body; OPTIONS answers 200', async (t) => {
  const s = await serve()
  t.after(() => s.server.close())
  for (const [method, route] of [['GET', '/nope'], ['GET', '/prove'], ['GET', '/check'], ['GET', '/k'], ['POST', '/health'], ['DELETE', '/'], ['GET', '/health/']]) {
    const res = await s.get(route, { method })
    assert.equal(res.status, 404, `${method} ${route}`)
    assert.equal(await res.text(), '')
  }
  assert.equal((await s.get('/health?probe=1')).status, 200) // the query is not part of the route
  const preflight = await s.get('/prove', { method: 'OPTIONS', headers: { Origin: 'http://dapp.test', 'Access-Control-Request-Method': 'POST' } })
  assert.equal(preflight.status, 200)
  assert.equal(preflight.headers.get('access-control-allow-origin'), 'http://dapp.test')
  assert.equal(preflight.headers.get('access-control-allow-methods'), 'POST')
})

test('POST /prove, /check and /k run through the engine: bytes in, the encoded answer out', async (t) => {
  const s = await serve()
  t.after(() => s.server.close())
  const proved = await post(s, '/prove', new Uint8Array([1, 2]))
  assert.equal(proved.status, 200)
  assert.equal(proved.headers.get('content-type'), 'application/octet-stream')
  assert.deepEqual(new Uint8Array(await proved.arrayBuffer()), new Uint8Array([9, 8, 7]))
  const checked = await post(s, '/check', new Uint8Array([1, 2]))
  assert.equal(checked.status, 200)
  assert.deepEqual(JSON.parse(await checked.text()), ['1', 'null', '3'])
  assert.deepEqual(s.native.calls.find((c) => c[0] === 'check'), ['check', 'arith', new Uint8Array([1, 2])])
  const k = await post(s, '/k', new Uint8Array([1]))
  assert.deepEqual([k.status, await k.text()], [200, '10'])
})

test('errors: an unreadable body is 400 with the decoder message alone; engine codes map to their status', async (t) => {
  const s = await serve()
  t.after(() => s.server.close())
  const decode = s.binding.decodeProveRequest
  s.binding.decodeProveRequest = failing('INVALID_ARGUMENT', 'Not all bytes read')
  const unreadable = await post(s, '/prove', new Uint8Array([1]))
  assert.deepEqual([unreadable.status, await unreadable.text()], [400, 'Not all bytes read'])
  s.binding.decodeProveRequest = decode
  s.binding.irK = failing('INVALID_IR', 'not an IR')
  const badIr = await post(s, '/k', new Uint8Array([1]))
  assert.deepEqual([badIr.status, await badIr.text()], [400, 'not an IR'])
  s.native.check = failing('CIRCUIT_NOT_FOUND', 'no arith')
  const missing = await post(s, '/check', new Uint8Array([1]))
  assert.deepEqual([missing.status, await missing.text()], [400, 'CIRCUIT_NOT_FOUND: no arith'])
  s.native.prove = failing('GenericFailure', 'bug')
  const panic = await post(s, '/prove', new Uint8Array([1]))
  assert.deepEqual([panic.status, await panic.text()], [500, 'PROVER_PANIC: bug'])
})

test('GET /fetch-params/{k}: embedded k needs no fetch, a larger k goes to fetchParams, k > 25 is 400, a non-number 404', async (t) => {
  const s = await serve({ MIDNIGHT_PP: '/pp' })
  t.after(() => s.server.close())
  assert.deepEqual([(await s.get('/fetch-params/8')).status, s.fetched], [200, []])
  const fetched = await s.get('/fetch-params/16')
  assert.deepEqual([fetched.status, await fetched.text()], [200, 'success'])
  assert.deepEqual(s.fetched, [[16, { paramsPath: '/pp' }]])
  const far = await s.get('/fetch-params/30')
  assert.deepEqual([far.status, await far.text()], [400, 'k=30 out of range'])
  for (const k of ['x', '256', '-1']) assert.equal((await s.get(`/fetch-params/${k}`)).status, 404, k)
  const off = await serve({}, ['--no-fetch-params'])
  t.after(() => off.server.close())
  assert.equal((await off.get('/fetch-params/8')).status, 404)
})

test('PROVER_API_KEY: the probes stay open, everything else needs the Bearer key', async (t) => {
  const s = await serve({ PROVER_API_KEY: 'secret' })
  t.after(() => s.server.close())
  for (const route of ['/', '/health', '/ready']) assert.equal((await s.get(route)).status, 200, route)
  const refused = await s.get('/version')
  assert.deepEqual([refused.status, refused.headers.get('www-authenticate')], [401, 'Bearer'])
  assert.equal((await s.get('/version', { headers: { Authorization: 'Bearer wrong' } })).status, 401)
  assert.equal((await s.get('/version', { headers: { Authorization: 'Bearer secret' } })).status, 200)
  assert.equal((await post(s, '/prove', new Uint8Array([1]))).status, 401)
})

test('close() stops the server and closes the prover', async () => {
  const s = await serve()
  const { url } = s.server
  await s.server.close()
  assert.deepEqual([s.native.closed, s.native.released], [true, true])
  await assert.rejects(fetch(url + '/health'))
})

/** A raw request on its own connection: headers now, the body only when `send` is called. */
function rawRequest(url, path, headers) {
  const net = require('node:net')
  const { port } = new URL(url)
  const socket = net.connect(Number(port), '127.0.0.1')
  socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`)
  let text = ''
  const arrived = []
  socket.on('data', (d) => {
    text += d
    arrived.splice(0).forEach((wake) => wake())
  })
  // All it was answered, once the server has closed the connection.
  const answer = new Promise((resolve) => {
    socket.on('close', () => resolve(text))
    socket.on('error', () => resolve(text))
  })
  /** The status line of the first answer, while the connection may stay open. */
  const status = async () => {
    while (!text.includes('\r\n')) await new Promise((wake) => arrived.push(wake))
    return text.slice(0, text.indexOf('\r\n'))
  }
  return { send: (bytes) => socket.write(bytes), answer, status, socket }
}

test('the body budget: a request whose body does not fit is 503 with Retry-After before its body is sent; held bytes come back', async (t) => {
  const s = await serve({}, ['--body-budget', '1000'])
  t.after(() => s.server.close())
  const slow = rawRequest(s.server.url, '/prove', { 'Content-Length': 800 })
  await new Promise((r) => setTimeout(r, 50))
  assert.equal((await (await s.get('/status')).json()).server.body.inFlightBytes, 800, 'declared bytes are held from the start')

  const refused = rawRequest(s.server.url, '/prove', { 'Content-Length': 400 })
  const answer = await refused.answer // no body was sent: the answer came from the headers alone
  assert.match(answer, /^HTTP\/1\.1 503 /)
  assert.match(answer, /Retry-After: 1/i)
  assert.match(answer, /Connection: close/i)
  assert.match(answer, /1000-byte budget/)
  const chunked = rawRequest(s.server.url, '/check', { 'Transfer-Encoding': 'chunked' })
  chunked.send(`190\r\n${'x'.repeat(400)}\r\n`) // 400 bytes: over the budget with the 800 held
  assert.match(await chunked.answer, /^HTTP\/1\.1 503 /)

  slow.send(new Uint8Array(800))
  assert.equal(await slow.status(), 'HTTP/1.1 200 OK')
  await new Promise((r) => setTimeout(r, 50))
  const status = (await (await s.get('/status')).json()).server
  assert.equal(status.body.inFlightBytes, 0, 'answered: its bytes are given back')
  assert.equal(status.refused.body_budget, 2)
  assert.equal((await post(s, '/prove', new Uint8Array(900))).status, 200, 'a body that fits now is proved')
  slow.socket.destroy()
})

test('clients still uploading when refused read their 503 and 413: the server lingers, dropping what they send, before it closes', async (t) => {
  const s = await serve({}, ['--body-budget', String(2 << 20), '--body-limit', String(2 << 20)])
  const held = rawRequest(s.server.url, '/prove', { 'Content-Length': 2 << 20 }) // takes the whole budget
  t.after(() => {
    held.socket.destroy()
    return s.server.close()
  })
  const net = require('node:net')
  const { port } = new URL(s.server.url)
  const chunk = Buffer.alloc(256 << 10, 0x5a)
  // A client that sends its whole body as fast as it can and reads the answer only after
  // `readAfterMs`, as a busy client does: a server that closed at once has reset the connection
  // by then, and the reset erases the answer it had sent (RFC 9112 §9.6).
  const upload = (length, readAfterMs) => new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1')
    socket.pause()
    let answer = ''
    let sent = 0
    const pump = () => {
      while (sent < length && !socket.destroyed) {
        sent += chunk.length
        if (!socket.write(chunk)) return
      }
    }
    socket.on('connect', () => {
      socket.write(`POST /prove HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\n\r\n`)
      pump()
      setTimeout(() => socket.resume(), readAfterMs)
    })
    socket.on('drain', pump)
    socket.on('data', (d) => (answer += d))
    socket.on('error', () => {})
    socket.on('close', () => resolve(answer.split('\r\n')[0] || 'unanswered'))
    setTimeout(() => socket.destroy(), 5000).unref() // a client left hanging gives up
  })
  await new Promise((r) => setTimeout(r, 50))
  const refused = await Promise.all([upload(64 << 20, 300), upload(64 << 20, 300), upload(1 << 20, 300), upload(1 << 20, 300)])
  assert.deepEqual(refused.map((a) => a.split(' ')[1] ?? a), ['413', '413', '503', '503'], refused.join(' | '))
})

test('a full queue refuses /prove before reading its body, and closes the connection', async (t) => {
  const s = await serve({}, ['--job-capacity', '1'])
  t.after(() => s.server.close())
  const proofs = heldCalls(() => ({ circuitId: 'arith', proof: Buffer.from([1]), publicInputs: [], k: 10, provingTimeMs: 1 }))
  s.native.prove = proofs.fn
  const running = post(s, '/prove', new Uint8Array([1]))
  const waiting = post(s, '/prove', new Uint8Array([2]))
  while ((await (await s.get('/ready')).json()).jobsPending < 1) await new Promise((r) => setTimeout(r, 10))
  const refused = rawRequest(s.server.url, '/prove', { 'Content-Length': 100 * 1024 * 1024 })
  const answer = await refused.answer
  assert.match(answer, /^HTTP\/1\.1 429 /)
  assert.match(answer, /Connection: close/i)
  assert.equal((await (await s.get('/status')).json()).server.refused.queue_full, 1)
  await proofs.answerNext()
  await proofs.answerNext()
  assert.deepEqual([(await running).status, (await waiting).status], [200, 200])
})

test('/k is a job: a flood waits in the queue and is refused past it; an equal body in flight shares one cost model', async (t) => {
  const s = await serve({}, ['--job-capacity', '1'])
  t.after(() => s.server.close())
  // The IR's cost model: seconds of CPU for a body of a few bytes (docs/fuzzing.md).
  const model = heldCalls(() => 18)
  s.binding.irK = model.fn
  const running = post(s, '/k', new Uint8Array([1]))
  const retry = post(s, '/k', new Uint8Array([1]))
  const waiting = post(s, '/k', new Uint8Array([2]))
  while ((await (await s.get('/ready')).json()).jobsPending < 1) await tick(10)
  const refused = await post(s, '/k', new Uint8Array([3]))
  assert.equal(refused.status, 429, 'a full queue refuses /k as it refuses /prove')
  assert.equal(model.calls, 1, 'one worker: one cost model at a time, the equal body joined it')
  await model.answerNext()
  await model.answerNext()
  const answers = await Promise.all([running, retry, waiting].map(async (res) => [(await res).status, await (await res).text()]))
  assert.deepEqual(answers, [[200, '18'], [200, '18'], [200, '18']])
  assert.equal(model.calls, 2)
})

test('slow clients: headers not sent in time get 408; connections past --max-connections are dropped and counted', async (t) => {
  const s = await serve({}, ['--headers-timeout', '1', '--max-connections', '3'])
  t.after(() => s.server.close())
  const net = require('node:net')
  const { port } = new URL(s.server.url)
  const started = performance.now()
  const loris = net.connect(Number(port), '127.0.0.1')
  loris.write('POST /prove HTTP/1.1\r\nHost: x\r\nX-Slow: ')
  const slow = await new Promise((resolve) => {
    let text = ''
    loris.on('data', (d) => (text += d))
    loris.on('close', () => resolve(text))
  })
  assert.match(slow, /^HTTP\/1\.1 408 /)
  assert.ok(performance.now() - started < 4000, 'let go within the timeout and one check interval')

  const idle = await Promise.all([0, 1, 2].map(() => new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => resolve(socket))
  })))
  const extra = net.connect(Number(port), '127.0.0.1')
  extra.on('error', () => {})
  await new Promise((resolve) => extra.on('close', resolve))
  idle.forEach((socket) => socket.destroy())
  await new Promise((r) => setTimeout(r, 50))
  const status = (await (await s.get('/status')).json()).server
  assert.ok(status.refused.max_connections >= 1, JSON.stringify(status.refused))
})

test('a retry shares the first request\'s job: joined while in flight, then answered from the finished result until its TTL', async (t) => {
  const s = await serve({}, ['--result-ttl', '1'])
  t.after(() => s.server.close())
  const proofs = heldCalls((n) => ({ circuitId: 'arith', proof: Buffer.from([n]), publicInputs: [], k: 10, provingTimeMs: 1 }))
  s.native.prove = proofs.fn
  const first = post(s, '/prove', new Uint8Array([7, 7]))
  while (proofs.calls === 0) await tick()
  const retry = post(s, '/prove', new Uint8Array([7, 7]))
  const other = post(s, '/prove', new Uint8Array([7, 8]))
  while ((await (await s.get('/status')).json()).server.results.joined === 0) await tick()
  await proofs.answerNext() // one worker: the other body's job starts after this one
  await proofs.answerNext()
  const answers = await Promise.all([first, retry, other].map(async (res) => [...new Uint8Array(await (await res).arrayBuffer())]))
  assert.deepEqual(answers[0], answers[1], 'the retry got the first request\'s proof')
  assert.notDeepEqual(answers[0], answers[2])
  assert.equal(proofs.calls, 2, 'two bodies, two proofs')
  const late = await post(s, '/prove', new Uint8Array([7, 7]))
  assert.deepEqual([...new Uint8Array(await late.arrayBuffer())], answers[0], 'a retry after the answer gets it from the cache')
  let results = (await (await s.get('/status')).json()).server.results
  assert.deepEqual([results.joined, results.hits, results.entries, proofs.calls], [1, 1, 2, 2])
  assert.match(await (await s.get('/metrics')).text(), /^prover_shared_results_total\{how="joined"\} 1$/m)
  await new Promise((r) => setTimeout(r, 1100))
  results = (await (await s.get('/status')).json()).server.results
  assert.deepEqual([results.entries, results.bytes], [0, 0], 'nothing outlives the TTL')
  const after = post(s, '/prove', new Uint8Array([7, 7]))
  await proofs.answerAll()
  assert.equal((await after).status, 200)
  assert.equal(proofs.calls, 3, 'proved again once the TTL is over')
})

test('--result-ttl 0 turns sharing off; failures are never shared after they settle', async (t) => {
  const s = await serve({}, ['--result-ttl', '0'])
  t.after(() => s.server.close())
  let proofs = 0
  const prove = s.native.prove
  s.native.prove = (...args) => (proofs++, prove(...args))
  await Promise.all([post(s, '/prove', new Uint8Array([3])), post(s, '/prove', new Uint8Array([3]))])
  assert.equal(proofs, 2)
  const on = await serve()
  t.after(() => on.server.close())
  on.native.prove = failing('WITNESS_UNSATISFIED', 'no')
  assert.equal((await post(on, '/prove', new Uint8Array([4]))).status, 400)
  on.native.prove = prove
  assert.equal((await post(on, '/prove', new Uint8Array([4]))).status, 200, 'the retry of a failure is proved again')
})

test('makeServe: startServer over a binding and its API; the prover gets the workers and the cgroup\'s memory limit', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mnp-serve-cgroup-'))
  t.after(() => fs.rmSync(root, { recursive: true, force: true }))
  fs.writeFileSync(path.join(root, 'memory.max'), `${1024 ** 3}\n`)
  const binding = fakeBinding()
  const { startServer } = makeServe(binding, makeApi(binding))
  const server = await startServer(resolveServeConfig(['--port', '0', '--num-workers', '2', '--result-ttl', '0'], {}), { cgroupRoot: root })
  const native = binding.provers[0]
  const memoryLimitBytes = Math.floor(1024 * 0.85) * 1024 * 1024
  assert.deepEqual([native.config.maxConcurrent, native.config.memoryLimitBytes], [2, memoryLimitBytes])
  const status = await (await fetch(server.url + '/status')).json()
  assert.deepEqual([status.server.jobCapacity, status.server.body.limitBytes], [0, Math.floor(memoryLimitBytes / 4)])
  // Two proofs run at once: the job gate's workers are the prover's maxConcurrent.
  const s = { get: (route, init) => fetch(server.url + route, init) }
  const proving = [post(s, '/prove', 'a'), post(s, '/prove', 'b')]
  while (native.pending.length < 2) await new Promise((resolve) => setTimeout(resolve, 5))
  for (const d of native.pending) d.resolve({ circuitId: 'arith', proof: Buffer.from([1]), publicInputs: [], k: 10, provingTimeMs: 1 })
  assert.deepEqual((await Promise.all(proving)).map((res) => res.status), [200, 200])
  await server.close()
  assert.equal(native.closed, true)
})
