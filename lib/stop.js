'use strict'
// Stopping a call early: an AbortSignal, a timeout, and the per-call options that carry them.
const { ProverError, AbortError } = require('./errors')

/** The AbortError a call rejects with once `signal` has aborted, keeping its reason. */
function abortError(signal) {
  return new AbortError('The operation was aborted', { cause: signal.reason })
}

/**
 * Settles with `work`, or rejects as soon as `signal` aborts (AbortError) or `timeoutMs` passes
 * (PROOF_TIMEOUT), whichever comes first; `onStop` then withdraws the work if it has not started.
 */
function raceStop(work, { signal, timeoutMs, onStop = () => {} } = {}) {
  // The native work settles later even when the caller stops waiting: never unhandled.
  work.catch(() => {})
  if (!signal && timeoutMs === undefined) return work
  if (signal?.aborted) {
    onStop()
    return Promise.reject(abortError(signal))
  }
  return new Promise((resolve, reject) => {
    const stop = (err) => {
      onStop()
      reject(err)
    }
    const abort = () => stop(abortError(signal))
    const timer =
      timeoutMs === undefined ? undefined : setTimeout(() => stop(new ProverError('PROOF_TIMEOUT', `no result within ${timeoutMs} ms`)), timeoutMs)
    signal?.addEventListener('abort', abort, { once: true })
    work.then(resolve, reject).finally(() => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', abort)
    })
  })
}

/** Timers hold at most 2^31 - 1 ms; Node fires a longer one after 1 ms. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1

/** A per-call timeout in ms (`undefined` = none), checked against what a timer can hold. */
function timeoutOption(value, where) {
  if (value === undefined) return undefined
  if (!Number.isInteger(value) || value < 1 || value > MAX_TIMEOUT_MS) {
    throw new ProverError('INVALID_ARGUMENT', `${where} must be an integer of ms from 1 to ${MAX_TIMEOUT_MS}, got ${value}`)
  }
  return value
}

/** A per-call options object (`undefined` and `null` mean none) and its `signal`, checked. */
function callOptions(options, where) {
  if (options == null) return {}
  if (typeof options !== 'object') throw new ProverError('INVALID_ARGUMENT', `${where} options must be an object`)
  const { signal } = options
  if (signal !== undefined && !(typeof signal === 'object' && signal !== null && typeof signal.aborted === 'boolean' && typeof signal.addEventListener === 'function')) {
    throw new ProverError('INVALID_ARGUMENT', `${where}: options.signal must be an AbortSignal`)
  }
  return options
}

/** Runs `start` (which returns a promise) so that every validation error becomes a rejection. */
function rejecting(start) {
  try {
    return start()
  } catch (err) {
    return Promise.reject(err)
  }
}

module.exports = { abortError, raceStop, MAX_TIMEOUT_MS, timeoutOption, callOptions, rejecting }
