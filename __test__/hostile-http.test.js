'use strict'
// Hostile input over HTTP: `serve` runs in a child process on 127.0.0.1 (port 0), so a request
// that ends the process shows as the child's exit instead of taking the test runner with it.
// Every case is followed by GET /health; a child that died is recorded with the case that killed
// it and started again, so one run names every such case. At the end a real proof must succeed
// and verify. Malformed requests go over raw sockets (fetch cannot send them), the rest by fetch.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const L = require('@midnight-ntwrk/ledger-v8')
const { createProver, serializePreimage } = require('..')
const { compactDir, testCircuit, keysFor, witness } = require('./support/fixtures')
const { arithPreimage, unversioned } = require('./support/serve')
const { ServeChild, rawExchange, openHalf } = require('./support/http-child')

/** Each case's own bound; the whole file stays well under a minute on 2 cores. */
const CASE_MS = 20_000
const HALF_OPEN = 200

let dir
let server
let arith // { ir (JSON bytes), bzkir, proverKey, verifierKey, preimage }
const tried = []
const crashes = []
const unmet = []

const { rng } = require('./support/rng')

function garbage(n, seed) {
  const r = rng(seed)
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256))
}

/** `bytes` with `flips` single bits flipped at seeded positions (each case its own seed). */
function bitFlipped(bytes, seed, flips = 1) {
  const r = rng(seed)
  const out = Uint8Array.from(bytes)
  for (let i = 0; i < flips; i++) {
    const at = Math.floor(r() * out.length)
    out[at] ^= 1 << Math.floor(r() * 8)
  }
  return out
}

const irText = (ir) => new TextEncoder().encode(JSON.stringify(ir))
/** The IR from issue 9: its only instruction reads variable 9, which does not exist. */
const MISSING_INDEX_IR = irText({ version: { major: 2, minor: 0 }, num_inputs: 0, do_communications_commitment: false, instructions: [{ op: 'assert', cond: 9 }] })
/** An IR that declares a billion inputs (40 GB if anything sized by it is allocated). */
const BILLION_INPUTS_IR = irText({ version: { major: 2, minor: 0 }, num_inputs: 1e9, do_communications_commitment: false, instructions: [] })

async function health() {
  try {
    const res = await fetch(server.url + '/health', { signal: AbortSignal.timeout(10_000) })
    return res.status
  } catch (err) {
    return `no answer (${err.cause?.code ?? err.message})`
  }
}

/**
 * Runs one case: `run()` resolves to what was seen, `expect(seen)` is true when it is right.
 * Then the server must still answer /health; if the child has exited, that is recorded as a
 * crash with its output, and a fresh child takes its place for the next case.
 */
async function attempt(name, run, expect = () => true) {
  tried.push(name)
  let seen
  try {
    seen = await Promise.race([run(), new Promise((_, reject) => setTimeout(() => reject(new Error(`no outcome within ${CASE_MS} ms`)), CASE_MS).unref())])
  } catch (err) {
    seen = { error: err.message }
  }
  const alive = await health()
  if (alive !== 200 || !server.alive) {
    // Give a dying child a moment to be seen exiting, so its exit code or signal is recorded.
    const exit = await Promise.race([server.exited, new Promise((r) => setTimeout(() => r({ code: null, signal: null, note: 'still running' }), 3000))])
    crashes.push({ name, exit, health: alive, output: server.output(600) })
    await server.stop(2000)
    server = await startServer()
    return
  }
  let ok = false
  try {
    ok = !seen?.error && expect(seen)
  } catch {
    ok = false
  }
  if (!ok) unmet.push({ name, seen: describe(seen) })
}

function describe(seen) {
  if (!seen) return String(seen)
  if (seen.error) return `error: ${seen.error}`
  if ('text' in seen) return `${seen.status} ${seen.text.slice(0, 200)}`
  return JSON.stringify({ statuses: seen.statuses, closed: seen.closed, timedOut: seen.timedOut, first: seen.responses?.[0]?.body?.slice(0, 200) })
}

/** fetch with a bound; resolves to { status, text }. */
async function send(method, route, body, headers = {}) {
  const res = await fetch(server.url + route, { method, body, headers, signal: AbortSignal.timeout(CASE_MS) })
  const bytes = new Uint8Array(await res.arrayBuffer())
  return { status: res.status, bytes, text: Buffer.from(bytes).toString('utf8') }
}

