'use strict'
// `serve`: the official proof server's protocol (midnight-ledger proof-server/src/endpoints.rs),
// spoken to by the ledger's own payload builders and midnight-js's HTTP proving provider.
const { test, describe, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawn } = require('node:child_process')
const L = require('@midnight-ntwrk/ledger-v8')
const { createProver, keygen } = require('..')
const { compactDir, testCircuit, tempDir, keysFor, FIXTURES, ROOT } = require('./support/fixtures')
const { startServer, serveWith, arithPreimage, provingPayload, post, text, unversioned } = require('./support/serve')
const { resolveServeConfig } = require('../lib/serve/config')
const { cgroupMemoryLimit, derivedMemoryLimitMiB } = require('../lib/serve/cgroup')

let dir
let server
let prover // the same circuits proved directly, to compare the service against
before(async () => {
  dir = await compactDir({ arith: testCircuit('arith'), bench_k13: testCircuit('bench_k13') })
  server = await serveWith(['--keys', dir])
  prover = await createProver({ circuitKeysPath: dir })
})
after(async () => {
  await server.close()
  await prover.close()
})

test('GET routes answer like the proof server: /health, /, /ready, /version, /proof-versions', async () => {
  for (const route of ['/', '/health']) {
    const res = await fetch(server.url + route)
    assert.equal(res.status, 200)
    const body = await res.json()
    assert.equal(body.status, 'ok')
    assert.match(body.timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \+00:00:00$/)
  }
  const ready = await fetch(server.url + '/ready')
  assert.equal(ready.status, 200)
  assert.deepEqual(Object.keys(await ready.json()).sort(), ['jobCapacity', 'jobsPending', 'jobsProcessing', 'status', 'timestamp'])
  assert.equal(await (await fetch(server.url + '/version')).text(), require('../package.json').version)
  assert.equal(await (await fetch(server.url + '/proof-versions')).text(), '["V2"]')
  // actix answers 404 for a known path with the wrong method, and for unknown paths.
  assert.equal((await fetch(server.url + '/prove')).status, 404)
  assert.equal((await fetch(server.url + '/nope')).status, 404)
})

test('POST /prove: createProvingPayload in, a ProofVersioned that verifies out', async () => {
  const preimage = arithPreimage()
  const direct = await prover.prove('arith', preimage)
  for (const payload of [L.createProvingPayload(preimage, undefined), L.createProvingPayload(preimage, 0n)]) {
    const res = await post(server.url + '/prove', payload)
    assert.equal(res.status, 200, text(res.bytes))
    assert.equal(res.headers.get('content-type'), 'application/octet-stream')
    assert.equal(await prover.verify('arith', unversioned(res.bytes), direct.publicInputs), true)
  }
  // A different binding input changes the statement: the old public inputs no longer verify.
  const rebound = await post(server.url + '/prove', L.createProvingPayload(preimage, 12345n))
  assert.equal(rebound.status, 200)
  assert.equal(await prover.verify('arith', unversioned(rebound.bytes), direct.publicInputs), false)
})

test('key material in the request: /prove and /check work on a server that has no circuits of its own', async () => {
  const bare = await serveWith([])
  try {
    const keys = await keysFor(testCircuit('arith'))
    const ir = fs.readFileSync(path.join(dir, 'zkir', 'arith.zkir'))
    const preimage = arithPreimage()
    const payload = L.createProvingPayload(preimage, undefined, { proverKey: keys.proverKey, verifierKey: keys.verifierKey, ir })
    const res = await post(bare.url + '/prove', payload)
    assert.equal(res.status, 200, text(res.bytes))
    const direct = await prover.prove('arith', preimage)
    assert.equal(await prover.verify('arith', unversioned(res.bytes), direct.publicInputs), true)
    const check = await post(bare.url + '/check', L.createCheckPayload(preimage, ir))
    assert.equal(check.status, 200, text(check.bytes))
    assert.deepEqual(L.parseCheckResult(check.bytes), await prover.check('arith', preimage))
    // Without material the bare server has nothing to resolve 'arith' with.
    const none = await post(bare.url + '/prove', L.createProvingPayload(preimage, undefined))
    assert.equal(none.status, 400)
    assert.match(text(none.bytes), /^CIRCUIT_NOT_FOUND: /)
    // Material that is not what it claims to be is the client's error, and names the part.
    const corrupt = L.createProvingPayload(preimage, undefined, { proverKey: new Uint8Array(10), verifierKey: keys.verifierKey, ir })
    const bad = await post(bare.url + '/prove', corrupt)
    assert.equal(bad.status, 400)
    assert.match(text(bad.bytes), /^KEY_CORRUPT: .*prover key/)
    const badIr = await post(bare.url + '/check', L.createCheckPayload(preimage, new Uint8Array(10)))
    assert.equal(badIr.status, 400)
    assert.match(text(badIr.bytes), /^INVALID_IR: /)
  } finally {
    await bare.close()
  }
})

