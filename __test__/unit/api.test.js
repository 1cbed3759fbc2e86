'use strict'
// The Prover class and the package functions (lib/api.js) over a fake binding: no addon needed.
const test = require('node:test')
const assert = require('node:assert/strict')
const { makeApi } = require('../../lib/api')
const { fakeBinding, nativeError, nativeStatus } = require('./fake-binding')

const WITNESS = { inputs: [1n, 2] }
const WITNESS_JSON = '{"inputs":["1","2"]}'
const nativeProof = () => ({ circuitId: 'arith', proof: new Uint8Array([9, 8, 7]), publicInputs: ['5'], k: 10, provingTimeMs: 12 })
const material = () => ({ proverKey: new Uint8Array([1]), verifierKey: new Uint8Array([2]), ir: new Uint8Array([3]) })

/** A fresh binding, its API, and a prover made by createProver (explicit options: no env needed). */
async function setup(options = { threads: 2, maxQueue: 4, timeoutMs: undefined }) {
  const binding = fakeBinding()
  const api = makeApi(binding)
  const prover = await api.createProver(options)
  return { binding, api, prover, native: binding.provers[0] }
}

const tick = () => new Promise((resolve) => setImmediate(resolve))

test('createProver hands the resolved options to NativeProver and returns a Prover', async () => {
  const { api, prover, native } = await setup({ threads: 2, maxQueue: 4, memoryLimit: 1 })
  assert.ok(prover instanceof api.Prover)
  assert.deepEqual(
    { threads: native.config.threads, maxQueue: native.config.maxQueue, memoryLimitBytes: native.config.memoryLimitBytes },
    { threads: 2, maxQueue: 4, memoryLimitBytes: 1024 * 1024 },
  )
})

test('createProver: invalid options reject INVALID_OPTIONS; a native constructor failure is converted', async () => {
  const binding = fakeBinding()
  const api = makeApi(binding)
  await assert.rejects(api.createProver({ threads: 0 }), { code: 'INVALID_OPTIONS' })
  binding.NativeProver = class {
    constructor() {
      throw nativeError('KEY_CACHE_UNWRITABLE')
    }
  }
  await assert.rejects(api.createProver({}), { name: 'ProverError', code: 'KEY_CACHE_UNWRITABLE' })
})

test('createProver with preloadCircuits preloads; a failed preload closes the prover and rejects', async () => {
  const { native } = await setup({ preloadCircuits: ['arith'] })
  assert.deepEqual(native.calls, [['preload', ['arith']]])
  const binding = fakeBinding()
  binding.NativeProver.prototype.preload = async () => {
    throw nativeError('CIRCUIT_NOT_FOUND')
  }
  await assert.rejects(makeApi(binding).createProver({ preloadCircuits: ['nope'] }), { code: 'CIRCUIT_NOT_FOUND' })
  assert.equal(binding.provers[0].released, true)
})

test('prove resolves with the binding\'s result as it is and emits queued', async () => {
  const { binding, prover, native } = await setup()
  const queued = []
  prover.on('queued', (e) => queued.push(e))
  const proving = prover.prove('arith', WITNESS)
  const [method, proofId, circuit, data, bindingText, token] = native.calls[0]
  assert.deepEqual([method, proofId, circuit, data, bindingText], ['prove', 1, 'arith', WITNESS_JSON, undefined])
  assert.equal(token, binding.tokens[0])
  assert.deepEqual(queued, [{ proofId: 1, circuitId: 'arith' }])
  const answer = nativeProof()
  native.pending[0].resolve(answer)
  assert.equal(await proving, answer)
  assert.equal(token.cancelled, 0)
})