const raw = (parts, options) => rawExchange(server.port, parts, options)
const first = (seen) => seen.statuses[0]
/** The client's fault: a 4xx, or (for bytes the parser gives up on) the socket simply closed. */
const refused = (seen) => (seen.statuses.length ? seen.statuses[0] >= 400 && seen.statuses[0] < 500 : seen.closed)
/** Any answer but a server error (bytes that may, by chance, still be a valid request). */
const notServerError = (seen) => seen.status < 500

function startServer() {
  return ServeChild.start(['--keys', dir, '--job-timeout', '15'])
}

before(async () => {
  dir = await compactDir({ arith: testCircuit('arith'), bench_k6: testCircuit('bench_k6') })
  const irPath = testCircuit('arith')
  const keys = await keysFor(irPath)
  const { jsonIrToBinary } = require('@midnight-ntwrk/zkir-v2')
  arith = {
    ir: new Uint8Array(fs.readFileSync(irPath)),
    bzkir: jsonIrToBinary(fs.readFileSync(irPath, 'utf8')),
    proverKey: keys.proverKey,
    verifierKey: keys.verifierKey,
    preimage: arithPreimage(),
    other: await keysFor(testCircuit('bench_k6')),
  }
  server = await startServer()
})

after(async () => {
  const exit = await server?.stop()
  console.log(
    `hostile HTTP: ${tried.length} cases tried; ${crashes.length} ended the server process` +
      (crashes.length ? ` (${crashes.map((c) => c.name).join('; ')})` : ' (none did)') +
      `; ${unmet.length} answered other than expected; serve exited ${JSON.stringify(exit)} on SIGTERM at the end`,
  )
})

/** Runs a group of cases and asserts none ended the process and each was answered as expected. */
async function group(name, cases) {
  const [c0, u0] = [crashes.length, unmet.length]
  for (const [caseName, run, expect] of cases) await attempt(`${name}: ${caseName}`, run, expect)
  const dead = crashes.slice(c0).map((c) => `ENDED THE SERVER: ${c.name} -> exit ${JSON.stringify(c.exit)}, /health ${c.health}; its last output: ${c.output.slice(-300)}`)
  const wrong = unmet.slice(u0).map((u) => `unexpected answer: ${u.name}: ${u.seen}`)
  console.log(`  ${name}: ${cases.length} cases, ${dead.length} ended the process, ${wrong.length} unexpected answers`)
  for (const line of [...dead, ...wrong]) console.log(`    ${line.replace(/\n/g, '\n      ')}`)
  assert.deepEqual([...dead, ...wrong], [], `${name}: cases that ended the server or were answered other than expected`)
}

const status = (code) => (seen) => first(seen) === code