test('POST /check: createCheckPayload in, what parseCheckResult reads out, equal to check()', async () => {
  const preimage = arithPreimage()
  const res = await post(server.url + '/check', L.createCheckPayload(preimage))
  assert.equal(res.status, 200, text(res.bytes))
  assert.deepEqual(L.parseCheckResult(res.bytes), await prover.check('arith', preimage))
})

test('POST /k: a tagged ZKIR v2 IR in, its k as text out', async () => {
  for (const [file, k] of [[path.join(FIXTURES, 'builtin', 'zswap', 'output.bzkir'), 14], [path.join(FIXTURES, 'builtin', 'zswap', 'sign.bzkir'), 13]]) {
    const res = await post(server.url + '/k', fs.readFileSync(file))
    assert.equal(res.status, 200)
    assert.equal(text(res.bytes), String(k))
  }
  const bad = await post(server.url + '/k', new Uint8Array(100))
  assert.equal(bad.status, 400)
  assert.match(text(bad.bytes), /Unsupported ZKIR version/)
})

test('bad requests get a readable 4xx and the service keeps proving', async () => {
  const payload = L.createProvingPayload(arithPreimage(), undefined)
  const cases = [
    [new Uint8Array(0), 400, /expected header tag/],
    [Buffer.from('{"key":"value"}'), 400, /expected header tag/],
    [payload.subarray(0, payload.length - 3), 400, /./],
    [Buffer.concat([payload, payload]), 400, /Not all bytes read/],
    // A preimage for a circuit the server does not have: the client reads the code and the id.
    [L.createProvingPayload(arithPreimage('transfer'), undefined), 400, /^CIRCUIT_NOT_FOUND: .*transfer/],
    // The right circuit with a witness it rejects.
    [L.createProvingPayload(arithPreimage('bench_k13'), undefined), 400, /^(INVALID_WITNESS|WITNESS_UNSATISFIED): /],
  ]
  for (const [body, status, message] of cases) {
    const res = await post(server.url + '/prove', body)
    assert.equal(res.status, status, text(res.bytes))
    assert.match(text(res.bytes), message)
  }
  const check = await post(server.url + '/check', new Uint8Array(100))
  assert.equal(check.status, 400)
  assert.equal((await post(server.url + '/prove', payload)).status, 200)
})

test('--job-timeout: a proof that takes longer answers 500 PROOF_TIMEOUT (like the job TTL of the proof server)', async () => {
  const hurried = await serveWith(['--keys', dir, '--job-timeout', '0.05'])
  try {
    const res = await post(hurried.url + '/prove', provingPayload('bench_k13'))
    assert.equal(res.status, 500)
    assert.match(text(res.bytes), /^PROOF_TIMEOUT: no result within 50 ms/)
    assert.equal((await fetch(hurried.url + '/health')).status, 200)
  } finally {
    await hurried.close()
  }
})