test('prove passes bindingInput as field text, numbers proofs in order, and converts native failures', async () => {
  const { prover, native } = await setup()
  const first = prover.prove('arith', WITNESS, { bindingInput: 7n })
  const second = prover.prove('arith', new Uint8Array([1]))
  assert.deepEqual(native.calls.map((c) => [c[1], c[3], c[4]]), [[1, WITNESS_JSON, '7'], [2, new Uint8Array([1]), undefined]])
  native.pending[0].reject(nativeError('WITNESS_UNSATISFIED'))
  native.pending[1].reject(nativeError('BooleanExpected'))
  await assert.rejects(first, { name: 'ProverError', code: 'WITNESS_UNSATISFIED' })
  await assert.rejects(second, { name: 'ProverError', code: 'INVALID_ARGUMENT' })
})

test('native proof events are emitted by kind in the public shape', async () => {
  const { prover, native } = await setup()
  const seen = []
  for (const kind of ['started', 'finished', 'failed']) prover.on(kind, (e) => seen.push([kind, e]))
  native.emitEvent({ kind: 'started', proofId: 1, circuitId: 'arith', waitedMs: 3, durationMs: null, peakBytes: null, errorCode: null })
  native.emitEvent({ kind: 'finished', proofId: 1, circuitId: 'arith', waitedMs: 3, durationMs: 40, peakBytes: 100 })
  native.emitEvent({ kind: 'failed', proofId: 2, circuitId: 'arith', waitedMs: 0, durationMs: 1, errorCode: 'PROOF_FAILED', errorMessage: 'bad' })
  assert.deepEqual(seen.slice(0, 2), [
    ['started', { proofId: 1, circuitId: 'arith', waitedMs: 3 }],
    ['finished', { proofId: 1, circuitId: 'arith', waitedMs: 3, durationMs: 40, peakBytes: 100 }],
  ])
  const failed = seen[2][1]
  assert.deepEqual([failed.error.name, failed.error.code, failed.error.message, failed.durationMs], ['ProverError', 'PROOF_FAILED', 'bad', 1])
})

test('an abort during prove cancels the token once and rejects AbortError; an abort before never starts the work', async () => {
  const { binding, prover, native } = await setup()
  const ac = new AbortController()
  const proving = prover.prove('arith', WITNESS, { signal: ac.signal })
  ac.abort(new Error('user'))
  await assert.rejects(proving, (err) => err.name === 'AbortError' && err.code === 'ABORT_ERR' && err.cause.message === 'user')
  assert.equal(binding.tokens[0].cancelled, 1)
  native.pending[0].reject(nativeError('ABORT_ERR')) // the native side settles later: never unhandled

  const before = new AbortController()
  before.abort()
  for (const call of [
    () => prover.prove('arith', WITNESS, { signal: before.signal }),
    () => prover.check('arith', WITNESS, { signal: before.signal }),
    () => prover.verify('arith', new Uint8Array(1), [], { signal: before.signal }),
    () => prover.preload(['arith'], { signal: before.signal }),
  ]) {
    await assert.rejects(call(), { name: 'AbortError' })
  }
  assert.equal(native.calls.length, 1)
})

test('prove times out with PROOF_TIMEOUT after timeoutMs (per call, or the prover default) and cancels the token', async () => {
  const { binding, prover, native } = await setup({ timeoutMs: 15 })
  await assert.rejects(prover.prove('arith', WITNESS), { code: 'PROOF_TIMEOUT', message: 'no result within 15 ms' })
  await assert.rejects(prover.prove('arith', WITNESS, { timeoutMs: 5 }), { code: 'PROOF_TIMEOUT', message: 'no result within 5 ms' })
  assert.deepEqual(binding.tokens.map((t) => t.cancelled), [1, 1])
  for (const d of native.pending) d.resolve(nativeProof())
})

