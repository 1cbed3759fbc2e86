'use strict'
// The HTTP routes of `serve` (lib/serve/server.js) over a fake binding: the real ProofServer,
// engine and prover, with no addon behind them.
const test = require('node:test')
const assert = require('node:assert/strict')
const { ProofServer } = require('../../lib/serve/server')
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
  assert.equal(await metrics.text(), '# fake metrics\n')
  const status = await (await s.get('/status')).json()
  assert.deepEqual(status.loadedCircuits, ['arith'])
  assert.deepEqual(status.server, { jobsProcessing: 0, jobsPending: 0, jobCapacity: 0 })
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
