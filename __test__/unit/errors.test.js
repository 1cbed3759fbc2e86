'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { ProverError, AbortError, fromNative, nativeErrors } = require('../../lib/errors')
const { fakeBinding, nativeError } = require('./fake-binding')

const codes = new Set(fakeBinding().errorCodes())

test('ProverError and AbortError carry their name and code', () => {
  const err = new ProverError('PROOF_FAILED', 'msg', { cause: 1 })
  assert.ok(err instanceof Error)
  assert.deepEqual([err.name, err.code, err.message, err.cause], ['ProverError', 'PROOF_FAILED', 'msg', 1])
  const abort = new AbortError()
  assert.deepEqual([abort.name, abort.code, abort.message], ['AbortError', 'ABORT_ERR', 'The operation was aborted'])
})

test('fromNative: a code the addon defines becomes a ProverError with that code', () => {
  const err = fromNative(nativeError('WITNESS_UNSATISFIED', 'constraint 3'), codes)
  assert.ok(err instanceof ProverError)
  assert.deepEqual([err.code, err.message, err.cause], ['WITNESS_UNSATISFIED', 'constraint 3', undefined])
})

test("fromNative: napi's argument errors (InvalidArg, …Expected) become INVALID_ARGUMENT with the cause", () => {
  for (const code of ['InvalidArg', 'StringExpected', 'NumberExpected', 'ObjectExpected']) {
    const original = nativeError(code, 'wrong type')
    const err = fromNative(original, codes)
    assert.deepEqual([err.name, err.code, err.message, err.cause], ['ProverError', 'INVALID_ARGUMENT', 'wrong type', original], code)
  }
})

test('fromNative: anything else is PROVER_PANIC with the cause, whatever was thrown', () => {
  for (const thrown of [nativeError('GenericFailure', 'oops'), nativeError('NOT_A_CODE'), new Error('plain'), 'a string', undefined, { message: 5 }]) {
    const err = fromNative(thrown, codes)
    assert.equal(err.code, 'PROVER_PANIC')
    assert.equal(err.cause, thrown)
  }
  assert.equal(fromNative('a string', codes).message, 'a string')
})

test('fromNative: ABORT_ERR becomes an AbortError; ProverErrors and AbortErrors pass as they are', () => {
  const abort = fromNative(nativeError('ABORT_ERR', 'cancelled'), codes)
  assert.ok(abort instanceof AbortError)
  assert.deepEqual([abort.name, abort.code, abort.message], ['AbortError', 'ABORT_ERR', 'cancelled'])
  const ours = new ProverError('X', 'y')
  assert.equal(fromNative(ours, codes), ours)
  const aborted = new AbortError()
  assert.equal(fromNative(aborted, codes), aborted)
})

test("nativeErrors: native and nativeSync rethrow converted, pass results through, and read the binding's codes once", async () => {
  let reads = 0
  const { native, nativeSync, fromNative: convert } = nativeErrors({ errorCodes: () => (reads++, ['KEY_CORRUPT']) })
  assert.equal(nativeSync(() => 5), 5)
  assert.equal(await native(async () => 6), 6)
  assert.equal(await native(() => 7), 7)
  assert.equal(reads, 0) // nothing failed yet: the binding is not asked
  assert.throws(() => nativeSync(() => { throw nativeError('KEY_CORRUPT') }), { name: 'ProverError', code: 'KEY_CORRUPT' })
  await assert.rejects(native(async () => { throw nativeError('InvalidArg') }), { code: 'INVALID_ARGUMENT' })
  await assert.rejects(native(() => { throw nativeError('ABORT_ERR') }), { name: 'AbortError' })
  // Only the injected binding's codes count: a code it does not define is a panic.
  await assert.rejects(native(() => Promise.reject(nativeError('WITNESS_UNSATISFIED'))), { code: 'PROVER_PANIC' })
  assert.equal(convert(nativeError('KEY_CORRUPT')).code, 'KEY_CORRUPT')
  assert.equal(reads, 1)
})