test('prove: equal calls (circuit, binding input, preimage bytes) share the proof in flight; it is withdrawn when all have stopped', async () => {
  const { binding, prover, native } = await setup()
  const bytes = () => new Uint8Array([1, 2, 3])
  const first = prover.prove('arith', bytes())
  const retry = prover.prove('arith', bytes())
  const otherBinding = prover.prove('arith', bytes(), { bindingInput: 5n })
  const otherCircuit = prover.prove('other', bytes())
  const json = [prover.prove('arith', WITNESS), prover.prove('arith', WITNESS)]
  assert.equal(native.pending.length, 5, 'one native proof for the two equal byte calls; JSON witnesses are not shared')
  native.pending.forEach((d) => d.resolve(nativeProof()))
  const [a, b] = await Promise.all([first, retry, otherBinding, otherCircuit, ...json])
  assert.deepEqual(a, b)
  assert.notEqual(a.proof, b.proof, 'each caller has its own bytes')

  const left = new AbortController()
  const stays = prover.prove('arith', bytes())
  const leaves = prover.prove('arith', bytes(), { signal: left.signal })
  left.abort()
  await assert.rejects(leaves, { name: 'AbortError' })
  const token = binding.tokens.at(-1)
  assert.equal(token.cancelled, 0, 'one caller is still waiting: the proof goes on')
  native.pending.at(-1).resolve(nativeProof())
  assert.deepEqual((await stays).proof, new Uint8Array([9, 8, 7]))

  const both = [new AbortController(), new AbortController()]
  const calls = both.map((c) => prover.prove('arith', bytes(), { signal: c.signal }))
  both.forEach((c) => c.abort())
  await Promise.all(calls.map((call) => assert.rejects(call, { name: 'AbortError' })))
  assert.equal(binding.tokens.at(-1).cancelled, 1, 'everyone left: the proof is withdrawn')
  const fresh = prover.prove('arith', bytes())
  assert.equal(native.pending.length, 8, 'a call after that starts a new proof')
  native.pending.slice(-2).forEach((d) => d.resolve(nativeProof()))
  await fresh
})

test('validation failures are rejections, never throws', async () => {
  const { prover, native } = await setup()
  const cases = [
    [() => prover.prove(5, WITNESS), 'INVALID_CIRCUIT_ID'],
    [() => prover.prove(undefined, WITNESS), 'INVALID_CIRCUIT_ID'],
    [() => prover.check({}, WITNESS), 'INVALID_CIRCUIT_ID'],
    [() => prover.verify(null, new Uint8Array(1), []), 'INVALID_CIRCUIT_ID'],
    [() => prover.prove('arith', null), 'INVALID_WITNESS'],
    [() => prover.prove('arith', WITNESS, { bindingInput: 1.5 }), 'INVALID_WITNESS'],
    [() => prover.prove('arith', WITNESS, 'options'), 'INVALID_ARGUMENT'],
    [() => prover.prove('arith', WITNESS, { timeoutMs: 0 }), 'INVALID_ARGUMENT'],
    [() => prover.prove('arith', WITNESS, { signal: {} }), 'INVALID_ARGUMENT'],
    [() => prover.check('arith', WITNESS, 1), 'INVALID_ARGUMENT'],
    [() => prover.verify('arith', [1], []), 'INVALID_ARGUMENT'],
    [() => prover.verify('arith', new Uint8Array(1), 'x'), 'INVALID_ARGUMENT'],
    [() => prover.verify('arith', new Uint8Array(1), [null]), 'INVALID_WITNESS'],
    [() => prover.preload('arith'), 'INVALID_ARGUMENT'],
    [() => prover.preload([1]), 'INVALID_ARGUMENT'],
  ]
  for (const [call, code] of cases) {
    let result
    assert.doesNotThrow(() => (result = call()))
    await assert.rejects(result, { name: 'ProverError', code }, String(call))
  }
  assert.deepEqual(native.calls, [])
})

test('check, verify and preload reach the native prover with encoded arguments', async () => {
  const { prover, native } = await setup()
  assert.deepEqual(await prover.check('arith', WITNESS), [1n, undefined, 3n])
  assert.equal(await prover.verify('arith', new Uint8Array([1]), [1n, '0x2']), true)
  await prover.preload(['arith'])
  assert.deepEqual(native.calls, [
    ['check', 'arith', WITNESS_JSON],
    ['verify', 'arith', new Uint8Array([1]), ['1', '0x2']],
    ['preload', ['arith']],
  ])
})

