'use strict'
// A stand-in for binding.js with the same shape, for unit tests that must run without the
// compiled addon. Each fakeBinding() is fresh: it records the provers and cancel tokens it made,
// and every native promise is a deferred the test settles itself.

const CODES = [
  'INVALID_OPTIONS', 'INVALID_ARGUMENT', 'CIRCUIT_NOT_FOUND', 'INVALID_CIRCUIT_ID', 'INVALID_WITNESS', 'WITNESS_UNSATISFIED',
  'KEY_CORRUPT', 'INVALID_IR', 'PARAMS_NOT_FOUND', 'PROOF_FAILED', 'PROVER_CLOSED', 'PROVER_PANIC', 'PROVER_OVERLOADED',
  'PROOF_TIMEOUT', 'KEY_MISMATCH', 'KEY_CACHE_UNWRITABLE', 'PARAMS_MISMATCH', 'MEMORY_LIMIT_EXCEEDED',
]

/** A promise with its resolve and reject, settled by the test. */
function deferred() {
  let resolve
  let reject
  const promise = new Promise((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** An Error as the addon throws it: a message and a `code`. */
function nativeError(code, message = `native ${code}`) {
  return Object.assign(new Error(message), { code })
}

/** A ProverStatus with one loaded circuit: the binding returns the public shape itself. */
function nativeStatus() {
  return {
    loadedCircuits: ['arith'],
    circuits: [{ id: 'arith', k: 10, rows: 1024, proverKeyBytes: 300, loadMs: 5, peakProofBytes: 7, columns: 3, loadBytes: 11, reserveBytes: 13 }],
    availableCircuits: ['arith', 'midnight/zswap/output'],
    paramsK: [10],
    activeProofs: 0,
    queuedProofs: 0,
    threads: 2,
    liveThreads: 2,
    memory: {
      nativeBytes: 1000,
      proverKeyBytes: 300,
      rssBytes: 2000,
      limitBytes: null,
      peakNativeBytes: 1500,
      budget: { limitBytes: null, heldBytes: 10, reservedBytes: 20, reservations: [{ circuitId: 'arith', bytes: 20 }], waiting: [] },
    },
    cache: { limitBytes: 4096, maxCircuits: 8, evicted: 1 },
    tasks: { threads: 1, maxThreads: 2, queued: 0, maxQueued: 64 },
    msm: { tables: 2, tableBytes: 512, mappedBytes: 256, maxTables: 4, vectors: [], commitments: 12, largestCommitment: 1024 },
    proofsCompleted: 3,
    proofsFailed: 1,
    keysDerived: 0,
    uptimeMs: 99,
  }
}

/** Bytes as the addon returns them: a plain Uint8Array. */
const bytes = (data) => new Uint8Array(typeof data === 'string' ? Buffer.from(data) : data)

/** A fresh fake binding: `provers` and `tokens` list what the code under test created. */
function fakeBinding() {
  const provers = []
  const tokens = []

  class CancelToken {
    cancelled = 0
    constructor() {
      tokens.push(this)
    }
    cancel() {
      this.cancelled++
    }
  }

  class NativeProver {
    /** Every call made, as [method, ...args]; `pending` holds each prove()'s deferred. */
    calls = []
    pending = []
    closed = false
    released = false
    paramsHeld = new Set([10])
    constructor(config) {
      this.config = config
      provers.push(this)
    }
    onEvent(callback) {
      this.emitEvent = callback
    }
    prove(...args) {
      this.calls.push(['prove', ...args])
      const d = deferred()
      this.pending.push(d)
      return d.promise
    }
    async check(circuit, data) {
      this.calls.push(['check', circuit, data])
      return [1n, undefined, 3n]
    }
    async verify(...args) {
      this.calls.push(['verify', ...args])
      return true
    }
    /** The k `circuitK` answers for any circuit. */
    k = 10
    async circuitK(circuit) {
      this.calls.push(['circuitK', circuit])
      return this.k
    }
    hasParams(k) {
      return this.paramsHeld.has(k)
    }
    /** Key material by location for `keyMaterial`; other locations answer null. */
    materials = new Map()
    async keyMaterial(location) {
      this.calls.push(['keyMaterial', location])
      return this.materials.get(location) ?? null
    }
    async addParams(k, file) {
      this.calls.push(['addParams', k, file])
      this.paramsHeld.add(k)
    }
    async preload(ids) {
      this.calls.push(['preload', ids])
    }
    status() {
      return nativeStatus()
    }
    metrics() {
      return '# fake metrics\n'
    }
    close() {
      this.closed = true
    }
    release() {
      this.released = true
    }
  }

  return {
    provers,
    tokens,
    CancelToken,
    NativeProver,
    errorCodes: () => [...CODES],
    irK: async () => 10,
    keygen: async () => ({ proverKey: bytes([1, 2]), verifierKey: bytes([3]), k: 10 }),
    params: (k) => new Uint8Array(k),
    fetchParams: async (k, dir) => `${dir}/bls_midnight_2p${k}`,
    devParams: async (k, seed, dir) => `${dir}/bls_midnight_2p${k}#${seed}`,
    serializePreimage: (keyLocation, json) => bytes(`${keyLocation}|${json}`),
    checkWithIr: async () => [undefined],
    decodeProveRequest: (body) => ({ preimage: bytes(body), keyLocation: 'arith' }),
    decodeCheckRequest: (body) => ({ preimage: bytes(body), keyLocation: 'arith' }),
    encodeProofResponse: (proof) => bytes(proof),
    encodeCheckResponse: (skips) => bytes(JSON.stringify(skips.map(String))),
  }
}

module.exports = { fakeBinding, deferred, nativeError, nativeStatus, CODES }
