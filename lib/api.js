'use strict'
// The package's functions over one binding: index.js passes the real one, the unit tests a fake
// (__test__/unit/fake-binding.js), so everything here runs without the compiled addon.
const { ProverError, nativeErrors } = require('./errors')
const { resolveOptions, paramsSources, nativeConfig } = require('./options')
const { encodeWitness } = require('./witness')
const { abortError, raceStop, callOptions } = require('./stop')
const { keyMaterialLookup } = require('./key-material')
const { proverClass } = require('./prover')

/** The seed of development parameters when none is given (the same as the proving crate's default). */
const DEV_PARAMS_SEED = 'midnight-native-prover development parameters'

/**
 * The public API over `binding` (binding.js's exports, or a stand-in with the same shape):
 * `{ createProver, provingProvider, keygen, params, fetchParams, devParams, serializePreimage, Prover, errorCodes }`.
 */
function makeApi(binding) {
  const { native, nativeSync } = nativeErrors(binding)
  const Prover = proverClass(binding, native)

  /** A Prover with `options` (lib/options.js: explicit options, then the environment), its preloads done. */
  async function createProver(options) {
    const config = resolveOptions(options)
    const nativeProver = nativeSync(() => new binding.NativeProver(nativeConfig(config)))
    const prover = new Prover(nativeProver, config.timeoutMs)
    if (config.preloadCircuits.length) {
      try {
        await prover.preload(config.preloadCircuits)
      } catch (err) {
        await prover.close()
        throw err
      }
    }
    return prover
  }

  /** Prover and verifier keys for a ZKIR v2 circuit (JSON text or binary), with the params it needs. */
  async function keygen(ir, options) {
    const { signal, ...rest } = callOptions(options, 'keygen')
    if (!(typeof ir === 'string' || ir instanceof Uint8Array)) {
      throw new ProverError('INVALID_ARGUMENT', 'ir must be ZKIR JSON text or .bzkir / .zkir bytes')
    }
    const sources = paramsSources(rest)
    if (signal?.aborted) throw abortError(signal)
    return raceStop(native(() => binding.keygen(ir, sources)), { signal })
  }

  /** The `bls_midnight_2p{k}` file for k <= 14, from the SRS compiled into the addon. */
  function params(k) {
    if (!Number.isInteger(k) || k < 1 || k > 14) throw new ProverError('INVALID_ARGUMENT', `k must be an integer from 1 to 14, got ${k}`)
    return nativeSync(() => binding.params(k))
  }

  /**
   * Makes `bls_midnight_2p{k}` present in the first params directory, fetching it from the params
   * source when missing, and checks it against Midnight's pinned SHA-256. Resolves to its path.
   */
  async function fetchParams(k, options) {
    const { signal, ...rest } = callOptions(options, 'fetchParams')
    if (!Number.isInteger(k) || k < 0 || k > 25) throw new ProverError('INVALID_ARGUMENT', `k must be an integer from 0 to 25, got ${k}`)
    const { dirs, source } = paramsSources(rest)
    if (signal?.aborted) throw abortError(signal)
    return raceStop(native(() => binding.fetchParams(k, dirs[0], source)), { signal })
  }

  /**
   * UNSAFE development parameters for k = 15..20, drawn deterministically from `seed`, written as
   * `out/bls_midnight_2p{k}` (Midnight's layout plus a trailer that labels them). Resolves to the path.
   */
  async function devParams(k, options) {
    const { signal, out, seed = DEV_PARAMS_SEED } = callOptions(options, 'devParams')
    if (!Number.isInteger(k) || k < 15 || k > 20) throw new ProverError('INVALID_ARGUMENT', `k must be an integer from 15 to 20 (k <= 14 proves with Midnight's embedded SRS), got ${k}`)
    if (typeof out !== 'string' || out === '') throw new ProverError('INVALID_ARGUMENT', 'devParams: options.out must be the directory to write bls_midnight_2p<k> to')
    if (typeof seed !== 'string') throw new ProverError('INVALID_ARGUMENT', 'devParams: options.seed must be a string')
    if (signal?.aborted) throw abortError(signal)
    return raceStop(native(() => binding.devParams(k, seed, out)), { signal })
  }

  /** A witness as the ledger's tagged-serialized ProofPreimage (what zkir-v2 and the proof server take). */
  function serializePreimage(keyLocation, witness) {
    if (typeof keyLocation !== 'string') throw new ProverError('INVALID_ARGUMENT', 'keyLocation must be a string')
    if (witness instanceof Uint8Array) throw new ProverError('INVALID_ARGUMENT', 'witness is already serialized')
    return nativeSync(() => binding.serializePreimage(keyLocation, encodeWitness(witness)))
  }

  let sharedProver
  /** The one prover per process behind `provingProvider`, created on first use; a failed creation is retried. */
  const shared = () => (sharedProver ??= createProver().catch((err) => {
    sharedProver = undefined
    throw err
  }))

  /**
   * zkir-v2's `provingProvider(kmProvider)`, backed by one prover per process that is created on
   * first use with the environment's settings (its threads never keep the process alive).
   */
  function provingProvider(kmProvider) {
    keyMaterialLookup(kmProvider)
    // The prover's provider for kmProvider, made once per shared prover (a new one after a failed creation).
    let madeFor
    let provider
    const current = () => {
      const prover = shared()
      if (madeFor !== prover) [madeFor, provider] = [prover, prover.then((p) => p.provingProvider(kmProvider))]
      return provider
    }
    return {
      check: async (...args) => (await current()).check(...args),
      prove: async (...args) => (await current()).prove(...args),
      lookupKey: async (...args) => (await current()).lookupKey(...args),
    }
  }

  return { createProver, provingProvider, keygen, params, fetchParams, devParams, serializePreimage, Prover, errorCodes: binding.errorCodes }
}

module.exports = { makeApi }