test('close() stops new work at once, waits for pending work, then releases; later calls reject PROVER_CLOSED', async () => {
  const { prover, native } = await setup()
  const proving = prover.prove('arith', WITNESS)
  const closing = prover.close()
  assert.equal(prover.close(), closing) // one close, however often asked
  assert.equal(native.closed, true)
  await tick()
  assert.equal(native.released, false) // the proof is still running
  for (const call of [() => prover.prove('arith', WITNESS), () => prover.check('arith', WITNESS), () => prover.verify('arith', new Uint8Array(1), []), () => prover.preload([])]) {
    await assert.rejects(call(), { name: 'ProverError', code: 'PROVER_CLOSED' })
  }
  native.pending[0].resolve(nativeProof())
  assert.equal((await proving).circuitId, 'arith')
  await closing
  assert.equal(native.released, true)
})

test('close() releases even when pending work fails', async () => {
  const { prover, native } = await setup()
  const proving = prover.prove('arith', WITNESS)
  const closing = prover.close()
  native.pending[0].reject(nativeError('PROOF_FAILED'))
  await assert.rejects(proving, { code: 'PROOF_FAILED' })
  await closing
  assert.equal(native.released, true)
})

test('getStatus is the binding\'s ProverStatus as it is; metrics is the native text', async () => {
  const { prover } = await setup()
  assert.deepEqual(await prover.getStatus(), nativeStatus())
  assert.equal(await prover.metrics(), '# fake metrics\n')
})

test('asProvingProvider: prove resolves to the proof bytes with the binding input; check gives the skips', async () => {
  const { prover, native } = await setup()
  const pp = prover.asProvingProvider()
  const proving = pp.prove(new Uint8Array([4]), 'arith', 3n)
  assert.deepEqual(native.calls[0].slice(1, 5), [1, 'arith', new Uint8Array([4]), '3'])
  native.pending[0].resolve(nativeProof())
  assert.deepEqual(await proving, new Uint8Array([9, 8, 7]))
  assert.deepEqual(await pp.check(new Uint8Array([4]), 'arith'), [1n, undefined, 3n])
  await assert.rejects(pp.check(new Uint8Array([4]), 7), { code: 'INVALID_CIRCUIT_ID' })
})

test('asProvingProvider().lookupKey and prover.lookupKey: the native files, undefined for a location naming no circuit', async () => {
  const { prover, native } = await setup()
  const km = material()
  native.materials.set('midnight/zswap/output', { ...km, extra: 1 })
  const pp = prover.asProvingProvider()
  assert.deepEqual(Object.keys(pp).sort(), ['check', 'lookupKey', 'prove'], "the shape of ledger-v9's ProvingProvider")
  const found = await pp.lookupKey('midnight/zswap/output')
  assert.deepEqual(found, { proverKey: km.proverKey, verifierKey: km.verifierKey, ir: km.ir })
  assert.equal(await pp.lookupKey('nothing-here'), undefined)
  assert.equal(await prover.lookupKey('nothing-here'), undefined)
  await assert.rejects(pp.lookupKey(7), { code: 'INVALID_CIRCUIT_ID' })
  await assert.rejects(prover.lookupKey('x', { signal: AbortSignal.abort() }), { name: 'AbortError' })
  assert.deepEqual(native.calls.map((c) => c[1]), ['midnight/zswap/output', 'nothing-here', 'nothing-here'])
})

test("provingProvider(kmProvider).lookupKey: the kmProvider's material, checked; undefined when it has none", async () => {
  const { api, prover, native } = await setup()
  const km = material()
  const kmProvider = { lookupKey: async (location) => (location === 'c' ? { ...km, more: 2 } : undefined) }
  for (const pp of [prover.provingProvider(kmProvider), api.provingProvider(kmProvider)]) {
    assert.deepEqual(await pp.lookupKey('c'), { proverKey: km.proverKey, verifierKey: km.verifierKey, ir: km.ir })
    assert.equal(await pp.lookupKey('d'), undefined)
    await assert.rejects(pp.lookupKey(null), { code: 'INVALID_CIRCUIT_ID' })
  }
  await assert.rejects(prover.provingProvider({ lookupKey: async () => ({ ...km, ir: 'x' }) }).lookupKey('c'), { code: 'INVALID_ARGUMENT' })
  assert.deepEqual(native.calls, [], 'answered by the kmProvider alone')
})

