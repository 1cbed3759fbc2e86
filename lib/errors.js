'use strict'
// Errors as the public API throws them. The native addon sets `code` itself (one of
// `errorCodes()`, defined once in crates/proving/src/error.rs); only napi's own argument checks carry
// napi's status names instead, and they are mapped here.

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

/**
 * Turns an error thrown by the native binding into a ProverError (or AbortError). `codes` are the
 * ones the addon defines. napi's own argument conversion fails with its status name
 * (`InvalidArg`, `StringExpected`, …): the caller passed a wrong type. Anything else unknown is
 * a bug of ours: PROVER_PANIC.
 */
function fromNative(err, codes) {
  if (err instanceof ProverError || err instanceof AbortError) return err
  const code = err?.code
  const message = String(err?.message ?? err)
  if (code === 'ABORT_ERR') return new AbortError(message)
  if (codes.has(code)) return new ProverError(code, message)
  if (typeof code === 'string' && /^(InvalidArg|\w+Expected)$/.test(code)) return new ProverError('INVALID_ARGUMENT', message, { cause: err })
  return new ProverError('PROVER_PANIC', message, { cause: err })
}

/**
 * Calls into `binding` that rethrow its failures as ProverErrors. The binding is passed in (not
 * required here) so a fake one can stand in; its codes are read on the first failure.
 */
function nativeErrors(binding) {
  let codes
  const convert = (err) => fromNative(err, (codes ??= new Set(binding.errorCodes())))
  return {
    fromNative: convert,
    /** Calls into the binding, rethrowing its failure as a ProverError. */
    nativeSync(call) {
      try {
        return call()
      } catch (err) {
        throw convert(err)
      }
    },
    /** Awaits a native promise (or call), rethrowing its failure as a ProverError. */
    async native(call) {
      try {
        return await call()
      } catch (err) {
        throw convert(err)
      }
    },
  }
}

module.exports = { ProverError, AbortError, fromNative, nativeErrors }
