'use strict'
// The API half of the hostile-input suite (issue 9), as data. Each batch has a setup (run once per
// child process) and a deterministic list of cases; a case names the export, describes the input
// and says what must happen. hostile-api-child.js runs a batch in a child process and judges every
// case; __test__/hostile-api.test.js forks the children and fails on any case that ends the
// process, hangs, or rejects without a typed error.
//
// What must happen, per case (`expect`):
//   codes    the error codes that are right for this input (none: the input is valid and must
//            succeed); PROVER_PANIC is never right for bad input, and a code must come from errorCodes()
//   message  a RegExp the error message must match
//   success  true, or a function (value, ctx) that asserts on the result: the input is valid
//   sync     the export is synchronous by contract: it throws rather than rejects
//   pending  still pending after a short wait is right (a kmProvider that never answers)
//   timeout  ms after which the case counts as hung (default 15 s)
//   grace    ms to wait after the call settled, so that a stray rejection of native work it
//            started lands in this case
//   typeError  a plain TypeError is the documented answer (registerProverMetrics)
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')
const api = require('../..')

const ROOT = path.resolve(__dirname, '..', '..')
const CIRCUITS = path.join(ROOT, '__test__', 'circuits')
const FIXTURES = process.env.MIDNIGHT_FIXTURES || path.resolve(ROOT, '..', 'shared', 'fixtures')
const ARTTT = path.join(FIXTURES, 'contracts', 'arttt')
/** The BLS12-381 scalar field modulus: one past the largest field element. */
const P = 52435875175126190479447740508185965837690552500527637822603658699938581184513n
const PROOF_TAG = 'midnight:proof[v5]:'
/** HOSTILE_SLOW=1 adds the cases that take tens of seconds each while the IR is not bounded. */
const SLOW = process.env.HOSTILE_SLOW === '1'

// ---- inputs ----

/** The IR of issue 9 whose `assert` names variable 9, which does not exist (aborted Node through irK). */
const MISSING_INDEX_IR = '{"version":{"major":2,"minor":0},"num_inputs":0,"do_communications_commitment":false,"instructions":[{"op":"assert","cond":9}]}'
const irText = (numInputs, instructions, extra = {}) =>
  JSON.stringify({ version: { major: 2, minor: 0 }, num_inputs: numInputs, do_communications_commitment: false, instructions, ...extra })
/** An IR declaring a billion inputs (aborted keygen with a failed 40 GB allocation). */
const HUGE_INPUTS_IR = irText(1e9, [])

const bytes = (text) => new Uint8Array(Buffer.from(text))
const read = (file) => new Uint8Array(fs.readFileSync(file))
const witnessFile = (name) => JSON.parse(fs.readFileSync(path.join(CIRCUITS, name), 'utf8'))
const expectedJson = JSON.parse(fs.readFileSync(path.join(CIRCUITS, 'expected.json'), 'utf8'))

const { rng } = require('./rng')

/** Every position of `length` if there are at most `max`, else `max` of them: both ends, the rest sampled. */
function positions(length, max, seed) {
  if (length <= max) return Array.from({ length }, (_, i) => i)
  const next = rng(seed)
  const set = new Set([0, 1, 2, length - 2, length - 1])
  while (set.size < max) set.add(Math.floor(next() * length))
  return [...set].sort((a, b) => a - b)
}

/** `buf` with bit `bit` of byte `at` flipped (a copy). */
function flipped(buf, at, bit) {
  const out = Uint8Array.from(buf)
  out[at] ^= 1 << bit
  return out
}

/** Single-bit flips: at every position (`max` ≥ length) or a sample, the bit chosen per position. */
function flips(buf, max, seed) {
  const next = rng(seed ^ 0x5eed)
  return positions(buf.length, max, seed).map((at) => ({ at, bit: Math.floor(next() * 8), bytes: null })).map((f) => ({ ...f, bytes: flipped(buf, f.at, f.bit) }))
}

/** Truncations to every length below `buf.length` (or a sample of them). */
const truncations = (buf, max, seed) => positions(buf.length, max, seed).map((n) => ({ n, bytes: Uint8Array.from(buf.subarray(0, n)) }))

/** An object that passes `instanceof Uint8Array` but is no typed array, claiming a huge length. */
function fakeUint8Array(length = 2 ** 31) {
  return Object.setPrototypeOf({ length, byteLength: length, byteOffset: 0 }, Uint8Array.prototype)
}

/** `length` bytes of a repeating non-zero pattern. */
function patterned(length) {
  const out = new Uint8Array(length)
  const block = Uint8Array.from({ length: 4096 }, (_, i) => (i * 31 + 7) & 0xff)
  for (let at = 0; at < length; at += block.length) out.set(block.subarray(0, Math.min(block.length, length - at)), at)
  return out
}

/** `[[[...]]]` nested `depth` deep. */
function deep(depth) {
  let v = [1]
  for (let i = 0; i < depth; i++) v = [v]
  return v
}

/** A short, printable description of an input value for reports. */
function show(v, max = 60, depth = 0) {
  if (depth > 3) return '…'
  if (v === undefined) return 'undefined'
  if (v === null) return 'null'
  if (typeof v === 'bigint') return v.toString().length > 30 ? `${v.toString().length}-digit bigint` : `${v}n`
  if (typeof v === 'symbol') return v.toString()
  if (typeof v === 'function') return 'a function'
  if (typeof v === 'string') return v.length > max ? `${JSON.stringify(v.slice(0, 24))}… (${v.length} chars)` : JSON.stringify(v)
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v)
  if (typeof v !== 'object') return String(v)
  if (ArrayBuffer.isView(v)) {
    try {
      return `${v.constructor.name}(${v.length ?? v.byteLength})`
    } catch {
      return 'a typed-array look-alike'
    }
  }
  if (v instanceof ArrayBuffer) return `ArrayBuffer(${v.byteLength})`
  if (Array.isArray(v)) {
    if (v.length > 6) return `array of ${v.length} (${show(v[0], 20, depth + 1)}, …)`
    return `[${Array.from(v, (x, i) => (i in v ? show(x, 20, depth + 1) : '<hole>')).join(', ')}]`
  }
  if (Object.getPrototypeOf(v) === Uint8Array.prototype) return 'a fake Uint8Array'
  let text
  try {
    text = `{ ${Object.entries(v).map(([k, x]) => `${k}: ${show(x, 24, depth + 1)}`).join(', ')} }`
  } catch {
    text = 'an object'
  }
  return text.length > max * 2 ? text.slice(0, max * 2) + '…}' : text
}

const rejects = (...codes) => ({ codes })
const succeeds = (check = true) => ({ success: check })
const isBytes = (v) => assert.ok(v instanceof Uint8Array, `expected a Uint8Array, got ${show(v)}`)
const isProof = (v) => {
  isBytes(v)
  assert.equal(Buffer.from(v.subarray(0, PROOF_TAG.length)).toString('latin1'), PROOF_TAG)
}
const isFalse = (v) => assert.equal(v, false, `verify must resolve false, got ${show(v)}`)
const arithSkips = expectedJson.arith.piSkips.map((s) => (s === null ? undefined : BigInt(s)))

/** The arith test circuit's good witness (a fresh copy). */
const goodWitness = () => witnessFile('arith.witness.json')

/** A kmProvider handing out `material` for any key location. */
const km = (material, getParams) => ({ lookupKey: async () => material, ...(getParams && { getParams }) })

/** A temporary directory, removed when the child ends. */
function tempDir(ctx, prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  ctx.cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Sets environment variables for one call, then restores them. */
async function withEnv(vars, call) {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]))
  Object.assign(process.env, vars)
  try {
    return await call()
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}

/** A prover from `createProver` that the case closes again. */
const closes = (check) => async (p) => {
  try {
    assert.ok(p instanceof api.Prover, `expected a Prover, got ${show(p)}`)
    if (check) await check(p)
  } finally {
    await p.close()
  }
}

// ---- batches ----

const batches = {}