test('--job-timeout keeps the counts true: a timed-out proof holds its slot until its native work ends; a queued one leaves at once', async () => {
  const hurried = await serveWith(['--keys', dir, '--job-timeout', '0.3', '--num-workers', '1'])
  try {
    const before = (await (await fetch(hurried.url + '/status')).json()).proofsCompleted
    const payload = provingPayload('bench_k13')
    // The first proves (longer than 0.3 s); the second waits behind it and never starts.
    const [running, queued] = await Promise.all([post(hurried.url + '/prove', payload), post(hurried.url + '/prove', payload)])
    for (const res of [running, queued]) {
      assert.equal(res.status, 500)
      assert.match(text(res.bytes), /^PROOF_TIMEOUT: no result within 300 ms/)
    }
    // Both are answered, but the first proof is still running natively: its slot is still taken.
    const ready = await (await fetch(hurried.url + '/ready')).json()
    const status = await (await fetch(hurried.url + '/status')).json()
    assert.deepEqual([ready.jobsProcessing, ready.jobsPending], [1, 0])
    assert.deepEqual([status.activeProofs, status.queuedProofs], [1, 0], 'the prover runs exactly the proof the gate counts')
    while ((await (await fetch(hurried.url + '/ready')).json()).jobsProcessing !== 0) await new Promise((r) => setTimeout(r, 20))
    const after = await (await fetch(hurried.url + '/status')).json()
    assert.equal(after.proofsCompleted, before + 1, 'the queued proof never ran')
    assert.deepEqual([after.activeProofs, after.queuedProofs], [0, 0])
  } finally {
    await hurried.close()
  }
})

test('a retried /prove (same body) while the first runs is proved once, and both are answered with that proof', async () => {
  const sharing = await serveWith(['--keys', dir, '--result-ttl', '30'])
  try {
    const payload = provingPayload('bench_k13')
    const first = post(sharing.url + '/prove', payload)
    await new Promise((r) => setTimeout(r, 100))
    const retry = post(sharing.url + '/prove', payload)
    const [a, b] = await Promise.all([first, retry])
    assert.deepEqual([a.status, b.status], [200, 200])
    assert.deepEqual(a.bytes, b.bytes, 'the same proof')
    const status = await (await fetch(sharing.url + '/status')).json()
    assert.equal(status.proofsCompleted, 1, 'proved once')
    assert.equal(status.server.results.joined, 1)
  } finally {
    await sharing.close()
  }
})

test('JobGate: a job that times out pending frees its place at once; one that times out running keeps its slot until it settles', async () => {
  const { JobGate } = require('../lib/serve/jobs')
  const gate = new JobGate({ capacity: 1, workers: 1, timeoutMs: 30 })
  let finish
  const long = new Promise((resolve) => (finish = resolve))
  const started = []
  const a = gate.admit(() => (started.push('a'), long))
  const b = gate.admit(() => (started.push('b'), 'b done'))
  assert.equal(gate.admit(() => 'c'), undefined, 'one running and one pending: full at capacity 1')
  assert.deepEqual([gate.processing, gate.pending, gate.full], [1, 1, true])
  for (const job of [a, b]) await assert.rejects(job, (err) => err.code === 'PROOF_TIMEOUT' && /no result within 30 ms/.test(err.message))
  assert.deepEqual([gate.processing, gate.pending, gate.overdue, gate.full], [1, 0, 1, false], 'b left the queue; a still holds its slot')
  assert.deepEqual(started, ['a'])
  const c = gate.admit(() => (started.push('c'), 'c done'))
  assert.deepEqual([gate.processing, gate.pending], [1, 1], 'c waits for a\'s work, not for a\'s answer')
  finish('a done')
  assert.equal(await c, 'c done')
  await new Promise(setImmediate) // c's answer goes out first; its slot is freed right after
  assert.deepEqual(started, ['a', 'c'])
  assert.deepEqual([gate.processing, gate.pending, gate.overdue], [0, 0, 0])
  // A job whose work throws synchronously is answered with that error and frees its slot.
  const thrown = gate.admit(() => {
    throw new Error('boom')
  })
  await assert.rejects(thrown, /boom/)
  assert.equal(gate.inFlight, 0)
})

test('--body-limit: a larger body is refused with 413 (declared or streamed), smaller ones pass', async () => {
  const small = await serveWith(['--keys', dir, '--body-limit', '4096'])
  try {
    const payload = L.createProvingPayload(arithPreimage(), undefined)
    assert.ok(payload.length < 4096)
    assert.equal((await post(small.url + '/prove', payload)).status, 200)
    const big = await post(small.url + '/prove', new Uint8Array(5000))
    assert.equal(big.status, 413)
    assert.match(text(big.bytes), /4096-byte limit/)
    // Streamed without a length: counted as it arrives.
    const streamed = await fetch(small.url + '/prove', {
      method: 'POST',
      duplex: 'half',
      body: new ReadableStream({
        start(c) {
          for (let i = 0; i < 10; i++) c.enqueue(new Uint8Array(1000))
          c.close()
        },
      }),
    })
    assert.equal(streamed.status, 413)
  } finally {
    await small.close()
  }
})