test('malformed request lines and targets: 400 (or 505/431), never an exit', async () => {
  const line = (l) => [`${l}\r\nHost: x\r\n\r\n`]
  await group('request line', [
    ['GET //[ HTTP/1.1', () => raw(line('GET //[ HTTP/1.1')), status(400)],
    ['GET http://[::1 HTTP/1.1', () => raw(line('GET http://[::1 HTTP/1.1')), status(400)],
    ['GET //%zz HTTP/1.1', () => raw(line('GET //%zz HTTP/1.1')), status(400)],
    ['POST //[ HTTP/1.1', () => raw([`POST //[ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`]), status(400)],
    ['GET http://%zz/ HTTP/1.1', () => raw(line('GET http://%zz/ HTTP/1.1')), status(400)],
    ['GET /health%zz', () => raw(line('GET /health%zz HTTP/1.1')), status(400)],
    ['GET /health?q=%', () => raw(line('GET /health?q=% HTTP/1.1')), status(400)],
    ['GET /prove with a key', () => raw(line('GET /pr{ove} HTTP/1.1')), refused],
    ['GET * (asterisk-form, not OPTIONS)', () => raw(line('GET * HTTP/1.1')), status(400)],
    ['OPTIONS * HTTP/1.1', () => raw(line('OPTIONS * HTTP/1.1')), status(200)],
    ['GET health (no slash)', () => raw(line('GET health HTTP/1.1')), status(400)],
    ['GET ftp://x/health', () => raw(line('GET ftp://x/health HTTP/1.1')), status(400)],
    ['GET //evil/health (not the /health route)', () => raw(line('GET //evil/health HTTP/1.1')), status(404)],
    ['GET http://127.0.0.1/health (absolute-form)', () => raw(line('GET http://127.0.0.1/health HTTP/1.1')), status(200)],
    ['GET /../../etc/passwd', () => raw(line('GET /../../etc/passwd HTTP/1.1')), status(404)],
    ['DEL byte in the target', () => raw(line('GET /\x7f HTTP/1.1')), refused],
    ['NUL in the target', () => raw(line('GET /\0 HTTP/1.1')), refused],
    ['non-ASCII bytes in the target', () => raw([Buffer.concat([Buffer.from('GET /'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')])]), refused],
    ['HTTP/9.9', () => raw(line('GET / HTTP/9.9')), refused],
    // llhttp takes a line without a version as HTTP/0.9-style; any answer (or a close) is fine.
    ['no HTTP version', () => raw(['GET /\r\nHost: x\r\n\r\n']), (s) => s.closed || s.statuses.length > 0],
    ['lowercase method', () => raw(line('get /health HTTP/1.1')), refused],
    ['unknown method', () => raw(line('BREW /health HTTP/1.1')), refused],
    ['empty lines only', () => raw(['\r\n\r\n\r\n'], { waitMs: 500 }), (s) => s.statuses.length === 0 || refused(s)],
    ['random binary junk', () => raw([Buffer.from(garbage(512, 1))]), refused],
    ['TLS ClientHello on the plain port', () => raw([Buffer.from('16030100a5010000a10303', 'hex'), Buffer.from(garbage(160, 2))]), refused],
    ['header without a colon', () => raw(['GET /health HTTP/1.1\r\nHost x\r\n\r\n']), refused],
    ['space before the colon', () => raw(['GET /health HTTP/1.1\r\nHost : x\r\n\r\n']), refused],
    ['bare LF line ends', () => raw(['GET /health HTTP/1.1\nHost: x\n\n']), (s) => s.closed || s.statuses.length > 0],
    ['CR without LF in a header', () => raw(['GET /health HTTP/1.1\r\nHost: x\rY: z\r\n\r\n']), refused],
    ['HTTP/1.1 without Host', () => raw(['GET /health HTTP/1.1\r\n\r\n']), status(400)],
    ['HTTP/1.0 /health', () => raw(['GET /health HTTP/1.0\r\n\r\n']), status(200)],
    ['pipelined: /health then garbage', () => raw(['GET /health HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n'], { responses: 2 }), (s) => s.statuses[0] === 200 && (s.statuses[1] === 400 || s.closed)],
    ['request line cut short, then closed', () => raw(['GET /hea'], { end: true }), refused],
    ['Origin with a non-ASCII byte (CORS echo)', () => raw([Buffer.concat([Buffer.from('GET /health HTTP/1.1\r\nHost: x\r\nOrigin: http://a'), Buffer.from([0xe9]), Buffer.from('\r\n\r\n')])]), (s) => s.statuses[0] === 200 || refused(s)],
    ['/fetch-params/..%2f', () => raw(line('GET /fetch-params/..%2f HTTP/1.1')), status(404)],
  ])
})

test('oversized request lines and headers: 431', async () => {
  const big = (n) => 'a'.repeat(n)
  await group('oversize', [
    ['100 KB target', () => raw([`GET /${big(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`]), status(431)],
    ['one 64 KB header', () => raw([`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${big(65_536)}\r\n\r\n`]), status(431)],
    ['3000 small headers', () => raw([`GET /health HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 3000 }, (_, i) => `X-${i}: v`).join('\r\n')}\r\n\r\n`]), status(431)],
    ['1 MB of header bytes without an end', () => raw([`GET /health HTTP/1.1\r\nHost: x\r\nX: ${big(1_000_000)}`]), status(431)],
    ['15 KB header (under the limit)', () => raw([`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${big(15_000)}\r\n\r\n`]), status(200)],
    ['Authorization of 60 KB', () => raw([`GET /status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${big(60_000)}\r\n\r\n`]), status(431)],
  ])
})

test('lying or negative Content-Length, bad chunking, both length and chunking', async () => {
  const post = (route, headers, body = '') => `POST ${route} HTTP/1.1\r\nHost: x\r\n${headers.map((h) => h + '\r\n').join('')}\r\n${body}`
  await group('framing', [
    ['Content-Length: -1', () => raw([post('/prove', ['Content-Length: -1'])]), status(400)],
    ['Content-Length: abc', () => raw([post('/prove', ['Content-Length: abc'])]), status(400)],
    ['Content-Length: 1e3', () => raw([post('/prove', ['Content-Length: 1e3'])]), status(400)],
    ['Content-Length: 0x10', () => raw([post('/k', ['Content-Length: 0x10'])]), status(400)],
    ['Content-Length: 2^70', () => raw([post('/prove', ['Content-Length: 1180591620717411303424'])]), (s) => [400, 413].includes(first(s))],
    ['two different Content-Lengths', () => raw([post('/prove', ['Content-Length: 5', 'Content-Length: 6'], 'abcdef')]), status(400)],
    ['Content-Length over --body-limit', () => raw([post('/prove', ['Content-Length: 999999999999'])]), status(413)],
    ['Content-Length 100, 10 sent, half-closed', () => raw([post('/prove', ['Content-Length: 100'], '0123456789')], { end: true }), (s) => s.closed || refused(s)],
    ['Content-Length 100, 10 sent, held open', () => raw([post('/check', ['Content-Length: 100'], '0123456789')], { waitMs: 300 }), (s) => s.timedOut && s.statuses.length === 0],
    ['Content-Length 5, 200 bytes sent (the rest is a bad request)', () => raw([post('/k', ['Content-Length: 5'], 'x'.repeat(200))], { responses: 2 }), (s) => s.statuses[0] === 400 && (s.statuses[1] === 400 || s.closed)],
    ['Content-Length on GET /health', () => raw(['GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789']), status(200)],
    ['Content-Length with Transfer-Encoding: chunked', () => raw([post('/prove', ['Content-Length: 4', 'Transfer-Encoding: chunked'], '4\r\nabcd\r\n0\r\n\r\n')]), status(400)],
    ['Transfer-Encoding: chunked twice', () => raw([post('/prove', ['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'], '0\r\n\r\n')]), refused],
    ['Transfer-Encoding: gzip', () => raw([post('/prove', ['Transfer-Encoding: gzip'], 'abc')], { end: true }), refused],
    ['Transfer-Encoding: chunked, gzip', () => raw([post('/prove', ['Transfer-Encoding: chunked, gzip'], '0\r\n\r\n')], { end: true }), refused],
    ['chunk size zz', () => raw([post('/prove', ['Transfer-Encoding: chunked'], 'zz\r\nabc\r\n0\r\n\r\n')]), (s) => s.closed || refused(s)],
    ['chunk size -1', () => raw([post('/k', ['Transfer-Encoding: chunked'], '-1\r\nabc\r\n0\r\n\r\n')]), (s) => s.closed || refused(s)],
    ['chunk size 2^64', () => raw([post('/prove', ['Transfer-Encoding: chunked'], 'ffffffffffffffffff\r\nabc\r\n')]), (s) => s.closed || refused(s)],
    ['chunk longer than its size', () => raw([post('/check', ['Transfer-Encoding: chunked'], '2\r\nabcdef\r\n0\r\n\r\n')]), (s) => s.closed || refused(s)],
    ['chunk shorter than its size, then closed', () => raw([post('/prove', ['Transfer-Encoding: chunked'], 'ff\r\nabc')], { end: true }), (s) => s.closed || refused(s)],
    ['no terminating chunk, half-closed', () => raw([post('/prove', ['Transfer-Encoding: chunked'], '3\r\nabc\r\n')], { end: true }), (s) => s.closed || refused(s)],
    ['chunk extension of 100 KB', () => raw([post('/prove', ['Transfer-Encoding: chunked'], `3;${'e'.repeat(100_000)}\r\nabc\r\n0\r\n\r\n`)]), (s) => s.closed || refused(s)],
    ['chunked body over --body-limit is counted as it streams', () => raw([post('/k', ['Transfer-Encoding: chunked'], '')].concat(Array.from({ length: 3 }, () => `${(60 * 1024 * 1024).toString(16)}\r\n`)), { waitMs: 2000 }), (s) => s.closed || s.timedOut || refused(s)],
    ['valid chunked garbage to /prove', () => raw([post('/prove', ['Transfer-Encoding: chunked'], '5\r\nhello\r\n0\r\n\r\n')]), status(400)],
    ['Expect: 100-continue with garbage', () => raw([post('/prove', ['Content-Length: 5', 'Expect: 100-continue'], 'hello')], { responses: 2 }), (s) => s.statuses.includes(400)],
    ['body sent one byte at a time', () => raw(['POST /k HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n', 'a', 'b', 'c', 'd'], { pauseMs: 20 }), status(400)],
  ])
})

test(`${HALF_OPEN} half-open connections at once: the server keeps answering, and closing them is harmless`, async () => {
  const started = Date.now()
  const sockets = []
  await attempt(`half-open: ${HALF_OPEN} connections`, async () => {
    const partials = [
      '', // connected, silent
      'GET /hea', // request line cut
      'POST /prove HTTP/1.1\r\nHost: x\r\n', // headers cut
      'POST /prove HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc', // body cut
      'POST /k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab', // chunk cut
    ]
    for (let i = 0; i < HALF_OPEN && Date.now() - started < 10_000; i++) sockets.push(await openHalf(server.port, partials[i % partials.length]))
    // With all of them open, every kind of request is still answered.
    const during = [await send('GET', '/health'), await send('GET', '/ready'), await send('POST', '/prove', L.createProvingPayload(arith.preimage, undefined))]
    for (const s of sockets) s.destroy()
    await new Promise((r) => setTimeout(r, 200))
    return { status: during.map((d) => d.status).join(','), text: `${sockets.length} sockets opened`, statuses: during.map((d) => d.status), opened: sockets.length }
  }, (seen) => seen.opened === HALF_OPEN && seen.statuses.join() === '200,200,200')
  for (const s of sockets) s.destroy()
  const ready = await (await fetch(server.url + '/ready')).json()
  assert.deepEqual([ready.jobsProcessing, ready.jobsPending], [0, 0], 'no job left counted by the closed connections')
  assert.deepEqual(crashes, [], 'the half-open connections ended the server')
  assert.deepEqual(unmet.filter((u) => u.name.startsWith('half-open')), [])
})

test('every route with empty, garbage, truncated, repeated and bit-flipped bodies (from the ledger\'s payload builders)', async () => {
  const payloads = {
    '/prove': {
      plain: L.createProvingPayload(arith.preimage, undefined),
      bound: L.createProvingPayload(arith.preimage, 7n),
      material: L.createProvingPayload(arith.preimage, undefined, { proverKey: arith.proverKey, verifierKey: arith.verifierKey, ir: arith.ir }),
    },
    '/check': {
      plain: L.createCheckPayload(arith.preimage),
      ir: L.createCheckPayload(arith.preimage, arith.ir),
    },
    '/k': { bzkir: arith.bzkir, json: irText(JSON.parse(Buffer.from(arith.ir).toString('utf8'))) },
  }
  const cases = []
  let seed = 100
  for (const [route, bodies] of Object.entries(payloads)) {
    cases.push([`${route} empty body`, () => send('POST', route, new Uint8Array(0)), (s) => s.status === 400])
    cases.push([`${route} 64 garbage bytes`, () => send('POST', route, garbage(64, seed++)), (s) => s.status === 400])
    cases.push([`${route} 256 KB garbage`, () => send('POST', route, garbage(256 * 1024, seed++)), (s) => s.status === 400])
    cases.push([`${route} JSON`, () => send('POST', route, '{"key":"value"}', { 'Content-Type': 'application/json' }), (s) => s.status === 400])
    cases.push([`${route} 100 zero bytes`, () => send('POST', route, new Uint8Array(100)), (s) => s.status === 400])
    cases.push([`${route} a bare tag prefix`, () => send('POST', route, 'midnight:'), (s) => s.status === 400])
    for (const [kind, body] of Object.entries(bodies)) {
      for (const cut of [1, 20, Math.floor(body.length / 2), body.length - 1]) {
        cases.push([`${route} ${kind} truncated to ${cut} of ${body.length} bytes`, () => send('POST', route, body.subarray(0, cut)), (s) => s.status === 400])
      }
      cases.push([`${route} ${kind} sent twice in one body`, () => send('POST', route, Buffer.concat([body, body])), (s) => s.status === 400])
      cases.push([`${route} ${kind} with one trailing byte`, () => send('POST', route, Buffer.concat([body, Buffer.from([0])])), (s) => s.status === 400])
      const flips = route === '/k' ? 4 : 6
      for (let i = 0; i < flips; i++) {
        const s0 = seed++
        cases.push([`${route} ${kind} with a bit flipped (seed ${s0})`, () => send('POST', route, bitFlipped(body, s0)), notServerError])
      }
      const s1 = seed++
      cases.push([`${route} ${kind} with 50 random bytes overwritten (seed ${s1})`, () => send('POST', route, bitFlipped(body, s1, 50)), notServerError])
    }
  }
  // Bodies for the route that wants the other one.
  cases.push(['/prove given a check payload', () => send('POST', '/prove', payloads['/check'].plain), (s) => s.status === 400])
  cases.push(['/check given a proving payload', () => send('POST', '/check', payloads['/prove'].plain), (s) => s.status === 400])
  cases.push(['/k given a proving payload', () => send('POST', '/k', payloads['/prove'].plain), (s) => s.status === 400])
  // Routes that exist for another method, and routes that do not exist.
  for (const [method, route] of [['GET', '/prove'], ['GET', '/check'], ['GET', '/k'], ['PUT', '/prove'], ['DELETE', '/k'], ['PATCH', '/check'], ['POST', '/health'], ['POST', '/nope'], ['GET', '/prove-tx'], ['POST', '/fetch-params/8']]) {
    const body = method === 'GET' ? undefined : garbage(32, seed++)
    cases.push([`${method} ${route}`, () => send(method, route, body), (s) => s.status === 404])
  }
  // GET /fetch-params/{k}: k <= 14 is embedded (success), k > 25 is out of range, non-u8 is 404.
  for (const [k, expect] of [['0', 200], ['8', 200], ['14', 200], ['26', 400], ['30', 400], ['255', 400], ['256', 404], ['-1', 404], ['abc', 404], ['1e3', 404], ['', 404], ['8/x', 404], ['99999999999999999999', 404]]) {
    cases.push([`GET /fetch-params/${k}`, () => send('GET', `/fetch-params/${k}`), (s) => s.status === expect && (expect !== 200 || s.text === 'success') && (expect !== 400 || /out of range/.test(s.text))])
  }
  cases.push(['GET /fetch-params/8 with a body (raw)', () => raw(['GET /fetch-params/8 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello']), status(200)])
  await group('routes', cases)
})

test('hostile key material and IR inside otherwise valid payloads', async () => {
  const preimage = arith.preimage
  const material = (over) => L.createProvingPayload(preimage, undefined, { proverKey: arith.proverKey, verifierKey: arith.verifierKey, ir: arith.ir, ...over })
  const ir = (fields) => irText({ version: { major: 2, minor: 0 }, num_inputs: 1, do_communications_commitment: false, instructions: [], ...fields })
  const clientError = (s) => s.status === 400
  const hostileIrs = [
    ['the missing-index IR (assert cond 9)', MISSING_INDEX_IR],
    ['an IR declaring num_inputs 1e9', BILLION_INPUTS_IR],
    ['num_inputs -1', ir({ num_inputs: -1 })],
    ['num_inputs 2^64', ir({ num_inputs: 18446744073709551616 })],
    ['num_inputs as text', ir({ num_inputs: '3' })],
    ['an unknown op', ir({ instructions: [{ op: 'launch_missiles' }] })],
    ['copy of a variable far out of range', ir({ instructions: [{ op: 'copy', var: 4294967295 }] })],
    // Structurally an IR (its k is small), but no witness can satisfy it: /k may answer its k.
    ['pi_skip with a count of 2^32-1', ir({ instructions: [{ op: 'pi_skip', guard: null, count: 4294967295 }] }), { kMayAnswer: true }],
    ['constrain_bits of 2^32-1 bits', ir({ instructions: [{ op: 'constrain_bits', var: 0, bits: 4294967295 }] })],
    ['version 3.0', ir({ version: { major: 3, minor: 0 } })],
    ['arrays nested 100000 deep', new TextEncoder().encode('['.repeat(100_000) + ']'.repeat(100_000))],
    ['a tagged IR header with garbage after it', Buffer.concat([Buffer.from('midnight:ir-source[v2]:'), Buffer.from(garbage(200, 7))])],
  ]
  const cases = []
  for (const [name, bytes, { kMayAnswer = false } = {}] of hostileIrs) {
    cases.push([`/k: ${name}`, () => send('POST', '/k', bytes), kMayAnswer ? notServerError : clientError])
    cases.push([`/prove key material with ${name}`, () => send('POST', '/prove', material({ ir: bytes })), clientError])
    cases.push([`/check with ${name}`, () => send('POST', '/check', L.createCheckPayload(preimage, bytes)), clientError])
  }
  const pk = arith.proverKey
  cases.push(
    ['/prove: prover key of 1000 garbage bytes', () => send('POST', '/prove', material({ proverKey: garbage(1000, 11) })), clientError],
    ['/prove: empty prover key', () => send('POST', '/prove', material({ proverKey: new Uint8Array(0) })), clientError],
    ['/prove: empty verifier key', () => send('POST', '/prove', material({ verifierKey: new Uint8Array(0) })), clientError],
    ['/prove: empty IR', () => send('POST', '/prove', material({ ir: new Uint8Array(0) })), clientError],
    ['/prove: prover key cut in half', () => send('POST', '/prove', material({ proverKey: pk.subarray(0, pk.length >> 1) })), clientError],
    ['/prove: prover key header then garbage', () => send('POST', '/prove', material({ proverKey: Buffer.concat([pk.subarray(0, 60), Buffer.from(garbage(2000, 12))]) })), clientError],
    ['/prove: verifier key of garbage', () => send('POST', '/prove', material({ verifierKey: garbage(500, 13) })), clientError],
    ['/prove: another circuit\'s keys with this IR', () => send('POST', '/prove', material({ proverKey: arith.other.proverKey, verifierKey: arith.other.verifierKey })), clientError],
    ['/prove: another circuit\'s IR with these keys', () => send('POST', '/prove', material({ ir: new Uint8Array(fs.readFileSync(testCircuit('bench_k6'))) })), clientError],
    ['/prove: the prover key in place of the verifier key', () => send('POST', '/prove', material({ verifierKey: pk })), clientError],
    ['/prove: a built-in location with garbage key material', () => send('POST', '/prove', L.createProvingPayload(arithPreimage('midnight/zswap/output'), undefined, { proverKey: garbage(100, 14), verifierKey: garbage(100, 15), ir: garbage(100, 16) })), clientError],
  )
  for (let i = 0; i < 4; i++) {
    const seed = 200 + i
    cases.push([`/prove: prover key with 20 bytes overwritten (seed ${seed})`, () => send('POST', '/prove', material({ proverKey: bitFlipped(pk, seed, 20) })), notServerError])
  }
  // The preimage names a circuit the server has, but the witness is for another.
  const wrongWitness = serializePreimage('arith', witness('bench_k6.witness.json'))
  cases.push(['/prove: bench_k6 witness for arith', () => send('POST', '/prove', L.createProvingPayload(wrongWitness, undefined)), clientError])
  await group('hostile IR and keys', cases)
})

test('after all of it, a real proof succeeds and verifies, and no job is left counted', async () => {
  const prover = await createProver({ circuitKeysPath: dir })
  try {
    const direct = await prover.prove('arith', arith.preimage)
    for (const payload of [L.createProvingPayload(arith.preimage, undefined), L.createProvingPayload(arith.preimage, undefined, { proverKey: arith.proverKey, verifierKey: arith.verifierKey, ir: arith.ir })]) {
      const res = await send('POST', '/prove', payload)
      assert.equal(res.status, 200, res.text)
      assert.equal(await prover.verify('arith', unversioned(res.bytes), direct.publicInputs), true)
    }
  } finally {
    await prover.close()
  }
  const ready = await (await fetch(server.url + '/ready')).json()
  assert.deepEqual([ready.status, ready.jobsProcessing, ready.jobsPending], ['ok', 0, 0])
  assert.equal(server.alive, true)
  assert.deepEqual(crashes.map((c) => c.name), [], 'cases that ended the server process')
})