batches.options = {
  async setup(ctx) {
    ctx.emptyParams = tempDir(ctx, 'hostile-params-')
    ctx.garbageParams = tempDir(ctx, 'hostile-params-bad-')
    fs.writeFileSync(path.join(ctx.garbageParams, 'bls_midnight_2p15'), Buffer.alloc(4096, 0xab))
    // Params sources: one answers 200 with garbage; one never answers; one claims 1 TiB, sends
    // 100 bytes and hangs up; one claims 1 TiB, sends 100 bytes and stalls.
    ctx.server = http.createServer((req, res) => {
      if (req.url.includes('hang')) return
      if (req.url.includes('lie') || req.url.includes('stall')) {
        res.writeHead(200, { 'content-length': String(2 ** 40) })
        res.write(Buffer.alloc(100, 1), () => req.url.includes('lie') && res.destroy())
        return
      }
      res.end(Buffer.alloc(1000, 7))
    })
    await new Promise((resolve) => ctx.server.listen(0, '127.0.0.1', resolve))
    ctx.cleanup.push(() => {
      ctx.server.closeAllConnections?.()
      ctx.server.close()
    })
    ctx.source = `http://127.0.0.1:${ctx.server.address().port}`
    ctx.registry = new (require('prom-client').Registry)()
  },
  cases(ctx) {
    const out = []
    const add = (exp, input, run, expect) => out.push({ export: exp, input, run, expect })
    const { createProver } = api
    const invalid = (name) => ({ codes: ['INVALID_OPTIONS'], message: new RegExp(name.replace('.', '\\.')) })

    // createProver: options that are not an object.
    for (const v of ['nope', 42, true, null, [], [{ threads: 1 }], () => {}, Symbol('o'), 1n]) {
      add('createProver', `options = ${show(v)}`, () => createProver(v), invalid('options'))
    }
    const wrong = {
      threads: [0, -1, 1.5, NaN, Infinity, -Infinity, '2', 2n, null, {}, [], true, 1025, 2 ** 53, Number.MAX_VALUE, -0.5],
      maxConcurrent: [0, -1, 1.5, NaN, '1', null, 1025, 2n],
      maxQueue: [-1, 1.5, NaN, '1', null, 2 ** 31, 1n, Infinity],
      timeoutMs: [0, -1, 1.5, NaN, '100', null, 2 ** 31, Infinity, 1e300],
      memoryLimit: [0, -1, NaN, Infinity, -Infinity, '100', null, 10n, {}, []],
      circuitKeysPath: [42, [''], [null], {}, '', '/does/not/exist', __filename, 'a\0b', 'x'.repeat(1e6), ['../'.repeat(2000) + 'nope'], new String('/tmp'), [[ctx.dir]]],
      preloadCircuits: ['arith', [42], {}, [null], [['arith']], 42],
      paramsPath: [42, [42], '', [''], {}, null, [null]],
      paramsSource: [42, 'ftp://example.com', 'http://', 'javascript:alert(1)', '', null, 'http:// x', ['http://a']],
      allowUnpinnedParams: ['yes', 1, null, 'true', {}],
      keyCachePath: [42, '', {}, null, ['/tmp']],
    }
    for (const [name, values] of Object.entries(wrong)) {
      for (const v of values) add('createProver', `{ ${name}: ${show(v)} }`, () => createProver({ [name]: v }), invalid(`options.${name}`))
    }
    add('createProver', '{ treads: 2 } (unknown option)', () => createProver({ treads: 2 }), invalid('options.treads'))
    add('createProver', 'own "__proto__" key', () => createProver(JSON.parse('{"__proto__":{"threads":0}}')), invalid('options'))
    add('createProver', '{ constructor: 1 }', () => createProver({ constructor: 1 }), invalid('options.constructor'))
    add('createProver', 'inherited { threads: 0 }', () => createProver(Object.create({ threads: 0 })), { codes: ['INVALID_OPTIONS'] })
    // Preloads of ids that cannot be, or are not, there: the preload's own code.
    for (const [v, codes] of [
      [['../arith'], ['INVALID_CIRCUIT_ID', 'INVALID_OPTIONS']],
      [['x'.repeat(1e5)], ['INVALID_CIRCUIT_ID', 'INVALID_OPTIONS']],
      [['/etc/passwd'], ['INVALID_CIRCUIT_ID', 'INVALID_OPTIONS']],
      [['nope'], ['CIRCUIT_NOT_FOUND']],
      [Array(1000).fill('nope'), ['CIRCUIT_NOT_FOUND']],
    ]) {
      add('createProver', `{ circuitKeysPath, preloadCircuits: ${show(v)} }`, () => createProver({ circuitKeysPath: ctx.dir, preloadCircuits: v }), { codes })
    }
    // The environment's fallbacks, parsed and named.
    const env = [
      ['PROVER_THREADS', 'many'],
      ['PROVER_THREADS', '0'],
      ['PROVER_THREADS', '1e999'],
      ['PROVER_THREADS', '-1'],
      ['PROVER_THREADS', '0x10000'],
      ['PROVER_MAX_CONCURRENT', '1.5'],
      ['PROVER_MAX_QUEUE', 'x'],
      ['PROVER_MAX_QUEUE', '-1'],
      ['PROVER_MEMORY_LIMIT', '-5'],
      ['PROVER_MEMORY_LIMIT', 'abc'],
      ['PROVER_TIMEOUT_MS', '0'],
      ['PROVER_CIRCUIT_KEYS_PATH', '/does/not/exist'],
      ['MIDNIGHT_PARAM_SOURCE', 'ftp://x'],
    ]
    for (const [name, value] of env) {
      add('createProver', `env ${name}=${JSON.stringify(value)}`, () => withEnv({ [name]: value }, () => createProver()), { codes: ['INVALID_OPTIONS'], message: new RegExp(name) })
    }
    add('createProver', 'env PROVER_PRELOAD_CIRCUITS="../x"', () => withEnv({ PROVER_PRELOAD_CIRCUITS: '../x' }, () => createProver()), { codes: ['INVALID_CIRCUIT_ID', 'INVALID_OPTIONS'] })
    add('createProver', `env PROVER_CIRCUIT_KEYS_PATH of 10000 ':'`, () => withEnv({ PROVER_CIRCUIT_KEYS_PATH: ':'.repeat(1e4) }, () => createProver()), { codes: ['INVALID_OPTIONS'], success: closes() })
    // Valid edge values: a prover, closed again.
    for (const v of [
      {},
      undefined,
      { circuitKeysPath: [] },
      { circuitKeysPath: '/' },
      { maxQueue: 0 },
      { memoryLimit: 1e-9 },
      { memoryLimit: 1e308 },
      { timeoutMs: 2 ** 31 - 1, threads: 1, maxConcurrent: 1 },
      { paramsSource: 'http://[' },
      { paramsPath: 'a\0b' },
      { keyCachePath: '/proc/self/nonexistent/keys' },
      { allowUnpinnedParams: false, paramsPath: [] },
    ]) {
      add('createProver', `valid edge ${show(v)}`, () => createProver(v), { codes: ['INVALID_OPTIONS'], success: closes() })
    }
    add('createProver', 'env PROVER_ALLOW_UNPINNED_PARAMS="maybe"', () => withEnv({ PROVER_ALLOW_UNPINNED_PARAMS: 'maybe' }, () => createProver()), { codes: ['INVALID_OPTIONS'], success: closes() })

    // params(k): synchronous, k from 1 to 14.
    for (const k of [0, -1, 15, 26, 1.5, NaN, Infinity, '5', null, undefined, 2 ** 32 + 5, 5n, {}, [5]]) {
      add('params', `k = ${show(k)}`, () => api.params(k), { sync: true, codes: ['INVALID_ARGUMENT'] })
    }
    add('params', 'k = 1 (valid)', () => api.params(1), { sync: true, success: (v) => (isBytes(v), assert.equal(Buffer.from(v).readUInt32LE(0), 1)) })

    // fetchParams(k, options).
    for (const k of [-1, 26, 1.5, 'x', null, NaN, 2 ** 32, 15n, undefined]) {
      add('fetchParams', `k = ${show(k)}`, () => api.fetchParams(k, { paramsPath: ctx.emptyParams }), rejects('INVALID_ARGUMENT'))
    }
    const fetchCases = [
      ['k = 15, empty paramsPath, no source', () => api.fetchParams(15, { paramsPath: ctx.emptyParams }), rejects('PARAMS_NOT_FOUND')],
      ['k = 15, source refuses connections', () => api.fetchParams(15, { paramsPath: ctx.emptyParams, paramsSource: 'http://127.0.0.1:9' }), rejects('PARAMS_NOT_FOUND')],
      ['k = 15, source answers 1000 garbage bytes', () => api.fetchParams(15, { paramsPath: tempDir(ctx, 'hostile-fetch-'), paramsSource: ctx.source }), rejects('PARAMS_NOT_FOUND', 'PARAMS_MISMATCH')],
      ['k = 15, source "http://["', () => api.fetchParams(15, { paramsPath: tempDir(ctx, 'hostile-fetch-'), paramsSource: 'http://[' }), rejects('PARAMS_NOT_FOUND', 'INVALID_OPTIONS')],
      ['k = 15, source claims 1 TiB, sends 100 bytes and hangs up', () => api.fetchParams(15, { paramsPath: tempDir(ctx, 'hostile-fetch-'), paramsSource: ctx.source + '/lie' }), rejects('PARAMS_NOT_FOUND', 'PARAMS_MISMATCH')],
      // A stalled download has no limit of its own (a real 2p25 download takes long): the signal ends the wait.
      ['k = 15, source claims 1 TiB, sends 100 bytes and stalls; signal aborts after 300 ms', () => api.fetchParams(15, { paramsPath: tempDir(ctx, 'hostile-fetch-'), paramsSource: ctx.source + '/stall', signal: AbortSignal.timeout(300) }), rejects('ABORT_ERR', 'PARAMS_NOT_FOUND')],
      // After that abort, the next fetch of k = 15 (another directory, a source that refuses at once) must not wait for the stalled one.
      ['k = 15, source refuses connections, after the stalled download was aborted', () => api.fetchParams(15, { paramsPath: tempDir(ctx, 'hostile-fetch-'), paramsSource: 'http://127.0.0.1:9' }), { ...rejects('PARAMS_NOT_FOUND'), timeout: 3000 }],
      ['k = 16, source never answers, signal aborts after 300 ms', () => api.fetchParams(16, { paramsPath: tempDir(ctx, 'hostile-fetch-'), paramsSource: ctx.source + '/hang', signal: AbortSignal.timeout(300) }), rejects('ABORT_ERR', 'PARAMS_NOT_FOUND')],
      // Two downloads given up by their callers must not take the process's other work with them.
      ['after two stalled downloads were aborted: prover.check, keygen and a disk-only fetchParams still run', async () => {
        const p = await ctx.prover()
        const keys = await api.keygen(fs.readFileSync(path.join(CIRCUITS, 'arith.zkir'), 'utf8'))
        const skips = await p.check('arith', goodWitness())
        await assert.rejects(api.fetchParams(17, { paramsPath: ctx.emptyParams }), { code: 'PARAMS_NOT_FOUND' })
        return { keys, skips }
      }, { timeout: 3000, success: ({ keys, skips }) => (assert.equal(keys.k, 5), assert.deepEqual(skips, arithSkips)) }],
      ['k = 15, garbage bls_midnight_2p15 on disk', () => api.fetchParams(15, { paramsPath: ctx.garbageParams }), rejects('PARAMS_MISMATCH')],
      ['k = 15, paramsPath is a file', () => api.fetchParams(15, { paramsPath: __filename, paramsSource: ctx.source }), rejects('PARAMS_NOT_FOUND', 'PARAMS_MISMATCH', 'KEY_CACHE_UNWRITABLE', 'INVALID_OPTIONS')],
      ['k = 15, paramsPath of 100000 chars', () => api.fetchParams(15, { paramsPath: '/tmp/' + 'x'.repeat(1e5) }), rejects('PARAMS_NOT_FOUND', 'INVALID_OPTIONS')],
      // null options mean none: no paramsPath, so k=15 is not found.
      ['k = 15, options = null', () => api.fetchParams(15, null), rejects('PARAMS_NOT_FOUND')],
      ['k = 15, { paramsPath: 42 }', () => api.fetchParams(15, { paramsPath: 42 }), rejects('INVALID_OPTIONS')],
      ['k = 15, { paramsSource: "ftp://x" }', () => api.fetchParams(15, { paramsPath: ctx.emptyParams, paramsSource: 'ftp://x' }), rejects('INVALID_OPTIONS')],
      // The native work these start must not reject unhandled after the call settled (that ends a Node process).
      ['k = 15, { signal: "x" }', () => api.fetchParams(15, { paramsPath: ctx.emptyParams, signal: 'x' }), { ...rejects('INVALID_ARGUMENT'), grace: 300 }],
      ['k = 15, an aborted signal', () => api.fetchParams(15, { paramsPath: ctx.emptyParams, signal: AbortSignal.abort() }), { ...rejects('ABORT_ERR'), grace: 300 }],
      ['k = 0, empty paramsPath', () => api.fetchParams(0, { paramsPath: tempDir(ctx, 'hostile-fetch-') }), { codes: ['INVALID_ARGUMENT', 'PARAMS_NOT_FOUND'], success: (v) => assert.equal(typeof v, 'string') }],
      ['k = 10, empty paramsPath', () => api.fetchParams(10, { paramsPath: tempDir(ctx, 'hostile-fetch-') }), { codes: ['PARAMS_NOT_FOUND'], success: (v) => assert.equal(typeof v, 'string') }],
    ]
    for (const [input, run, expect] of fetchCases) add('fetchParams', input, run, expect)

    // serializePreimage(keyLocation, witness): synchronous.
    for (const loc of [42, null, undefined, {}, Symbol('arith'), ['arith'], new String('arith')]) {
      add('serializePreimage', `keyLocation = ${show(loc)}`, () => api.serializePreimage(loc, goodWitness()), { sync: true, codes: ['INVALID_ARGUMENT'] })
    }
    const badWitnesses = [null, 42, 'x', [], {}, { inputs: 'x' }, { inputs: [null] }, { inputs: [1.5] }, { inputs: [10n ** 100n] }, { inputs: [P] }, { inputs: [String(P)] }, { inputs: [1], extra: 1 }, { inputs: [1, , 3] }, { inputs: new Array(3) }, { inputs: deep(1e4) }, { inputs: ['1e3'] }, { inputs: ['0x-1'] }, { inputs: [] , bindingInput: {} }, { inputs: [], communicationsCommitment: [1] }]
    for (const w of badWitnesses) {
      add('serializePreimage', `witness = ${show(w)}`, () => api.serializePreimage('arith', w), { sync: true, codes: ['INVALID_WITNESS'] })
    }
    add('serializePreimage', 'witness = Uint8Array(8)', () => api.serializePreimage('arith', new Uint8Array(8)), { sync: true, codes: ['INVALID_ARGUMENT'] })
    for (const [input, loc, w] of [
      ['200000 inputs (no circuit to count them)', 'arith', { inputs: Array(2e5).fill(1) }],
      ['keyLocation of 1e6 chars', 'x'.repeat(1e6), goodWitness()],
      ['keyLocation "../../etc/passwd"', '../../etc/passwd', goodWitness()],
      ['keyLocation ""', '', goodWitness()],
      ['negative inputs (field negation)', 'arith', { inputs: [-1, -1n, '-5'] }],
    ]) {
      add('serializePreimage', input, () => api.serializePreimage(loc, w), { sync: true, codes: ['INVALID_ARGUMENT', 'INVALID_WITNESS'], success: isBytes })
    }
    add('serializePreimage', 'the good arith witness', () => api.serializePreimage('arith', goodWitness()), { sync: true, success: isBytes })

    // registerProverMetrics: documented to throw TypeError for a missing prover or registry.
    const reg = ctx.registry
    for (const [input, prover, registry] of [
      ['(null, registry)', null, reg],
      ['(undefined, undefined)', undefined, undefined],
      ['({}, registry)', {}, reg],
      ['(42, registry)', 42, reg],
      ['(prover, null)', 'prover', null],
      ['(prover, {})', 'prover', {}],
      ['(prover, { registerMetric: 42 })', 'prover', { registerMetric: 42 }],
    ]) {
      add('registerProverMetrics', input, async () => {
        const p = prover === 'prover' ? await ctx.prover() : prover
        return api.registerProverMetrics(p, registry)
      }, { typeError: true, codes: ['INVALID_ARGUMENT'] })
    }
    add('registerProverMetrics', '(prover, registry) twice, then unregister and scrape', async () => {
      const p = await ctx.prover()
      const unregister = api.registerProverMetrics(p, reg)
      try {
        assert.throws(() => api.registerProverMetrics(p, reg), /already been registered/)
      } finally {
        unregister()
      }
      const again = api.registerProverMetrics(p, reg)
      const text = await reg.metrics()
      again()
      return text
    }, succeeds((text) => assert.match(text, /^prover_queue_depth 0$/m)))
    add('errorCodes', 'junk arguments', () => api.errorCodes(1, null, {}), { sync: true, success: (v) => (assert.ok(Array.isArray(v)), assert.ok(v.includes('INVALID_OPTIONS'))) })
    return out
  },
}