test('PROVER_API_KEY: Bearer auth on every route except the probes (/, /health, /ready)', async () => {
  const guarded = await serveWith(['--keys', dir], { PROVER_API_KEY: 's3cret' })
  try {
    for (const route of ['/', '/health', '/ready']) assert.equal((await fetch(guarded.url + route)).status, 200, route)
    for (const route of ['/version', '/proof-versions', '/metrics', '/status']) {
      const res = await fetch(guarded.url + route)
      assert.equal(res.status, 401, route)
      assert.equal(res.headers.get('www-authenticate'), 'Bearer')
      assert.equal((await fetch(guarded.url + route, { headers: { Authorization: 'Bearer wrong' } })).status, 401, route)
      assert.equal((await fetch(guarded.url + route, { headers: { Authorization: 'Bearer s3cret' } })).status, 200, route)
    }
    const payload = L.createProvingPayload(arithPreimage(), undefined)
    assert.equal((await post(guarded.url + '/prove', payload)).status, 401)
    assert.equal((await post(guarded.url + '/prove', payload, { Authorization: 'Bearer s3cret' })).status, 200)
  } finally {
    await guarded.close()
  }
})

test('GET /metrics is prover.metrics(); GET /status is getStatus() plus the job counts', async () => {
  const metrics = await fetch(server.url + '/metrics')
  assert.match(metrics.headers.get('content-type'), /^text\/plain; version=0\.0\.4/)
  const exposition = await metrics.text()
  assert.match(exposition, /^proofs_generated_total\{circuit_id="arith",status="success"\} [1-9]/m)
  const status = await (await fetch(server.url + '/status')).json()
  assert.ok(status.loadedCircuits.includes('arith'))
  assert.ok(status.proofsCompleted >= 1)
  const { jobsProcessing, jobsPending, jobCapacity, body, results } = status.server
  assert.deepEqual({ jobsProcessing, jobsPending, jobCapacity }, { jobsProcessing: 0, jobsPending: 0, jobCapacity: 0 })
  assert.equal(body.inFlightBytes, 0)
  assert.equal(results.inFlight, 0)
  assert.match(exposition, /^prover_request_body_limit_bytes \d+$/m)
})

test('CORS: any origin may call it (the proof server is Cors::permissive), preflight included', async () => {
  const pre = await fetch(server.url + '/prove', {
    method: 'OPTIONS',
    headers: { Origin: 'http://dapp.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,authorization' },
  })
  assert.equal(pre.status, 200)
  assert.equal(pre.headers.get('access-control-allow-origin'), 'http://dapp.example')
  assert.match(pre.headers.get('access-control-allow-headers'), /authorization/)
  const get = await fetch(server.url + '/health', { headers: { Origin: 'http://dapp.example' } })
  assert.equal(get.headers.get('access-control-allow-origin'), 'http://dapp.example')
})

test('--job-capacity: beyond it /prove answers 429 and /ready 503 with processing/pending/capacity', async () => {
  const busy = await serveWith(['--keys', dir, '--job-capacity', '1', '--num-workers', '1'])
  try {
    const payload = provingPayload('bench_k13')
    const first = post(busy.url + '/prove', payload) // processing
    const second = post(busy.url + '/prove', payload) // pending: capacity reached
    let ready
    while ((ready = await fetch(busy.url + '/ready')).status === 200) await new Promise((r) => setTimeout(r, 5))
    assert.equal(ready.status, 503)
    assert.deepEqual(await ready.json().then(({ timestamp, ...rest }) => rest), { status: 'busy', jobsProcessing: 1, jobsPending: 1, jobCapacity: 1 })
    const third = await post(busy.url + '/prove', payload)
    assert.equal(third.status, 429)
    assert.equal(text(third.bytes), 'Job Queue full')
    assert.deepEqual([(await first).status, (await second).status], [200, 200])
    assert.equal((await fetch(busy.url + '/ready')).status, 200)
  } finally {
    await busy.close()
  }
})