test('provingProvider(kmProvider): a kmProvider without lookupKey throws INVALID_ARGUMENT at once', async () => {
  const { api, prover } = await setup()
  for (const km of [undefined, null, {}, { lookupKey: 'no' }]) {
    assert.throws(() => prover.provingProvider(km), { name: 'ProverError', code: 'INVALID_ARGUMENT' })
    assert.throws(() => api.provingProvider(km), { name: 'ProverError', code: 'INVALID_ARGUMENT' })
  }
})

test('provingProvider(kmProvider): what the lookup answers is checked before any native work', async () => {
  const { prover, native } = await setup()
  const answer = (value) => prover.provingProvider({ lookupKey: async () => value })
  const preimage = new Uint8Array([4])
  await assert.rejects(answer({ ...material(), proverKey: Buffer.alloc(1).toString() }).check(preimage, 'c'), {
    code: 'INVALID_ARGUMENT',
    message: 'key material for "c": proverKey must be a Uint8Array',
  })
  await assert.rejects(answer({ ...material(), ir: [1] }).prove(preimage, 'c'), { code: 'INVALID_ARGUMENT', message: 'key material for "c": ir must be a Uint8Array' })
  await assert.rejects(answer(null).check(preimage, 'c'), { code: 'CIRCUIT_NOT_FOUND' })
  await assert.rejects(answer(material()).check(preimage, 5), { code: 'INVALID_CIRCUIT_ID' })
  const cause = new Error('disk gone')
  await assert.rejects(prover.provingProvider({ lookupKey: () => Promise.reject(cause) }).prove(preimage, 'c'), (err) =>
    err.code === 'CIRCUIT_NOT_FOUND' && err.cause === cause && /kmProvider.lookupKey\("c"\) failed: disk gone/.test(err.message))
  assert.deepEqual(native.calls, [])
})

test('provingProvider(kmProvider): proves with the looked-up material, fetching params through getParams only when missing', async () => {
  const { binding, prover, native } = await setup()
  const km = material()
  const asked = []
  const pp = prover.provingProvider({ lookupKey: async () => km, getParams: async (k) => (asked.push(k), new Uint8Array([k])) })
  const skips = await pp.check(new Uint8Array([4]), 'c')
  assert.deepEqual(skips, [1n, undefined, 3n])
  assert.equal(native.calls[0][1].location, 'c')
  assert.equal(native.calls[0][1].proverKey, km.proverKey)

  native.k = 16 // not held: getParams answers it
  const proving = pp.prove(new Uint8Array([4]), 'c', 5n)
  while (native.pending.length === 0) await tick()
  native.pending[0].resolve(nativeProof())
  assert.deepEqual(await proving, new Uint8Array([9, 8, 7]))
  assert.deepEqual(asked, [16])
  assert.equal(native.calls.find((c) => c[0] === 'circuitK')[1].proverKey, km.proverKey, 'k is the loaded circuit\'s')
  assert.deepEqual(native.calls.find((c) => c[0] === 'addParams'), ['addParams', 16, new Uint8Array([16])])

  native.k = 17
  await assert.rejects(prover.provingProvider({ lookupKey: async () => km }).prove(new Uint8Array([4]), 'c'), { code: 'PARAMS_NOT_FOUND' })
  await assert.rejects(prover.provingProvider({ lookupKey: async () => km, getParams: async () => 'bytes' }).prove(new Uint8Array([4]), 'c'), { code: 'INVALID_ARGUMENT' })
  await assert.rejects(prover.provingProvider({ lookupKey: async () => km, getParams: async () => { throw new Error('offline') } }).prove(new Uint8Array([4]), 'c'), {
    code: 'PARAMS_NOT_FOUND',
    message: 'kmProvider.getParams(17) failed: offline',
  })
})