/** Ids of every wrong type, path traversal and oversize: INVALID_CIRCUIT_ID. */
const BAD_TYPE_IDS = [42, null, undefined, {}, [], ['arith'], true, 1n, Symbol('arith'), new String('arith'), () => 'arith', NaN]
const TRAVERSAL_IDS = ['../arith', '../../../../etc/passwd', '/etc/passwd', 'a/b', 'keys/arith', '', '.', '..', '.arith', 'arith\0', 'arith\n', 'ar ith', '%2e%2e%2farith', 'ａrith', 'arith/', '\\arith', 'C:\\arith', 'midnight/zswap/../../arith', 'midnight/zswap/unknown', 'midnight/zswap/output/', 'x'.repeat(256), 'x'.repeat(1e6)]
const ABSENT_IDS = ['nope', 'x'.repeat(255), 'arith.prover', '$x', 'ARITH', 'arith.', 'a..b']
/** Strings that start like midnight-js 5's contract locations and break the proof server's grammar. */
const HEX64 = 'ab'.repeat(32)
const BAD_CONTRACT_LOCATIONS = [
  'contract:', `contract:${HEX64}`, `contract:${HEX64}/arith`, `contract:${HEX64}/arith?vk=`, `contract:${HEX64}/arith?vk=${HEX64.toUpperCase()}`,
  `contract:${HEX64}/arith?vk=${HEX64}\n`, `contract:${HEX64}/arith?vk=${HEX64}&vk=${HEX64}`, `contract:${HEX64}/../arith?vk=${HEX64}`,
  `contract:${HEX64}/ar%69th?vk=${HEX64}`, `contract:${HEX64}/arith\0?vk=${HEX64}`, `contract:${HEX64.slice(2)}é/arith?vk=${HEX64}`,
  `contract:${'é'.repeat(1e5)}`,
]
/** Follows the grammar, but its circuit name is longer than any file name: no circuit, not an error to lookupKey. */
const HUGE_CONTRACT_CIRCUIT = `contract:${HEX64}/${'x'.repeat(1e6)}?vk=${HEX64}`