test('flags win over env; the proof server names work; bad values are INVALID_OPTIONS naming the source', () => {
  const env = { MIDNIGHT_PROOF_SERVER_PORT: '7000', MIDNIGHT_PROOF_SERVER_JOB_CAPACITY: '3', PROVER_HOST: '0.0.0.0', PROVER_BODY_LIMIT: '1000', MIDNIGHT_PROOF_SERVER_JOB_TIMEOUT: '1.5' }
  const fromEnv = resolveServeConfig([], env)
  assert.deepEqual([fromEnv.port, fromEnv.jobCapacity, fromEnv.host, fromEnv.bodyLimit, fromEnv.jobTimeoutMs], [7000, 3, '0.0.0.0', 1000, 1500])
  const fromFlags = resolveServeConfig(['-p', '7001', '--job-capacity=4', '--host', '::1', '--num-workers', '2', '--threads', '2', '--keys', `${dir}${path.delimiter}${dir}`, '--preload', 'arith, bench_k13', '-v'], env)
  assert.deepEqual([fromFlags.port, fromFlags.jobCapacity, fromFlags.host, fromFlags.verbose], [7001, 4, '::1', true])
  // The job timeout is the gate's (lib/serve/jobs.js), not the prover's.
  assert.deepEqual(fromFlags.prover, { circuitKeysPath: [dir, dir], threads: 2, preloadCircuits: ['arith', 'bench_k13'], maxConcurrent: 2 })
  const defaults = resolveServeConfig([], {})
  assert.deepEqual([defaults.port, defaults.host, defaults.jobCapacity, defaults.jobTimeoutMs, defaults.apiKey, defaults.fetchParams], [6300, '127.0.0.1', 0, 600000, undefined, true])
  assert.equal(resolveServeConfig(['--no-fetch-params'], {}).fetchParams, false)
  assert.equal(resolveServeConfig([], { MIDNIGHT_PROOF_SERVER_NO_FETCH_PARAMS: 'true' }).fetchParams, false)
  for (const [args, e, where] of [
    [['--port', 'x'], {}, '--port'],
    [[], { MIDNIGHT_PROOF_SERVER_PORT: '70000' }, 'MIDNIGHT_PROOF_SERVER_PORT'],
    [['--job-timeout', '0'], {}, '--job-timeout'],
    [['--num-workers', '0'], {}, '--num-workers'],
    [['--colour'], {}, '--colour'],
    [['--port'], {}, '--port'],
    [[], { MIDNIGHT_PROOF_SERVER_VERBOSE: 'maybe' }, 'MIDNIGHT_PROOF_SERVER_VERBOSE'],
  ]) {
    assert.throws(() => resolveServeConfig(args, e), (err) => err.code === 'INVALID_OPTIONS' && err.message.startsWith(where), JSON.stringify([args, e]))
  }
})

test('memoryLimit from the cgroup: v2 memory.max, v1 limit_in_bytes, "max"/huge = none; 85% is given to proving', async () => {
  const root = tempDir('mnp-cgroup-')
  assert.equal(cgroupMemoryLimit(root), undefined)
  fs.writeFileSync(path.join(root, 'memory.max'), 'max\n')
  assert.equal(cgroupMemoryLimit(root), null)
  assert.equal(derivedMemoryLimitMiB(root), undefined)
  fs.writeFileSync(path.join(root, 'memory.max'), `${2 * 1024 ** 3}\n`)
  assert.equal(cgroupMemoryLimit(root), 2 * 1024 ** 3)
  assert.equal(derivedMemoryLimitMiB(root), Math.floor(2048 * 0.85))
  const v1 = tempDir('mnp-cgroup-v1-')
  fs.mkdirSync(path.join(v1, 'memory'))
  fs.writeFileSync(path.join(v1, 'memory', 'memory.limit_in_bytes'), '9223372036854771712\n')
  assert.equal(cgroupMemoryLimit(v1), null)
  fs.writeFileSync(path.join(v1, 'memory', 'memory.limit_in_bytes'), `${512 * 1024 ** 2}\n`)
  assert.equal(derivedMemoryLimitMiB(v1), Math.floor(512 * 0.85))
  // The service applies it when no memory limit is given, and an explicit one wins.
  for (const [args, limitMiB] of [[[], Math.floor(2048 * 0.85)], [['--memory-limit', '100'], 100]]) {
    const s = await startServer(resolveServeConfig(['--port', '0', ...args], {}), { cgroupRoot: root })
    const status = await (await fetch(s.url + '/status')).json()
    assert.equal(status.memory.limitBytes, limitMiB * 1024 * 1024)
    await s.close()
  }
})

