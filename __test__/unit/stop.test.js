'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { raceStop, timeoutOption, callOptions, rejecting, MAX_TIMEOUT_MS } = require('../../lib/stop')
const { deferred } = require('./fake-binding')

const isAbort = (err) => err.name === 'AbortError' && err.code === 'ABORT_ERR'

test('raceStop settles with the work and never calls onStop on normal completion', async () => {
  let stops = 0
  const onStop = () => stops++
  assert.equal(await raceStop(Promise.resolve(7), { signal: new AbortController().signal, timeoutMs: 1000, onStop }), 7)
  await assert.rejects(raceStop(Promise.reject(new Error('boom')), { timeoutMs: 1000, onStop }), /boom/)
  assert.equal(stops, 0)
})

test('raceStop without a signal or timeout returns the work itself', () => {
  const work = Promise.resolve(1)
  assert.equal(raceStop(work), work)
})

test('raceStop with a signal aborted before the call rejects AbortError (with the reason) and calls onStop once', async () => {
  const ac = new AbortController()
  ac.abort('why')
  let stops = 0
  const work = deferred()
  await assert.rejects(raceStop(work.promise, { signal: ac.signal, onStop: () => stops++ }), (err) => isAbort(err) && err.cause === 'why')
  assert.equal(stops, 1)
  work.reject(new Error('late failure is not unhandled'))
})

test('raceStop rejects AbortError when the signal aborts while the work runs; onStop once, the later result is ignored', async () => {
  const ac = new AbortController()
  let stops = 0
  const work = deferred()
  const raced = raceStop(work.promise, { signal: ac.signal, timeoutMs: 10_000, onStop: () => stops++ })
  ac.abort()
  ac.abort()
  await assert.rejects(raced, isAbort)
  work.resolve('late')
  await work.promise
  assert.equal(stops, 1)
})

test('raceStop rejects PROOF_TIMEOUT after timeoutMs and calls onStop once', async () => {
  let stops = 0
  const work = deferred()
  const started = Date.now()
  await assert.rejects(raceStop(work.promise, { timeoutMs: 20, onStop: () => stops++ }), (err) => err.code === 'PROOF_TIMEOUT' && /20 ms/.test(err.message))
  assert.ok(Date.now() - started >= 15)
  assert.equal(stops, 1)
  work.resolve()
})

test('raceStop clears its timer once the work settles (a long timeout does not hold the process)', async () => {
  // Were the timer left, this file would not end for an hour: node:test waits for the event loop.
  assert.equal(await raceStop(Promise.resolve('done'), { timeoutMs: 3_600_000 }), 'done')
  await assert.rejects(raceStop(Promise.reject(new Error('x')), { timeoutMs: 3_600_000 }), /x/)
})

test('timeoutOption: undefined is none; an integer from 1 to 2^31 - 1 passes; anything else is INVALID_ARGUMENT', () => {
  assert.equal(timeoutOption(undefined, 'timeoutMs'), undefined)
  assert.equal(timeoutOption(1, 'timeoutMs'), 1)
  assert.equal(timeoutOption(MAX_TIMEOUT_MS, 'timeoutMs'), 2 ** 31 - 1)
  for (const bad of [0, -1, 1.5, 2 ** 31, NaN, Infinity, '10', null]) {
    assert.throws(() => timeoutOption(bad, 'timeoutMs'), (err) => err.code === 'INVALID_ARGUMENT' && /^timeoutMs must be/.test(err.message), String(bad))
  }
})

test('callOptions: none for undefined and null; a non-object or a non-signal is INVALID_ARGUMENT', () => {
  assert.deepEqual(callOptions(undefined, 'prove'), {})
  assert.deepEqual(callOptions(null, 'prove'), {})
  const options = { signal: new AbortController().signal, timeoutMs: 5 }
  assert.equal(callOptions(options, 'prove'), options)
  assert.throws(() => callOptions(5, 'prove'), { code: 'INVALID_ARGUMENT', message: 'prove options must be an object' })
  for (const signal of [null, {}, { aborted: 'no', addEventListener() {} }, 'signal']) {
    assert.throws(() => callOptions({ signal }, 'check'), { code: 'INVALID_ARGUMENT', message: 'check: options.signal must be an AbortSignal' })
  }
})

test('rejecting turns a throw into a rejection and passes a promise through', async () => {
  const thrown = rejecting(() => {
    throw new Error('sync')
  })
  assert.ok(thrown instanceof Promise)
  await assert.rejects(thrown, /sync/)
  assert.equal(await rejecting(async () => 3), 3)
})