batches.calls = {
  async setup(ctx) {
    ctx.p = await ctx.prover()
    ctx.preimage = api.serializePreimage('arith', goodWitness())
    ctx.proof = await ctx.p.prove('arith', goodWitness())
  },
  cases(ctx) {
    const out = []
    const add = (exp, input, run, expect) => out.push({ export: exp, input, run, expect })
    const w = goodWitness
    const okProof = async (r) => {
      isProof(r.proof)
      assert.equal(await ctx.p.verify('arith', r.proof, r.publicInputs), true, 'the proof verifies')
    }
    // ids
    for (const id of BAD_TYPE_IDS) {
      add('prover.prove', `id = ${show(id)}`, () => ctx.p.prove(id, w()), rejects('INVALID_CIRCUIT_ID'))
      add('prover.check', `id = ${show(id)}`, () => ctx.p.check(id, w()), rejects('INVALID_CIRCUIT_ID'))
      add('prover.verify', `id = ${show(id)}`, () => ctx.p.verify(id, ctx.proof.proof, ctx.proof.publicInputs), rejects('INVALID_CIRCUIT_ID'))
      add('prover.preload', `ids = [${show(id)}]`, () => ctx.p.preload([id]), rejects('INVALID_ARGUMENT', 'INVALID_CIRCUIT_ID'))
      add('asProvingProvider().prove', `keyLocation = ${show(id)}`, () => ctx.p.asProvingProvider().prove(ctx.preimage, id), rejects('INVALID_CIRCUIT_ID'))
      add('asProvingProvider().check', `keyLocation = ${show(id)}`, () => ctx.p.asProvingProvider().check(ctx.preimage, id), rejects('INVALID_CIRCUIT_ID'))
    }
    for (const id of TRAVERSAL_IDS) {
      add('prover.prove', `id = ${show(id)}`, () => ctx.p.prove(id, w()), rejects('INVALID_CIRCUIT_ID'))
      add('prover.check', `id = ${show(id)}`, () => ctx.p.check(id, w()), rejects('INVALID_CIRCUIT_ID'))
      add('prover.verify', `id = ${show(id)}`, () => ctx.p.verify(id, ctx.proof.proof, ctx.proof.publicInputs), rejects('INVALID_CIRCUIT_ID'))
      add('prover.preload', `ids = [${show(id)}]`, () => ctx.p.preload([id]), rejects('INVALID_CIRCUIT_ID'))
      add('asProvingProvider().prove', `keyLocation = ${show(id)}`, () => ctx.p.asProvingProvider().prove(ctx.preimage, id), rejects('INVALID_CIRCUIT_ID'))
    }
    for (const id of ABSENT_IDS) {
      add('prover.prove', `id = ${show(id)}`, () => ctx.p.prove(id, w()), rejects('CIRCUIT_NOT_FOUND'))
      add('prover.verify', `id = ${show(id)}`, () => ctx.p.verify(id, ctx.proof.proof, ctx.proof.publicInputs), rejects('CIRCUIT_NOT_FOUND'))
      add('asProvingProvider().check', `keyLocation = ${show(id)}`, () => ctx.p.asProvingProvider().check(ctx.preimage, id), rejects('CIRCUIT_NOT_FOUND'))
    }
    // lookupKey: a string that names no circuit is not an error (ledger v9 expects undefined)
    for (const id of BAD_TYPE_IDS) add('asProvingProvider().lookupKey', `keyLocation = ${show(id)}`, () => ctx.p.asProvingProvider().lookupKey(id), rejects('INVALID_CIRCUIT_ID'))
    for (const id of [...TRAVERSAL_IDS, ...ABSENT_IDS, `contract:${HEX64}/nope?vk=${HEX64}`, HUGE_CONTRACT_CIRCUIT]) {
      add('prover.lookupKey', `keyLocation = ${show(id)}`, () => ctx.p.lookupKey(id), succeeds((v) => assert.equal(v, undefined)))
    }
    for (const at of BAD_CONTRACT_LOCATIONS) {
      add('prover.lookupKey', `keyLocation = ${show(at)}`, () => ctx.p.lookupKey(at), rejects('INVALID_CIRCUIT_ID'))
      add('asProvingProvider().prove', `keyLocation = ${show(at)}`, () => ctx.p.asProvingProvider().prove(ctx.preimage, at), rejects('INVALID_CIRCUIT_ID'))
    }
    add('prover.prove', `keyLocation = ${show(HUGE_CONTRACT_CIRCUIT)}`, () => ctx.p.prove(HUGE_CONTRACT_CIRCUIT, w()), rejects('INVALID_CIRCUIT_ID'))
    add('prover.prove', 'a contract location whose vk matches no key', () => ctx.p.prove(`contract:${HEX64}/arith?vk=${HEX64}`, w()), rejects('KEY_MISMATCH'))
    add('prover.lookupKey', 'arith (control)', () => ctx.p.lookupKey('arith'), succeeds((v) => assert.ok(v.proverKey.length > 1000 && v.ir.length > 10)))

    // witnesses (JSON form)
    const rest = { publicTranscriptInputs: ['35', '35', '0', '0'] }
    const badWitnesses = [
      null, undefined, 42, 'inputs', true, [], [5, 7, 1], {}, JSON.stringify(goodWitness()),
      { inputs: 'x' }, { inputs: null }, { inputs: {} }, { inputs: [null] }, { inputs: [undefined] }, { inputs: [{}] }, { inputs: [[1]] }, { inputs: [true] },
      { inputs: [1.5, 7, 1] }, { inputs: [NaN, 7, 1] }, { inputs: [Infinity, 7, 1] }, { inputs: [2 ** 53, 7, 1] }, { inputs: [-(2 ** 60), 7, 1] },
      { inputs: [10n ** 100n, 7, 1] }, { inputs: [-(10n ** 100n), 7, 1] }, { inputs: [P, 7, 1] }, { inputs: [String(P), 7, 1] }, { inputs: ['0x' + 'f'.repeat(64), 7, 1] },
      { inputs: ['', 7, 1] }, { inputs: ['0x', 7, 1] }, { inputs: ['-', 7, 1] }, { inputs: ['--1', 7, 1] }, { inputs: [' 5', 7, 1] }, { inputs: ['5 ', 7, 1] },
      { inputs: ['1e3', 7, 1] }, { inputs: ['0b101', 7, 1] }, { inputs: ['0x-1', 7, 1] }, { inputs: ['+5', 7, 1] }, { inputs: ['\u0000', 7, 1] }, { inputs: ['٣', 7, 1] },
      { inputs: ['0x' + '0'.repeat(1e5) + '5', 7, 1] }, { inputs: ['9'.repeat(1e6), 7, 1] }, { inputs: ['0x' + 'f'.repeat(1e6), 7, 1] },
      { inputs: Array(2e5).fill(1) }, { inputs: new Array(3) }, { inputs: [5, , 1] }, { inputs: deep(1e5) }, { inputs: [5, 7, deep(1e4)] },
      { inputs: [5, 7, 1], typo: 1 }, { inputs: [5, 7, 1], privateTranscript: 'x' }, { inputs: [5, 7, 1], privateTranscript: [null] }, { inputs: [5, 7, 1], privateTranscript: deep(1e4) },
      { inputs: [5, 7, 1], publicTranscriptInputs: Array(1e5).fill(0) }, { inputs: [5, 7, 1], publicTranscriptOutputs: Array(1e5).fill(0) }, { inputs: [5, 7, 1], privateTranscript: Array(1e5).fill(0) },
      { inputs: [5, 7, 1], bindingInput: {} }, { inputs: [5, 7, 1], bindingInput: null }, { inputs: [5, 7, 1], bindingInput: 10n ** 100n }, { inputs: [5, 7, 1], bindingInput: [1] },
      { inputs: [5, 7, 1], ...rest, communicationsCommitment: 'x' }, { inputs: [5, 7, 1], ...rest, communicationsCommitment: [1] }, { inputs: [5, 7, 1], ...rest, communicationsCommitment: [1, 2, 3] },
      { inputs: [5, 7, 1], ...rest, communicationsCommitment: [null, null] },
      { inputs: [-1, -1n, '-5'], ...rest }, Object.create({ inputs: [5, 7, 1] }),
      witnessFile('arith.bad-ninputs.witness.json'), witnessFile('arith.bad-nonbool.witness.json'), witnessFile('arith.bad.witness.json'),
    ]
    const W = ['INVALID_WITNESS', 'WITNESS_UNSATISFIED']
    for (const bad of badWitnesses) {
      add('prover.prove', `arith, witness = ${show(bad)}`, () => ctx.p.prove('arith', bad), rejects(...W))
      add('prover.check', `arith, witness = ${show(bad)}`, () => ctx.p.check('arith', bad), rejects(...W))
    }
    const raw = [
      new Uint8Array(0), new Uint8Array(1), new Uint8Array(16 << 20), Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24),
      bytes('midnight:proof-preimage:'), bytes('midnight:proof-preimage:' + '\xff'.repeat(64)), new Uint8ClampedArray(10), new Int8Array(10),
      new ArrayBuffer(10), new DataView(new ArrayBuffer(8)), new Float64Array(4), Buffer.alloc(100, 0xff), fakeUint8Array(), fakeUint8Array(16),
    ]
    for (const bad of raw) {
      // A look-alike that is no typed array is a wrong argument type.
      const codes = Object.getPrototypeOf(bad) === Uint8Array.prototype && !ArrayBuffer.isView(bad) ? [...W, 'INVALID_ARGUMENT'] : W
      add('prover.prove', `arith, witness = ${show(bad)}`, () => ctx.p.prove('arith', bad), rejects(...codes))
      add('prover.check', `arith, witness = ${show(bad)}`, () => ctx.p.check('arith', bad), rejects(...codes))
      add('asProvingProvider().prove', `preimage = ${show(bad)}`, () => ctx.p.asProvingProvider().prove(bad, 'arith'), rejects(...codes))
    }
    add('prover.check', 'a real preimage at byte offset 7 of a larger buffer', () => {
      const big = new Uint8Array(ctx.preimage.length + 20)
      big.set(ctx.preimage, 7)
      return ctx.p.check('arith', big.subarray(7, 7 + ctx.preimage.length))
    }, succeeds((v) => assert.deepEqual(v, arithSkips)))
    // arith makes no communications commitment: one handed in anyway may be ignored.
    add('prover.prove', 'arith, good witness with a communicationsCommitment it does not make', () => ctx.p.prove('arith', { ...w(), communicationsCommitment: [1, 2] }), { codes: W, success: okProof })
    add('prover.prove', 'the good witness (control)', () => ctx.p.prove('arith', w()), succeeds(okProof))
    add('prover.prove', 'negative inputs that satisfy nothing', () => ctx.p.prove('arith', { inputs: [-1, -1n, '-5'], ...rest }), rejects(...W))

    // prove / check / verify / preload options
    const optionCases = [
      // null options mean none, as undefined does.
      ['options = null', null, [], okProof],
      ['options = 42', 42, ['INVALID_ARGUMENT'], okProof],
      ['options = "x"', 'x', ['INVALID_ARGUMENT'], okProof],
      ['{ signal: "x" }', { signal: 'x' }, ['INVALID_ARGUMENT']],
      ['{ signal: {} }', { signal: {} }, ['INVALID_ARGUMENT']],
      ['{ signal: { aborted: false } }', { signal: { aborted: false } }, ['INVALID_ARGUMENT']],
      ['{ signal: { aborted: true } }', { signal: { aborted: true } }, ['INVALID_ARGUMENT', 'ABORT_ERR']],
      ['{ signal: AbortSignal.abort() }', { signal: AbortSignal.abort() }, ['ABORT_ERR']],
      ['{ signal: AbortSignal.timeout(1) }', () => ({ signal: AbortSignal.timeout(1) }), ['ABORT_ERR'], okProof],
      ['{ timeoutMs: 0 }', { timeoutMs: 0 }, ['INVALID_ARGUMENT']],
      ['{ timeoutMs: -1 }', { timeoutMs: -1 }, ['INVALID_ARGUMENT']],
      ['{ timeoutMs: 1.5 }', { timeoutMs: 1.5 }, ['INVALID_ARGUMENT']],
      ['{ timeoutMs: "5" }', { timeoutMs: '5' }, ['INVALID_ARGUMENT']],
      ['{ timeoutMs: NaN }', { timeoutMs: NaN }, ['INVALID_ARGUMENT']],
      ['{ timeoutMs: null }', { timeoutMs: null }, ['INVALID_ARGUMENT']],
      // Beyond setTimeout's 2^31-1 ms: an effectively unlimited proof, or a refused option, but never an instant timeout.
      ['{ timeoutMs: 2**32 }', { timeoutMs: 2 ** 32 }, ['INVALID_ARGUMENT'], okProof],
      ['{ timeoutMs: 1e300 }', { timeoutMs: 1e300 }, ['INVALID_ARGUMENT'], okProof],
      ['{ timeoutMs: 1 }', { timeoutMs: 1 }, ['PROOF_TIMEOUT'], okProof],
      ['{ bindingInput: {} }', { bindingInput: {} }, W],
      ['{ bindingInput: null }', { bindingInput: null }, W],
      ['{ bindingInput: 10n**100n }', { bindingInput: 10n ** 100n }, W],
      ['{ bindingInput: "0xzz" }', { bindingInput: '0xzz' }, W],
      ['{ bindingInput: -1n }', { bindingInput: -1n }, W, okProof],
    ]
    for (const [input, options, codes, success] of optionCases) {
      const opts = () => (typeof options === 'function' ? options() : options)
      add('prover.prove', `arith, good witness, ${input}`, () => ctx.p.prove('arith', w(), opts()), { codes, success })
    }
    add('prover.check', 'arith, good witness, options = null', () => ctx.p.check('arith', w(), null), succeeds((v) => assert.deepEqual(v, arithSkips)))
    add('prover.verify', 'arith, real proof, options = null', () => ctx.p.verify('arith', ctx.proof.proof, ctx.proof.publicInputs, null), succeeds((v) => assert.equal(v, true)))
    add('prover.preload', '["arith"], options = null', () => ctx.p.preload(['arith'], null), succeeds((v) => assert.equal(v, undefined)))
    for (const [input, options, codes] of [
      ['{ signal: "x" }', { signal: 'x' }, ['INVALID_ARGUMENT']],
      ['{ signal: AbortSignal.abort() }', { signal: AbortSignal.abort() }, ['ABORT_ERR']],
    ]) {
      add('prover.check', `arith, good witness, ${input}`, () => ctx.p.check('arith', w(), options), { codes })
      add('prover.verify', `arith, real proof, ${input}`, () => ctx.p.verify('arith', ctx.proof.proof, ctx.proof.publicInputs, options), { codes })
      add('prover.preload', `["arith"], ${input}`, () => ctx.p.preload(['arith'], options), { codes })
    }
    // verify arguments (the proof batch flips and truncates real proofs)
    for (const proof of [null, 'proof', [1, 2], new ArrayBuffer(8), {}, 42, fakeUint8Array()]) {
      add('prover.verify', `proof = ${show(proof)}`, () => ctx.p.verify('arith', proof, ctx.proof.publicInputs), rejects('INVALID_ARGUMENT'))
    }
    for (const pis of [null, 'x', {}, 42, new Set([1]), undefined]) {
      add('prover.verify', `publicInputs = ${show(pis)}`, () => ctx.p.verify('arith', ctx.proof.proof, pis), rejects('INVALID_ARGUMENT'))
    }
    for (const pis of [[null], [{}], [1.5], [10n ** 100n], ['zz'], [P], [1, , 3], new Array(5), [deep(100)]]) {
      add('prover.verify', `publicInputs = ${show(pis)}`, () => ctx.p.verify('arith', ctx.proof.proof, pis), rejects('INVALID_ARGUMENT', 'INVALID_WITNESS'))
    }
    // preload
    for (const ids of [null, undefined, 'arith', 42, {}, [42], [null], ['arith', 7]]) {
      add('prover.preload', `ids = ${show(ids)}`, () => ctx.p.preload(ids), rejects('INVALID_ARGUMENT'))
    }
    add('prover.preload', '10000 absent ids', () => ctx.p.preload(Array(1e4).fill('nope')), rejects('CIRCUIT_NOT_FOUND'))
    add('prover.preload', '10000 ids of 300 chars', () => ctx.p.preload(Array(1e4).fill('x'.repeat(300))), rejects('INVALID_CIRCUIT_ID'))
    add('prover.preload', '[] and ["arith"] (valid)', async () => {
      await ctx.p.preload([])
      return ctx.p.preload(['arith', 'arith'])
    }, succeeds())
    // asProvingProvider's overwriteBindingInput
    for (const [b, success] of [['x'], [{}], [10n ** 100n], [NaN], [1.5], [-1n, true], [P - 1n, true]]) {
      add('asProvingProvider().prove', `real preimage, overwriteBindingInput = ${show(b)}`, () => ctx.p.asProvingProvider().prove(ctx.preimage, 'arith', b), { codes: W, success: success && isProof })
    }
    add('asProvingProvider().prove', 'real preimage (control)', () => ctx.p.asProvingProvider().prove(ctx.preimage, 'arith'), succeeds(isProof))
    add('asProvingProvider().check', 'real preimage (control)', () => ctx.p.asProvingProvider().check(ctx.preimage, 'arith'), succeeds((v) => assert.deepEqual(v, arithSkips)))
    // status and metrics ignore junk and stay readable after everything above
    add('prover.getStatus', 'junk arguments', () => ctx.p.getStatus(null, 42, 'x'), succeeds((s) => (assert.ok(s.loadedCircuits.includes('arith')), assert.equal(typeof s.memory.nativeBytes, 'number'))))
    add('prover.metrics', 'junk arguments', () => ctx.p.metrics({}, 'x'), succeeds((t) => assert.match(t, /^prover_queue_depth \d+$/m)))
    // a storm: 60 hostile proves at once beside 3 good ones, some aborted on the way
    add('prover.prove', '60 concurrent hostile proves beside 3 good ones', async () => {
      const controller = new AbortController()
      const calls = []
      for (let i = 0; i < 60; i++) calls.push(ctx.p.prove(i % 3 ? 'arith' : '../x', i % 2 ? { inputs: [i] } : new Uint8Array(i), { signal: i % 5 ? undefined : controller.signal }))
      const good = [0, 1, 2].map(() => ctx.p.prove('arith', w()))
      controller.abort()
      const settled = await Promise.allSettled(calls)
      for (const s of settled) {
        assert.equal(s.status, 'rejected')
        assert.ok(['INVALID_WITNESS', 'INVALID_CIRCUIT_ID', 'ABORT_ERR'].includes(s.reason?.code), `${s.reason?.code}: ${s.reason?.message}`)
      }
      return Promise.all(good)
    }, succeeds((rs) => rs.forEach((r) => isProof(r.proof))))
    // maxQueue counts proofs that wait (issue 9): with 0, an idle prover still takes a proof at once.
    add('prover.prove', 'on an idle prover with { maxQueue: 0 }', async () => {
      const p = await api.createProver({ circuitKeysPath: ctx.dir, maxQueue: 0 })
      try {
        return await p.prove('arith', w())
      } finally {
        await p.close()
      }
    }, succeeds((r) => isProof(r.proof)))
    // close: twice, with junk, and everything after it
    add('prover.close', 'twice at once, with junk arguments; then every call', async () => {
      const p = await api.createProver({ circuitKeysPath: ctx.dir })
      const running = p.prove('arith', w())
      await Promise.all([p.close(42), p.close(null)])
      await p.close()
      await running
      const after = [
        p.prove('arith', w()), p.check('arith', w()), p.verify('arith', ctx.proof.proof, ctx.proof.publicInputs), p.preload(['arith']),
        p.asProvingProvider().prove(ctx.preimage, 'arith'), p.asProvingProvider().check(ctx.preimage, 'arith'),
        p.provingProvider(km(ctx.arithMaterial)).prove(ctx.preimage, 'arith-km'),
      ]
      for (const s of await Promise.allSettled(after)) assert.equal(s.reason?.code, 'PROVER_CLOSED', `${s.status}: ${s.reason?.code} ${s.reason?.message}`)
      const status = await p.getStatus()
      const metrics = await p.metrics()
      return { status, metrics }
    }, succeeds(({ status, metrics }) => (assert.deepEqual(status.loadedCircuits, []), assert.equal(typeof metrics, 'string'))))
    return out
  },
}

