'use strict'

/** An Error with a stable `code`, the only kind of rejection this package produces. */
class ProverError extends Error {
  constructor(code, message, options) {
    super(message, options)
    this.name = 'ProverError'
    this.code = code
  }
}

/** The standard AbortError shape (`name` AbortError, `code` ABORT_ERR), as Node's own APIs reject. */
class AbortError extends Error {
  constructor(message = 'The operation was aborted', options) {
    super(message, options)
    this.name = 'AbortError'
    this.code = 'ABORT_ERR'
  }
}

const PREFIXED = /^([A-Z][A-Z_]+): ([\s\S]*)$/

/** Turns an error thrown by the native binding (`CODE: message`) into a ProverError. */
function fromNative(err) {
  if (err instanceof ProverError || err instanceof AbortError) return err
  const match = PREFIXED.exec(err && err.message)
  if (!match) return new ProverError('INTERNAL', String((err && err.message) || err), { cause: err })
  if (match[1] === 'ABORT_ERR') return new AbortError(match[2])
  return new ProverError(match[1], match[2])
}

/** Calls into the binding, rethrowing its failure as a ProverError. */
function nativeSync(call) {
  try {
    return call()
  } catch (err) {
    throw fromNative(err)
  }
}

/** Awaits a native promise (or call), rethrowing its failure as a ProverError. */
async function native(call) {
  try {
    return await call()
  } catch (err) {
    throw fromNative(err)
  }
}

module.exports = { ProverError, AbortError, fromNative, native, nativeSync }