test('SIGTERM: the CLI stops accepting, finishes the proof in flight (200), and exits 0', async () => {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'cli.js'), 'serve', '--port', '0', '--keys', dir], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  while (!/listening on (http:\S+)/.test(out)) await new Promise((r) => setTimeout(r, 20))
  const url = /listening on (http:\S+)/.exec(out)[1]
  const payload = provingPayload('bench_k13')
  const running = post(url + '/prove', payload)
  while ((await (await fetch(url + '/ready')).json()).jobsProcessing === 0) await new Promise((r) => setTimeout(r, 5))
  child.kill('SIGTERM')
  const res = await running
  assert.equal(res.status, 200, text(res.bytes))
  assert.equal(text(res.bytes.subarray(0, 25)), 'midnight:proof-versioned:')
  assert.deepEqual(await exited, { code: 0, signal: null }, out)
  await assert.rejects(fetch(url + '/health'), /fetch failed/)
})

// The official proof server's integration tests (midnight-ledger proof-server/tests/
// integration_tests.rs), each assertion that applies to `serve` restated here. /prove-tx is
// deprecated there and not served here, so its cases are asserted on /prove and /check instead.
describe('as the official proof server\'s integration tests assert', () => {
  const WORKERS = 2
  const LIMIT = 2

  test('GET /prove, /check, /k answer 404; empty bodies to /prove, /check, /k answer 400', async () => {
    for (const route of ['/prove', '/check', '/k']) {
      assert.equal((await fetch(server.url + route)).status, 404, route)
      const empty = await post(server.url + route, new Uint8Array(0))
      assert.equal(empty.status, 400, route)
    }
    const empty = text((await post(server.url + '/prove', new Uint8Array(0))).bytes)
    assert.ok(empty.includes('expected header tag') && empty.includes(", got ''"), empty)
  })

  test('a JSON body, and 100 zero bytes, are 400 (expected header tag / Unsupported ZKIR version)', async () => {
    for (const route of ['/prove', '/check']) {
      const res = await post(server.url + route, Buffer.from('{"key": "value"}'), { 'Content-Type': 'application/json' })
      assert.equal(res.status, 400)
      assert.ok(text(res.bytes).includes('expected header tag'), text(res.bytes))
      assert.equal((await post(server.url + route, new Uint8Array(100))).status, 400)
    }
    const k = await post(server.url + '/k', new Uint8Array(100))
    assert.equal(k.status, 400)
    assert.ok(/Unsupported ZKIR version|expected header tag/.test(text(k.bytes)), text(k.bytes))
  })

  test('a body sent twice is 400 with the deserializer\'s message alone: ^Not all bytes read deserializing \'.*\'; N bytes remaining$', async () => {
    const preimage = arithPreimage()
    for (const [route, body] of [['/prove', L.createProvingPayload(preimage, undefined)], ['/check', L.createCheckPayload(preimage)]]) {
      const res = await post(server.url + route, Buffer.concat([body, body]))
      assert.equal(res.status, 400)
      assert.match(text(res.bytes), /^Not all bytes read deserializing '.*'; \d+ bytes remaining$/)
    }
  })

  test('a body with 50 bytes overwritten at random (fixed seed) is 400', async () => {
    let seed = 42
    const next = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) / 2 ** 24
    const body = Uint8Array.from(L.createProvingPayload(arithPreimage(), undefined))
    for (let i = 0; i < 50; i++) body[Math.floor(next() * body.length)] = Math.floor(next() * 256)
    assert.equal((await post(server.url + '/prove', body)).status, 400)
  })

  test('/k: a minimal tagged IR (one input, no instructions) answers its k', async () => {
    const { jsonIrToBinary } = require('@midnight-ntwrk/zkir-v2')
    const ir = jsonIrToBinary(JSON.stringify({ version: { major: 2, minor: 0 }, num_inputs: 1, do_communications_commitment: false, instructions: [] }))
    const res = await post(server.url + '/k', ir)
    assert.equal(res.status, 200, text(res.bytes))
    assert.equal(Number(text(res.bytes)), (await keygen(ir)).k)
  })

  test(`/ready with ${WORKERS} workers and capacity ${LIMIT}: ${LIMIT - 1 + WORKERS} jobs are ok (2 processing, 1 pending), ${LIMIT + WORKERS} are busy (503)`, async () => {
    const pool = await serveWith(['--keys', dir, '--num-workers', String(WORKERS), '--job-capacity', String(LIMIT)])
    try {
      const payload = provingPayload('bench_k13')
      const counts = async () => (await fetch(pool.url + '/ready')).json().then(({ timestamp, ...rest }) => rest)
      const sent = []
      const settle = async (n) => {
        while (sent.length < n) sent.push(post(pool.url + '/prove', payload))
        let c
        while ((c = await counts()).jobsProcessing + c.jobsPending < n) await new Promise((r) => setTimeout(r, 5))
      }
      await settle(LIMIT - 1 + WORKERS)
      const okRes = await fetch(pool.url + '/ready')
      const ok = await okRes.json()
      assert.equal(okRes.status, 200)
      assert.deepEqual([ok.status, ok.jobsProcessing, ok.jobsPending], ['ok', WORKERS, LIMIT - 1])
      await settle(LIMIT + WORKERS)
      const busyRes = await fetch(pool.url + '/ready')
      const busy = await busyRes.json()
      assert.equal(busyRes.status, 503)
      assert.deepEqual([busy.status, busy.jobsProcessing, busy.jobsPending], ['busy', WORKERS, LIMIT])
      assert.deepEqual((await Promise.all(sent)).map((r) => r.status), sent.map(() => 200))
    } finally {
      await pool.close()
    }
  })

  test('capacity 0 admits every job (10 at once, all proved); 10 concurrent requests with capacity 10 all prove; /health answers under load', async () => {
    for (const capacity of ['0', '10']) {
      const pool = await serveWith(['--keys', dir, '--num-workers', String(WORKERS), '--job-capacity', capacity])
      try {
        const payload = L.createProvingPayload(arithPreimage(), undefined)
        const sent = Array.from({ length: 10 }, () => post(pool.url + '/prove', payload))
        const ready = await fetch(pool.url + '/ready')
        assert.equal(ready.status, 200)
        const body = await ready.json()
        assert.deepEqual([body.status, body.jobCapacity], ['ok', Number(capacity)])
        assert.equal((await fetch(pool.url + '/health')).status, 200)
        assert.deepEqual((await Promise.all(sent)).map((r) => r.status), sent.map(() => 200))
      } finally {
        await pool.close()
      }
    }
  })

  test('GET /fetch-params/{k}: k=8 answers success (embedded SRS, no download), k=30 is 400 "k=30 out of range"; --no-fetch-params removes the route', async () => {
    const ok = await fetch(server.url + '/fetch-params/8')
    assert.equal(ok.status, 200)
    assert.equal(await ok.text(), 'success')
    const far = await fetch(server.url + '/fetch-params/30')
    assert.equal(far.status, 400)
    assert.equal(await far.text(), 'k=30 out of range')
    // A k that is not a u8 does not match the route (actix's path extractor answers 404).
    for (const k of ['256', 'abc', '-1']) assert.equal((await fetch(server.url + `/fetch-params/${k}`)).status, 404, k)
    const without = await serveWith(['--keys', dir, '--no-fetch-params'])
    try {
      assert.equal((await fetch(without.url + '/fetch-params/8')).status, 404)
    } finally {
      await without.close()
    }
  })

  test('GET /fetch-params/15 with no bls_midnight_2p15 on disk and no MIDNIGHT_PARAM_SOURCE: 500 PARAMS_NOT_FOUND, nothing downloaded', { skip: process.env.MIDNIGHT_PARAM_SOURCE ? 'MIDNIGHT_PARAM_SOURCE is set' : false }, async () => {
    const params = tempDir('mnp-fetch-params-')
    const s = await serveWith(['--keys', dir, '--params', params])
    try {
      const res = await fetch(s.url + '/fetch-params/15')
      assert.equal(res.status, 500)
      assert.match(await res.text(), /^PARAMS_NOT_FOUND: .*bls_midnight_2p15/)
      assert.deepEqual(fs.readdirSync(params), [])
    } finally {
      await s.close()
    }
  })
})