/** Serialized preimages, real ones: truncated at every length and bit-flipped at every position (or samples). */
batches.preimages = {
  async setup(ctx) {
    ctx.p = await ctx.prover()
    ctx.real = {
      arith: api.serializePreimage('arith', goodWitness()),
      transcript: api.serializePreimage('transcript', witnessFile('transcript.witness.json')),
      output: read(ctx.ledger.output),
      dust: read(ctx.ledger.dust),
      sign: read(ctx.ledger.sign),
    }
  },
  cases(ctx) {
    const out = []
    const add = (exp, input, run, expect) => out.push({ export: exp, input, run, expect })
    const W = ['INVALID_WITNESS', 'WITNESS_UNSATISFIED']
    const { arith, transcript } = ctx.real
    const checked = (id) => (v) => assert.ok(Array.isArray(v), `check resolves an array, got ${show(v)}`)
    // arith: short, so every length and every byte position, twice (a bit flip and 0xff).
    for (const { n, bytes: b } of truncations(arith, Infinity, 1)) {
      add('prover.check', `arith preimage (${arith.length} B) truncated to ${n} B`, () => ctx.p.check('arith', b), rejects('INVALID_WITNESS'))
    }
    for (const { at, bit, bytes: b } of flips(arith, Infinity, 2)) {
      add('prover.check', `arith preimage, bit ${bit} of byte ${at} flipped`, () => ctx.p.check('arith', b), { codes: W, success: checked('arith') })
    }
    for (let at = 0; at < arith.length; at++) {
      const b = Uint8Array.from(arith)
      if (b[at] === 0xff) continue
      b[at] = 0xff
      add('prover.check', `arith preimage, byte ${at} set to 0xff`, () => ctx.p.check('arith', b), { codes: W, success: checked('arith') })
    }
    // proving the flipped bytes: a sample, through prove and the ledger-facing ProvingProvider
    for (const { at, bit, bytes: b } of flips(arith, 12, 3)) {
      add('prover.prove', `arith preimage, bit ${bit} of byte ${at} flipped`, () => ctx.p.prove('arith', b), {
        codes: W,
        success: async (r) => assert.equal(await ctx.p.verify('arith', r.proof, r.publicInputs), true),
      })
    }
    for (const { at, bit, bytes: b } of flips(arith, 8, 4)) {
      add('asProvingProvider().prove', `arith preimage, bit ${bit} of byte ${at} flipped`, () => ctx.p.asProvingProvider().prove(b, 'arith'), { codes: W, success: isProof })
    }
    for (const { n, bytes: b } of truncations(transcript, 48, 5)) {
      add('prover.check', `transcript preimage (${transcript.length} B) truncated to ${n} B`, () => ctx.p.check('transcript', b), rejects('INVALID_WITNESS'))
    }
    for (const { at, bit, bytes: b } of flips(transcript, 96, 6)) {
      add('prover.check', `transcript preimage, bit ${bit} of byte ${at} flipped`, () => ctx.p.check('transcript', b), { codes: W, success: checked('transcript') })
    }
    // The ledger's own preimages (ledger-v8 transactions): decoded, then refused for their input count by arith.
    for (const [name, real, n, seed] of [['zswap output', ctx.real.output, 96, 7], ['dust spend', ctx.real.dust, 64, 8], ['zswap sign', ctx.real.sign, 48, 9]]) {
      add('prover.check', `ledger ${name} preimage (${real.length} B) against arith`, () => ctx.p.check('arith', real), rejects('INVALID_WITNESS'))
      for (const { n: len, bytes: b } of truncations(real, 32, seed)) {
        add('prover.check', `ledger ${name} preimage truncated to ${len} B`, () => ctx.p.check('arith', b), rejects('INVALID_WITNESS'))
      }
      for (const { at, bit, bytes: b } of flips(real, n, seed + 100)) {
        add('prover.check', `ledger ${name} preimage, bit ${bit} of byte ${at} flipped`, () => ctx.p.check('arith', b), rejects(...W))
      }
      for (const { at, bytes: b } of flips(real, 4, seed + 200)) {
        add('asProvingProvider().prove', `ledger ${name} preimage, byte ${at} flipped, as arith`, () => ctx.p.asProvingProvider().prove(b, 'arith'), rejects(...W))
      }
    }
    add('prover.check', 'arith preimage with 1 MiB of 0xff appended', () => {
      const b = new Uint8Array(arith.length + (1 << 20)).fill(0xff)
      b.set(arith)
      return ctx.p.check('arith', b)
    }, rejects('INVALID_WITNESS'))
    add('prover.check', 'arith preimage (control)', () => ctx.p.check('arith', arith), succeeds((v) => assert.deepEqual(v, arithSkips)))
    return out
  },
}