test('module-level provingProvider: one shared prover, its provider built once; a failed creation is retried', async () => {
  const binding = fakeBinding()
  const api = makeApi(binding)
  const { NativeProver } = binding
  let failures = 1
  binding.NativeProver = class extends NativeProver {
    constructor(config) {
      if (failures-- > 0) throw nativeError('KEY_CACHE_UNWRITABLE')
      super(config)
    }
  }
  let built = 0
  const original = api.Prover.prototype.provingProvider
  api.Prover.prototype.provingProvider = function (km) {
    built++
    return original.call(this, km)
  }
  const pp = api.provingProvider({ lookupKey: async () => material() })
  await assert.rejects(pp.check(new Uint8Array([1]), 'c'), { code: 'KEY_CACHE_UNWRITABLE' })
  assert.deepEqual(await pp.check(new Uint8Array([1]), 'c'), [1n, undefined, 3n])
  assert.deepEqual(await pp.check(new Uint8Array([1]), 'c'), [1n, undefined, 3n])
  const other = api.provingProvider({ lookupKey: async () => material() })
  await other.check(new Uint8Array([1]), 'c')
  assert.equal(binding.provers.length, 1) // shared by both providers
  assert.equal(built, 2) // once per kmProvider, not once per call
})

test('params, keygen, fetchParams, devParams and serializePreimage validate, call the binding, and return plain bytes', async () => {
  const { api } = await setup()
  const bytes = api.params(3)
  assert.equal(Object.getPrototypeOf(bytes), Uint8Array.prototype)
  assert.equal(bytes.length, 3)
  for (const k of [0, 15, 1.5, '3']) assert.throws(() => api.params(k), { code: 'INVALID_ARGUMENT' })

  const keys = await api.keygen('{"ir":1}', { paramsPath: '/pp' })
  assert.deepEqual(keys, { proverKey: new Uint8Array([1, 2]), verifierKey: new Uint8Array([3]), k: 10 })
  await assert.rejects(api.keygen(5), { code: 'INVALID_ARGUMENT' })
  const aborted = AbortSignal.abort()
  await assert.rejects(api.keygen('{}', { signal: aborted }), { name: 'AbortError' })

  assert.equal(await api.fetchParams(16, { paramsPath: ['/a', '/b'] }), '/a/bls_midnight_2p16')
  await assert.rejects(api.fetchParams(26), { code: 'INVALID_ARGUMENT' })
  await assert.rejects(api.fetchParams(16, { signal: aborted, paramsPath: '/a' }), { name: 'AbortError' })

  assert.equal(await api.devParams(15, { out: '/dev' }), '/dev/bls_midnight_2p15#midnight-native-prover development parameters', 'the default seed')
  assert.equal(await api.devParams(20, { out: '/dev', seed: 's' }), '/dev/bls_midnight_2p20#s')
  for (const k of [14, 21, 15.5, '15']) await assert.rejects(api.devParams(k, { out: '/dev' }), { code: 'INVALID_ARGUMENT' })
  for (const options of [undefined, {}, { out: '' }, { out: '/dev', seed: 7 }]) await assert.rejects(api.devParams(15, options), { code: 'INVALID_ARGUMENT' })
  await assert.rejects(api.devParams(15, { out: '/dev', signal: aborted }), { name: 'AbortError' })

  const preimage = api.serializePreimage('arith', WITNESS)
  assert.equal(Object.getPrototypeOf(preimage), Uint8Array.prototype)
  assert.equal(Buffer.from(preimage).toString(), `arith|${WITNESS_JSON}`)
  assert.throws(() => api.serializePreimage(1, WITNESS), { code: 'INVALID_ARGUMENT' })
  assert.throws(() => api.serializePreimage('arith', new Uint8Array(1)), { code: 'INVALID_ARGUMENT', message: 'witness is already serialized' })
  assert.throws(() => api.serializePreimage('arith', {}), { code: 'INVALID_WITNESS' })
  assert.deepEqual(api.errorCodes(), fakeBinding().errorCodes())
})