/** IR of every kind of wrong: to keygen, and as a kmProvider's key material. */
batches.ir = {
  async setup(ctx) {
    ctx.p = await ctx.prover()
    ctx.emptyParams = tempDir(ctx, 'hostile-params-')
    ctx.preimage = api.serializePreimage('arith', goodWitness())
    ctx.arithZkir = fs.readFileSync(path.join(CIRCUITS, 'arith.zkir'), 'utf8')
    ctx.decimalsBzkir = read(path.join(ARTTT, 'zkir', 'decimals.bzkir'))
    ctx.decimalsZkir = fs.readFileSync(path.join(ARTTT, 'zkir', 'decimals.zkir'), 'utf8')
  },
  cases(ctx) {
    const out = []
    const add = (exp, input, run, expect) => out.push({ export: exp, input, run, expect })
    const keygen = (ir, options) => api.keygen(ir, { paramsPath: ctx.emptyParams, ...options })
    const keysOk = (v) => (isBytes(v.proverKey), isBytes(v.verifierKey), assert.ok(Number.isInteger(v.k)))
    for (const ir of [null, undefined, 42, {}, [], [1, 2], new ArrayBuffer(4), new Int8Array(4), Symbol('ir'), 1n, true]) {
      add('keygen', `ir = ${show(ir)}`, () => api.keygen(ir), rejects('INVALID_ARGUMENT'))
    }
    const garbage = ['', ' ', 'garbage', '{}', '[]', 'null', '42', '"x"', '{"version":1}', '['.repeat(1e5), '{"a":'.repeat(1e4), 'x'.repeat(1e7), '\u0000'.repeat(100)]
    for (const ir of garbage) add('keygen', `ir = ${show(ir)}`, () => keygen(ir), rejects('INVALID_IR'))
    for (const ir of [new Uint8Array(0), new Uint8Array(1 << 20), Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24), bytes('midnight:ir-source[v2]:'), bytes('midnight:ir-source[v2]:' + '\xff'.repeat(100))]) {
      add('keygen', `ir = ${show(ir)}`, () => keygen(ir), rejects('INVALID_IR'))
    }
    add('keygen', 'ir = a fake Uint8Array', () => keygen(fakeUint8Array()), rejects('INVALID_IR', 'INVALID_ARGUMENT'))
    // Well-formed JSON that is not a sound circuit.
    const instr = (...list) => list
    const semantic = [
      ['assert on variable 9 of none (issue 9)', MISSING_INDEX_IR, /instruction|assert|\b9\b/i],
      ['num_inputs 1e9 (issue 9)', HUGE_INPUTS_IR, /num_inputs|inputs/i],
      ['num_inputs 2^31', irText(2 ** 31, [])],
      ['num_inputs 2^32', irText(2 ** 32, [])],
      ['num_inputs 1e300', irText(1e300, [])],
      ['num_inputs -1', irText(-1, [])],
      ['num_inputs 1.5', irText(1.5, [])],
      ['num_inputs "3"', irText('3', [])],
      ['num_inputs null', irText(null, [])],
      ['add of variable 5 of 1', irText(1, instr({ op: 'add', a: 0, b: 5 }))],
      ['declare_pub_input of variable 99', irText(1, instr({ op: 'declare_pub_input', var: 99 }))],
      ['copy of variable -1', irText(1, instr({ op: 'copy', var: -1 }))],
      ['copy of variable 2^32', irText(1, instr({ op: 'copy', var: 2 ** 32 }))],
      ['copy of variable 4294967295', irText(1, instr({ op: 'copy', var: 4294967295 }))],
      ['copy of variable 1.5', irText(1, instr({ op: 'copy', var: 1.5 }))],
      ['version 3.0', JSON.stringify({ version: { major: 3, minor: 0 }, num_inputs: 0, do_communications_commitment: false, instructions: [] })],
      ['unknown op', irText(1, instr({ op: 'frobnicate', a: 0 }))],
      ['add without operands', irText(1, instr({ op: 'add' }))],
      ['instructions = "x"', irText(1, 'x')],
      ['do_communications_commitment = "yes"', irText(1, [], { do_communications_commitment: 'yes' })],
      ['constrain_bits with 1e9 bits', irText(1, instr({ op: 'constrain_bits', var: 0, bits: 1e9 }))],
      ['constrain_bits with 4294967295 bits', irText(1, instr({ op: 'constrain_bits', var: 0, bits: 4294967295 }))],
      ['less_than with 1e6 bits', irText(2, instr({ op: 'less_than', a: 0, b: 1, bits: 1e6 }))],
      ['div_mod_power_of_two by 2^1e6', irText(1, instr({ op: 'div_mod_power_of_two', var: 0, bits: 1e6 }))],
      ['load_imm "zz"', irText(0, instr({ op: 'load_imm', imm: 'zz' }))],
      ['load_imm "-"', irText(0, instr({ op: 'load_imm', imm: '-' }))],
      ['load_imm of 100000 hex digits', irText(0, instr({ op: 'load_imm', imm: 'f'.repeat(1e5) }))],
      ['pi_skip of 1e9 with a null guard', irText(0, instr({ op: 'pi_skip', guard: null, count: 1e9 }))],
      ['pi_skip guarded by variable 7 of 0', irText(0, instr({ op: 'pi_skip', guard: 7, count: 1 }))],
      ['transient_hash of 1500 inputs (k = 15, no parameters)', irText(1, instr({ op: 'transient_hash', inputs: Array(1500).fill(0) }))],
      ...(SLOW ? [['transient_hash of 100000 inputs', irText(1, instr({ op: 'transient_hash', inputs: Array(1e5).fill(0) }))]] : []),
      ['persistent_hash with an alignment of 1e9 bytes', irText(1, instr({ op: 'persistent_hash', alignment: [{ tag: 'atom', value: { tag: 'bytes', length: 1e9 } }], inputs: [0] }))],
    ]
    for (const [input, ir, message] of semantic) {
      add('keygen', `zkir: ${input}`, () => keygen(ir), { codes: ['INVALID_IR', 'PARAMS_NOT_FOUND'], message, success: keysOk })
    }
    add('keygen', 'arith .zkir with { signal: "x" }', () => keygen(ctx.arithZkir, { signal: 'x' }), { ...rejects('INVALID_ARGUMENT'), grace: 300 })
    add('keygen', '"garbage" with { signal: "x" }', () => keygen('garbage', { signal: 'x' }), { ...rejects('INVALID_ARGUMENT', 'INVALID_IR'), grace: 300 })
    add('keygen', '"garbage" with an aborted signal', () => keygen('garbage', { signal: AbortSignal.abort() }), { ...rejects('ABORT_ERR', 'INVALID_IR'), grace: 300 })
    add('keygen', 'arith .zkir with options = null (none)', () => api.keygen(ctx.arithZkir, null), succeeds((v) => assert.equal(v.k, 5)))
    add('keygen', 'arith .zkir with { paramsPath: 42 }', () => api.keygen(ctx.arithZkir, { paramsPath: 42 }), rejects('INVALID_OPTIONS'))
    add('keygen', 'arith .zkir with an aborted signal', () => keygen(ctx.arithZkir, { signal: AbortSignal.abort() }), rejects('ABORT_ERR'))
    add('keygen', 'arith .zkir (control)', () => keygen(ctx.arithZkir), succeeds((v) => (keysOk(v), assert.equal(v.k, 5))))
    // Real IR, truncated and bit-flipped: every position of the small ones, samples of the JSON.
    const I = ['INVALID_IR', 'PARAMS_NOT_FOUND']
    // Every length; flips sampled (a flip that leaves a valid IR costs a keygen).
    for (const [name, ir] of [['arith .bzkir', ctx.arithBzkir], ['arttt decimals .bzkir', ctx.decimalsBzkir]]) {
      for (const { n, bytes: b } of truncations(ir, Infinity, 11)) add('keygen', `${name} (${ir.length} B) truncated to ${n} B`, () => keygen(b), rejects('INVALID_IR'))
      for (const { at, bit, bytes: b } of flips(ir, 40, 12)) add('keygen', `${name}, bit ${bit} of byte ${at} flipped`, () => keygen(b), { codes: I, success: keysOk })
    }
    for (const [name, text] of [['arith .zkir', ctx.arithZkir], ['arttt decimals .zkir', ctx.decimalsZkir]]) {
      const b = bytes(text)
      for (const { n, bytes: t } of truncations(b, 16, 13)) {
        const text = Buffer.from(t).toString('latin1')
        // Cutting trailing white space leaves the IR whole.
        const whole = text.trim() === ctx.arithZkir.trim() || text.trim() === ctx.decimalsZkir.trim()
        add('keygen', `${name} (${b.length} B) truncated to ${n} B`, () => keygen(text), { codes: ['INVALID_IR'], success: whole && keysOk })
      }
      for (const { at, bit, bytes: t } of flips(b, 24, 14)) add('keygen', `${name}, bit ${bit} of byte ${at} flipped`, () => keygen(t), { codes: I, success: keysOk })
    }
    // The same IR as a kmProvider's key material: the prover reads its k on the JS thread (irK).
    const K = ['INVALID_IR', 'KEY_CORRUPT']
    const material = (ir) => ({ ...ctx.arithMaterial, ir })
    const kmIrs = [
      ['assert on variable 9 of none (issue 9)', bytes(MISSING_INDEX_IR)],
      ['num_inputs 1e9 (issue 9)', bytes(HUGE_INPUTS_IR)],
      ['garbage bytes', bytes('garbage')],
      ['empty', new Uint8Array(0)],
      ['arith .bzkir truncated to half', ctx.arithBzkir.slice(0, ctx.arithBzkir.length >> 1)],
      ['constrain_bits with 1e9 bits', bytes(irText(1, [{ op: 'constrain_bits', var: 0, bits: 1e9 }]))],
      ...(SLOW ? [['transient_hash of 100000 inputs', bytes(irText(1, [{ op: 'transient_hash', inputs: Array(1e5).fill(0) }]))]] : []),
      ['arttt decimals .bzkir beside arith keys', ctx.decimalsBzkir],
    ]
    for (const [input, ir] of kmIrs) {
      add('prover.provingProvider(km).prove', `km ir: ${input}`, () => ctx.p.provingProvider(km(material(ir))).prove(ctx.preimage, 'arith-km'), rejects(...K, 'INVALID_WITNESS'))
      add('prover.provingProvider(km).check', `km ir: ${input}`, () => ctx.p.provingProvider(km(material(ir))).check(ctx.preimage, 'arith-km'), rejects(...K, 'INVALID_WITNESS'))
    }
    add('prover.provingProvider(km).prove', 'km ir: arith .zkir JSON bytes (valid)', () => ctx.p.provingProvider(km(material(bytes(ctx.arithZkir)))).prove(ctx.preimage, 'arith-km'), { codes: K, success: isProof })
    for (const { at, bit, bytes: b } of flips(ctx.arithBzkir, 16, 15)) {
      add('prover.provingProvider(km).prove', `km ir: arith .bzkir, bit ${bit} of byte ${at} flipped`, () => ctx.p.provingProvider(km(material(b))).prove(ctx.preimage, 'arith-km'), {
        codes: [...K, 'INVALID_WITNESS', 'WITNESS_UNSATISFIED', 'PROOF_FAILED', 'PARAMS_NOT_FOUND'],
        success: isProof,
      })
    }
    return out
  },
}

/** Keys and proofs: truncated, bit-flipped, swapped, of another circuit. */
batches.keys = {
  async setup(ctx) {
    ctx.p = await ctx.prover()
    ctx.preimage = api.serializePreimage('arith', goodWitness())
    ctx.proof = await ctx.p.prove('arith', goodWitness())
    ctx.transcriptProof = await ctx.p.prove('transcript', witnessFile('transcript.witness.json'))
    ctx.decimals = {
      proverKey: read(path.join(ARTTT, 'keys', 'decimals.prover')),
      verifierKey: read(path.join(ARTTT, 'keys', 'decimals.verifier')),
      ir: read(path.join(ARTTT, 'zkir', 'decimals.bzkir')),
    }
    // A Compact directory whose keys are damaged copies of arith's, one circuit id per damage.
    ctx.damaged = tempDir(ctx, 'hostile-keys-')
    fs.mkdirSync(path.join(ctx.damaged, 'keys'))
    fs.mkdirSync(path.join(ctx.damaged, 'zkir'))
    ctx.damage = (id, { proverKey, verifierKey }) => {
      fs.writeFileSync(path.join(ctx.damaged, 'keys', `${id}.prover`), proverKey)
      fs.writeFileSync(path.join(ctx.damaged, 'keys', `${id}.verifier`), verifierKey)
      fs.copyFileSync(path.join(CIRCUITS, 'arith.zkir'), path.join(ctx.damaged, 'zkir', `${id}.zkir`))
    }
    ctx.fromFiles = await api.createProver({ circuitKeysPath: ctx.damaged })
    ctx.cleanup.unshift(() => ctx.fromFiles.close())
  },
  cases(ctx) {
    const out = []
    const add = (exp, input, run, expect) => out.push({ export: exp, input, run, expect })
    const a = ctx.arithMaterial
    const t = ctx.transcriptMaterial
    const K = ['KEY_CORRUPT', 'PROOF_FAILED', 'INVALID_IR', 'INVALID_WITNESS', 'WITNESS_UNSATISFIED']
    const viaKm = (material, loc = 'arith-km') => ctx.p.provingProvider(km(material)).prove(ctx.preimage, loc)
    add('prover.provingProvider(km).prove', 'arith key material (control)', () => viaKm(a), succeeds(isProof))
    // prover key
    for (const { n, bytes: b } of truncations(a.proverKey, 10, 21)) {
      add('prover.provingProvider(km).prove', `arith .prover (${a.proverKey.length} B) truncated to ${n} B`, () => viaKm({ ...a, proverKey: b }), rejects(...K))
    }
    for (const { at, bit, bytes: b } of flips(a.proverKey, 32, 22)) {
      add('prover.provingProvider(km).prove', `arith .prover, bit ${bit} of byte ${at} flipped`, () => viaKm({ ...a, proverKey: b }), { codes: K, success: isProof })
    }
    // verifier key
    for (const { n, bytes: b } of truncations(a.verifierKey, 8, 23)) {
      add('prover.provingProvider(km).prove', `arith .verifier (${a.verifierKey.length} B) truncated to ${n} B`, () => viaKm({ ...a, verifierKey: b }), rejects(...K))
    }
    for (const { at, bit, bytes: b } of flips(a.verifierKey, 16, 24)) {
      add('prover.provingProvider(km).prove', `arith .verifier, bit ${bit} of byte ${at} flipped`, () => viaKm({ ...a, verifierKey: b }), { codes: K, success: isProof })
    }
    const mixes = [
      ['prover and verifier keys swapped', { ...a, proverKey: a.verifierKey, verifierKey: a.proverKey }],
      ['transcript keys with arith IR', { ...t, ir: a.ir }],
      ['arith keys with transcript IR', { ...a, ir: t.ir }],
      ['transcript prover key, arith verifier and IR', { ...a, proverKey: t.proverKey }],
      ['arith prover key, transcript verifier', { ...a, verifierKey: t.verifierKey }, 'check needs no verifier key'],
      ['arttt decimals keys with arith IR', { ...ctx.decimals, ir: a.ir }],
      ['arttt decimals key material whole, arith preimage', ctx.decimals],
      ['empty keys', { ...a, proverKey: new Uint8Array(0), verifierKey: new Uint8Array(0) }],
      ['the prover key tag followed by 0xff', { ...a, proverKey: bytes('midnight:prover-key[v7](ir-source[v2]):' + '\xff'.repeat(64)) }],
      ['the verifier key tag followed by 0xff', { ...a, verifierKey: bytes('midnight:verifier-key[v6]:' + '\xff'.repeat(64)) }],
      ['a 32 MiB patterned prover key', () => ({ ...a, proverKey: patterned(32 << 20) })],
      ['parts of 16 MiB of zeros', () => ({ proverKey: new Uint8Array(16 << 20), verifierKey: new Uint8Array(16 << 20), ir: new Uint8Array(16 << 20) })],
    ]
    for (const [input, made, checkMayPass] of mixes) {
      const material = () => (typeof made === 'function' ? made() : made)
      add('prover.provingProvider(km).prove', input, () => viaKm(material()), rejects(...K))
      add('prover.provingProvider(km).check', input, () => ctx.p.provingProvider(km(material())).check(ctx.preimage, 'arith-km'), { codes: K, success: checkMayPass && ((v) => assert.deepEqual(v, arithSkips)) })
    }
    // Damaged key files in a Compact directory.
    const fileCases = []
    truncations(a.proverKey, 4, 25).forEach(({ n, bytes: b }, i) => fileCases.push([`ptrunc${i}`, `.prover truncated to ${n} B`, { ...a, proverKey: b }]))
    flips(a.proverKey, 8, 26).forEach(({ at, bit, bytes: b }, i) => fileCases.push([`pflip${i}`, `.prover bit ${bit} of byte ${at} flipped`, { ...a, proverKey: b }]))
    truncations(a.verifierKey, 3, 27).forEach(({ n, bytes: b }, i) => fileCases.push([`vtrunc${i}`, `.verifier truncated to ${n} B`, { ...a, verifierKey: b }]))
    flips(a.verifierKey, 6, 28).forEach(({ at, bit, bytes: b }, i) => fileCases.push([`vflip${i}`, `.verifier bit ${bit} of byte ${at} flipped`, { ...a, verifierKey: b }]))
    fileCases.push(['swapped', '.prover and .verifier swapped', { proverKey: a.verifierKey, verifierKey: a.proverKey }])
    fileCases.push(['other', 'keys of the transcript circuit', t])
    for (const [id, input, material] of fileCases) {
      ctx.damage(id, material)
      add('prover.prove', `arith witness, ${input} (files)`, () => ctx.fromFiles.prove(id, goodWitness()), { codes: K, success: (r) => isProof(r.proof) })
      add('prover.verify', `arith's real proof, ${input} (files)`, () => ctx.fromFiles.verify(id, ctx.proof.proof, ctx.proof.publicInputs), { codes: ['KEY_CORRUPT'], success: (v) => assert.equal(typeof v, 'boolean') })
    }
    for (const id of ['ptrunc0', 'ptrunc2', 'vtrunc0', 'swapped']) {
      add('prover.preload', `[${JSON.stringify(id)}] with damaged key files`, () => ctx.fromFiles.preload([id]), rejects('KEY_CORRUPT'))
    }
    // Proofs: truncated, bit-flipped, grown, of another circuit; public inputs of wrong lengths.
    const { proof, publicInputs } = ctx.proof
    add('prover.verify', 'the real proof (control)', () => ctx.p.verify('arith', proof, publicInputs), succeeds((v) => assert.equal(v, true)))
    for (const { n, bytes: b } of truncations(proof, 48, 31)) add('prover.verify', `real proof (${proof.length} B) truncated to ${n} B`, () => ctx.p.verify('arith', b, publicInputs), succeeds(isFalse))
    for (const { at, bit, bytes: b } of flips(proof, 128, 32)) add('prover.verify', `real proof, bit ${bit} of byte ${at} flipped`, () => ctx.p.verify('arith', b, publicInputs), succeeds(isFalse))
    const tagged = (tail) => Uint8Array.from([...Buffer.from(PROOF_TAG), ...tail])
    for (const [input, b] of [
      ['the tag and a compact length of 2^62', tagged([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])],
      ['the tag and 4 GiB claimed in 4 bytes', tagged([0xfe, 0xff, 0xff, 0xff])],
      ['the tag alone', tagged([])],
      ['8 MiB of zeros', new Uint8Array(8 << 20)],
      ["the transcript circuit's proof", ctx.transcriptProof.proof],
    ]) {
      add('prover.verify', input, () => ctx.p.verify('arith', b, publicInputs), succeeds(isFalse))
    }
    add('prover.verify', 'real proof with 1 byte appended', () => ctx.p.verify('arith', Uint8Array.from([...proof, 0]), publicInputs), succeeds((v) => assert.equal(typeof v, 'boolean')))
    for (const [input, pis] of [
      ['[]', []],
      ['one fewer', publicInputs.slice(1)],
      ['one more', [...publicInputs, 0n]],
      ['10000 zeros', Array(1e4).fill(0)],
      ['the first changed', [publicInputs[0] + 1n, ...publicInputs.slice(1)]],
      ['p - 1 everywhere', publicInputs.map(() => P - 1n)],
      ['negated', publicInputs.map((v) => -v)],
      ["the transcript proof's", ctx.transcriptProof.publicInputs],
    ]) {
      add('prover.verify', `real proof, publicInputs ${input}`, () => ctx.p.verify('arith', proof, pis), succeeds(isFalse))
    }
    add('prover.verify', 'real proof, publicInputs as decimal and hex strings (valid)', () => ctx.p.verify('arith', proof, publicInputs.map((v, i) => (i % 2 ? '0x' + v.toString(16) : v.toString()))), succeeds((v) => assert.equal(v, true)))
    return out
  },
}

/** kmProviders that answer garbage, throw, reject or never answer; getParams likewise. */
batches.km = {
  async setup(ctx) {
    ctx.emptyParams = tempDir(ctx, 'hostile-params-')
    ctx.p = await api.createProver({ circuitKeysPath: ctx.dir, paramsPath: ctx.emptyParams })
    ctx.cleanup.unshift(() => ctx.p.close())
    ctx.preimage = api.serializePreimage('arith', goodWitness())
    // A k = 15 circuit (one transient_hash of 1500 inputs; its k takes about a second to find, where
    // arttt's approve takes four): getParams is asked, since no bls_midnight_2p15 is in paramsPath.
    ctx.approve = { proverKey: bytes('not a prover key'), verifierKey: read(path.join(ARTTT, 'keys', 'approve.verifier')), ir: bytes(irText(1, [{ op: 'transient_hash', inputs: Array(1500).fill(0) }])) }
  },
  cases(ctx) {
    const out = []
    const add = (exp, input, run, expect) => out.push({ export: exp, input, run, expect })
    const never = () => new Promise(() => {})
    for (const provider of [undefined, null, 42, 'x', {}, [], { lookupKey: 42 }, { lookupKey: null }, { getParams: () => {} }]) {
      add('provingProvider', `kmProvider = ${show(provider)}`, () => api.provingProvider(provider), { sync: true, codes: ['INVALID_ARGUMENT'] })
      add('prover.provingProvider', `kmProvider = ${show(provider)}`, () => ctx.p.provingProvider(provider), { sync: true, codes: ['INVALID_ARGUMENT'] })
    }
    const a = ctx.arithMaterial
    const answers = [
      ['undefined', () => undefined, ['CIRCUIT_NOT_FOUND']],
      ['null', () => null, ['CIRCUIT_NOT_FOUND']],
      ['42', () => 42, ['INVALID_ARGUMENT']],
      ['"key material"', () => 'key material', ['INVALID_ARGUMENT']],
      ['true', () => true, ['INVALID_ARGUMENT']],
      ['{}', () => ({}), ['INVALID_ARGUMENT']],
      ['[]', () => [], ['INVALID_ARGUMENT']],
      ['parts as plain arrays', () => ({ proverKey: [...a.proverKey.subarray(0, 64)], verifierKey: [1], ir: [2] }), ['INVALID_ARGUMENT']],
      ['parts as strings', () => ({ proverKey: 'x', verifierKey: 'y', ir: 'z' }), ['INVALID_ARGUMENT']],
      ['parts as ArrayBuffers', () => ({ proverKey: a.proverKey.buffer, verifierKey: a.verifierKey.buffer, ir: a.ir.buffer }), ['INVALID_ARGUMENT']],
      ['parts null', () => ({ proverKey: null, verifierKey: null, ir: null }), ['INVALID_ARGUMENT']],
      ['ir missing', () => ({ proverKey: a.proverKey, verifierKey: a.verifierKey }), ['INVALID_ARGUMENT']],
      ['parts as Uint8ClampedArrays', () => ({ proverKey: new Uint8ClampedArray(a.proverKey), verifierKey: new Uint8ClampedArray(a.verifierKey), ir: new Uint8ClampedArray(a.ir) }), ['INVALID_ARGUMENT']],
      ['fake Uint8Arrays claiming 2 GiB', () => ({ proverKey: fakeUint8Array(), verifierKey: fakeUint8Array(), ir: fakeUint8Array() }), ['INVALID_ARGUMENT', 'KEY_CORRUPT']],
      ['a fake Uint8Array prover key beside real parts', () => ({ ...a, proverKey: fakeUint8Array() }), ['INVALID_ARGUMENT', 'KEY_CORRUPT']],
      ['parts of 24 MiB of 0xff', () => ({ proverKey: new Uint8Array(24 << 20).fill(0xff), verifierKey: new Uint8Array(24 << 20).fill(0xff), ir: new Uint8Array(24 << 20).fill(0xff) }), ['KEY_CORRUPT', 'INVALID_IR']],
      ['material whose proverKey getter throws', () => ({ get proverKey() { throw new Error('getter exploded') }, verifierKey: a.verifierKey, ir: a.ir }), ['INVALID_ARGUMENT', 'CIRCUIT_NOT_FOUND']],
      ['a thenable that never settles', () => ({ then() {} }), ['CIRCUIT_NOT_FOUND'], { pending: true }],
    ]
    const viaProviders = (input, lookupKey, codes, extra = {}) => {
      const provider = { lookupKey, getParams: async () => { throw new Error('getParams must not be needed for arith') } }
      add('prover.provingProvider(km).prove', `lookupKey answers ${input}`, () => ctx.p.provingProvider(provider).prove(ctx.preimage, 'arith-km'), { codes, ...extra })
      add('prover.provingProvider(km).check', `lookupKey answers ${input}`, () => ctx.p.provingProvider(provider).check(ctx.preimage, 'arith-km'), { codes, ...extra })
      add('provingProvider(km).prove', `lookupKey answers ${input}`, () => api.provingProvider(provider).prove(ctx.preimage, 'arith-km'), { codes, ...extra })
    }
    for (const [input, answer, codes, extra] of answers) {
      viaProviders(input, async () => answer(), codes, extra)
      if (!extra) viaProviders(`${input} (synchronously)`, () => answer(), codes)
    }
    // The kmProvider fails: its failure must reach the caller as a typed error (the original as `cause`).
    const L = ['CIRCUIT_NOT_FOUND', 'INVALID_ARGUMENT', 'KEY_CORRUPT']
    viaProviders('by throwing Error("kmProvider exploded") synchronously', () => { throw new Error('kmProvider exploded') }, L)
    viaProviders('by throwing 42 synchronously', () => { throw 42 }, L)
    viaProviders('by throwing null synchronously', () => { throw null }, L)
    viaProviders('with a rejected promise (Error)', async () => { throw new Error('kmProvider rejected') }, L)
    viaProviders('with a rejected promise (undefined)', () => Promise.reject(undefined), L)
    viaProviders('never (a promise that never settles)', never, L, { pending: true })
    add('prover.provingProvider(km).prove', 'lookupKey never answers, on a prover with { timeoutMs: 200 }', async () => {
      const p = await api.createProver({ circuitKeysPath: ctx.dir, timeoutMs: 200 })
      ctx.cleanup.unshift(() => p.close())
      return p.provingProvider({ lookupKey: never }).prove(ctx.preimage, 'arith-km')
    }, { codes: ['PROOF_TIMEOUT'], pending: true })
    add('prover.provingProvider(km).prove', 'non-string key locations', async () => {
      const pp = ctx.p.provingProvider(km(a))
      const settled = await Promise.allSettled([42, null, {}, Symbol('x')].map((loc) => pp.prove(ctx.preimage, loc)))
      return settled.map((s) => s.reason)
    }, succeeds((errors) => errors.forEach((e) => assert.equal(e?.code, 'INVALID_CIRCUIT_ID'))))
    add('prover.provingProvider(km).prove', 'a key location of 1e6 chars, good material (valid)', () => ctx.p.provingProvider(km(a)).prove(ctx.preimage, 'x'.repeat(1e6)), { codes: ['INVALID_CIRCUIT_ID'], success: isProof })
    // Labels from clients are capped (issue 9): that location must not come back whole in every scrape.
    add('prover.metrics', 'after a proof whose key location has 1e6 chars', () => ctx.p.metrics(), succeeds((text) => {
      const longest = Math.max(...[...text.matchAll(/="([^"]*)"/g)].map((m) => m[1].length))
      assert.ok(longest <= 1024 && text.length < 1 << 20, `a label of ${longest} chars, ${text.length} chars of metrics`)
    }))
    add('prover.provingProvider(km).prove', 'good material (control)', () => ctx.p.provingProvider(km(a)).prove(ctx.preimage, 'arith-km'), succeeds(isProof))
    // getParams, asked for k = 15 (arttt approve) since paramsPath holds no bls_midnight_2p15.
    const P15 = ['INVALID_ARGUMENT', 'PARAMS_MISMATCH', 'PARAMS_NOT_FOUND']
    const params = [
      ['null', () => null],
      ['an ArrayBuffer', () => new ArrayBuffer(64)],
      ['100 garbage bytes', () => new Uint8Array(100).fill(0x5a)],
      ['the k = 14 file for k = 15', () => api.params(14)],
      ['64 MiB of zeros', () => new Uint8Array(64 << 20)],
      ['a fake Uint8Array claiming 2 GiB', () => fakeUint8Array()],
    ]
    for (const [input, answer] of params) {
      add('prover.provingProvider(km).prove', `k = 15, getParams answers ${input}`, () => ctx.p.provingProvider(km(ctx.approve, async () => answer())).prove(ctx.preimage, 'approve-km'), rejects(...P15))
    }
    const G = [...P15, 'CIRCUIT_NOT_FOUND']
    add('prover.provingProvider(km).prove', 'k = 15, getParams throws synchronously', () => ctx.p.provingProvider(km(ctx.approve, () => { throw new Error('getParams exploded') })).prove(ctx.preimage, 'approve-km'), rejects(...G))
    add('prover.provingProvider(km).prove', 'k = 15, getParams rejects with 42', () => ctx.p.provingProvider(km(ctx.approve, () => Promise.reject(42))).prove(ctx.preimage, 'approve-km'), rejects(...G))
    add('prover.provingProvider(km).prove', 'k = 15, getParams never answers', () => ctx.p.provingProvider(km(ctx.approve, never)).prove(ctx.preimage, 'approve-km'), { codes: G, pending: true })
    add('prover.provingProvider(km).prove', 'k = 15, no getParams', () => ctx.p.provingProvider(km(ctx.approve)).prove(ctx.preimage, 'approve-km'), rejects('PARAMS_NOT_FOUND'))
    add('prover.provingProvider(km).prove', 'good material after all of the above (control)', () => ctx.p.provingProvider(km(a)).prove(ctx.preimage, 'arith-km'), succeeds(isProof))
    return out
  },
}

/** In a fresh process after all batches: real proofs succeed and verify. */
batches.final = {
  async setup(ctx) {
    ctx.p = await ctx.prover()
  },
  cases(ctx) {
    const out = []
    const add = (exp, input, run, expect) => out.push({ export: exp, input, run, expect })
    for (const id of ['arith', 'transcript']) {
      add('prover.prove', `${id}: a real proof, then verify`, async () => {
        const r = await ctx.p.prove(id, witnessFile(`${id}.witness.json`))
        return { r, ok: await ctx.p.verify(id, r.proof, r.publicInputs) }
      }, succeeds(({ r, ok }) => (isProof(r.proof), assert.equal(ok, true), assert.equal(r.k, expectedJson[id].k))))
    }
    add('provingProvider(km).prove', 'arith key material, the serialized preimage; verify', async () => {
      const proof = await api.provingProvider(km(ctx.arithMaterial)).prove(api.serializePreimage('arith', goodWitness()), 'arith')
      const { publicInputs } = await ctx.p.prove('arith', goodWitness())
      return ctx.p.verify('arith', proof, publicInputs)
    }, succeeds((v) => assert.equal(v, true)))
    return out
  },
}

module.exports = { batches, show, MISSING_INDEX_IR, HUGE_INPUTS_IR }
