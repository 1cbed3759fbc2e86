'use strict'
// The Prover class over one binding. It is made by a factory taking the binding (the real one
// from index.js, a fake in __test__/unit) so its logic runs without the compiled addon.
const { EventEmitter } = require('node:events')
const { createHash } = require('node:crypto')
const { ProverError } = require('./errors')
const { encodeWitness, fieldText } = require('./witness')
const { abortError, raceStop, timeoutOption, callOptions, rejecting } = require('./stop')
const { KeyMaterial, keyMaterialLookup, requiredMaterial, requireLocation, describe } = require('./key-material')
const { toEvent } = require('./events')

function requireCircuitId(circuitId) {
  if (typeof circuitId !== 'string') {
    throw new ProverError('INVALID_CIRCUIT_ID', `circuit id must be a string, got ${typeof circuitId}`)
  }
}

/** Equal calls share a proof: same circuit id, binding input and preimage bytes. */
const shareKey = (circuitId, bindingText, bytes) => `${circuitId}\0${bindingText ?? ''}\0${createHash('sha256').update(bytes).digest('hex')}`

/** A joined call's own copy of the result, so no caller sees another's changes. */
const copyResult = (r) => ({ ...r, proof: Uint8Array.from(r.proof), publicInputs: [...r.publicInputs] })

/** The three key files as fresh Uint8Arrays, or `undefined`: what the ledger's `lookupKey` expects. */
const asLedgerMaterial = (km) => (km ? { proverKey: km.proverKey, verifierKey: km.verifierKey, ir: km.ir } : undefined)

/**
 * The Prover class for `binding` (its `CancelToken`); `native` is that binding's
 * error-converting call wrapper (lib/errors.js `nativeErrors`).
 */
function proverClass(binding, native) {
  return class Prover extends EventEmitter {
    #native
    #timeoutMs
    #pending = new Set()
    #closing = null
    #nextProofId = 1
    /** Proofs in flight that later equal calls join, by `shareKey`. */
    #inFlight = new Map()

    /** Made by createProver only; `timeoutMs` is the default per-proof timeout. */
    constructor(nativeProver, timeoutMs) {
      super()
      this.#native = nativeProver
      this.#timeoutMs = timeoutMs
      nativeProver.onEvent((e) => this.emit(e.kind, toEvent(e)))
    }

    /**
     * Starts work synchronously (so a call made before `close()` is accepted) and tracks it so
     * `close()` can wait for it. Validation errors become rejections, never throws.
     */
    #run(start, stop = {}) {
      return rejecting(() => {
        if (this.#closing) throw new ProverError('PROVER_CLOSED', 'the prover is closed')
        if (stop.signal?.aborted) throw abortError(stop.signal)
        const work = start()
        const tracked = work.finally(() => this.#pending.delete(tracked))
        tracked.catch(() => {})
        this.#pending.add(tracked)
        return raceStop(work, stop)
      })
    }

    /** `#run` for a call whose only option is `signal`, its options checked as `where`'s. */
    #call(where, options, start) {
      return rejecting(() => this.#run(start, { signal: callOptions(options, where).signal }))
    }

    /** Proves `witness` for a circuit id; options: signal, timeoutMs, bindingInput. */
    prove(circuitId, witness, options) {
      return this.#prove(circuitId, witness, options)
    }

    /**
     * `circuit` is an id (validated here) or a {@link KeyMaterial} (validated by its lookup).
     * Calls for the same circuit id, binding input and preimage bytes share the proof in flight
     * (a retry never costs a second proof); it is withdrawn only when every caller has stopped.
     */
    #prove(circuit, witness, options) {
      return rejecting(() => {
        const { signal, bindingInput, timeoutMs } = callOptions(options, 'prove')
        const timeout = timeoutOption(timeoutMs, 'timeoutMs') ?? this.#timeoutMs
        let shared
        const start = () => {
          if (!(circuit instanceof KeyMaterial)) requireCircuitId(circuit)
          const data = encodeWitness(witness)
          const bindingText = bindingInput === undefined ? undefined : fieldText(bindingInput, 'bindingInput')
          // Real bytes only: an object that merely claims Uint8Array's prototype goes on to the binding's typed refusal.
          const key = typeof circuit === 'string' && ArrayBuffer.isView(data) ? shareKey(circuit, bindingText, data) : undefined
          shared = key && this.#inFlight.get(key)
          if (shared) {
            shared.callers++
            return shared.work.then(copyResult)
          }
          const token = new binding.CancelToken()
          const proofId = this.#nextProofId++ % 2 ** 32
          const work = native(() => this.#native.prove(proofId, circuit, data, bindingText, token))
          shared = { key, work, token, callers: 1 }
          if (key) {
            this.#inFlight.set(key, shared)
            const done = () => this.#inFlight.get(key) === shared && this.#inFlight.delete(key)
            work.then(done, done)
          }
          this.emit('queued', { proofId, circuitId: circuit instanceof KeyMaterial ? circuit.location : circuit })
          return work
        }
        const onStop = () => {
          if (!shared || --shared.callers > 0) return
          if (this.#inFlight.get(shared.key) === shared) this.#inFlight.delete(shared.key)
          shared.token.cancel()
        }
        return this.#run(start, { signal, timeoutMs: timeout, onStop })
      })
    }

    /** Runs the circuit on `witness` without proving: its skips (the ledger's check result). */
    check(circuitId, witness, options) {
      return this.#check(circuitId, witness, options)
    }

    #check(circuit, witness, options) {
      return this.#call('check', options, () => {
        if (!(circuit instanceof KeyMaterial)) requireCircuitId(circuit)
        const data = encodeWitness(witness)
        return native(() => this.#native.check(circuit, data)).then((skips) => skips.map((s) => s ?? undefined))
      })
    }

    /**
     * Asks `kmProvider.getParams(k)` only for what the prover cannot find itself (k > 14 and no
     * file in `paramsPath`); the bytes are checked against Midnight's pin before they are used.
     * The k is the loaded circuit's: the IR's cost model runs once per circuit, not per proof.
     */
    async #paramsFor(material, kmProvider) {
      const k = await native(() => this.#native.circuitK(material))
      if (this.#native.hasParams(k)) return
      if (typeof kmProvider.getParams !== 'function') {
        throw new ProverError('PARAMS_NOT_FOUND', `k=${k} needs bls_midnight_2p${k}: not in paramsPath, and the kmProvider has no getParams`)
      }
      let file
      try {
        file = await kmProvider.getParams(k)
      } catch (err) {
        throw new ProverError('PARAMS_NOT_FOUND', `kmProvider.getParams(${k}) failed: ${describe(err)}`, { cause: err })
      }
      if (!(file instanceof Uint8Array)) throw new ProverError('INVALID_ARGUMENT', `kmProvider.getParams(${k}) must resolve to a Uint8Array`)
      await native(() => this.#native.addParams(k, file))
    }

    /**
     * The key material this prover would prove a key location with (a built-in's prover key is
     * derived first), or `undefined` when the location names no circuit.
     */
    lookupKey(keyLocation, options) {
      return this.#call('lookupKey', options, () => {
        requireLocation(keyLocation)
        return native(() => this.#native.keyMaterial(keyLocation)).then(asLedgerMaterial)
      })
    }

    /** The ledger's `ProvingProvider`, resolving key locations through this prover's key store. */
    asProvingProvider() {
      return {
        check: (serializedPreimage, keyLocation) => this.#check(keyLocation, serializedPreimage),
        prove: (serializedPreimage, keyLocation, overwriteBindingInput) =>
          this.#prove(keyLocation, serializedPreimage, { bindingInput: overwriteBindingInput }).then((r) => r.proof),
        lookupKey: (keyLocation) => this.lookupKey(keyLocation),
      }
    }

    /** The ledger's `ProvingProvider` over key material from `kmProvider`, as zkir-v2's `provingProvider`. */
    provingProvider(kmProvider) {
      const lookup = keyMaterialLookup(kmProvider)
      return {
        check: async (serializedPreimage, keyLocation) => this.#check(await requiredMaterial(lookup, keyLocation), serializedPreimage),
        prove: async (serializedPreimage, keyLocation, overwriteBindingInput) => {
          const material = await requiredMaterial(lookup, keyLocation)
          await this.#paramsFor(material, kmProvider)
          const result = await this.#prove(material, serializedPreimage, { bindingInput: overwriteBindingInput })
          return result.proof
        },
        lookupKey: async (keyLocation) => asLedgerMaterial(await lookup(keyLocation)),
      }
    }

    /** Whether `proof` verifies for the circuit and public inputs. */
    verify(circuitId, proof, publicInputs, options) {
      return this.#call('verify', options, () => {
        requireCircuitId(circuitId)
        if (!(proof instanceof Uint8Array)) throw new ProverError('INVALID_ARGUMENT', 'proof must be a Uint8Array')
        if (!Array.isArray(publicInputs)) throw new ProverError('INVALID_ARGUMENT', 'publicInputs must be an array')
        const inputs = publicInputs.map((v, i) => fieldText(v, `publicInputs[${i}]`))
        return native(() => this.#native.verify(circuitId, proof, inputs))
      })
    }

    /** Loads circuits' keys ahead of their first proof. */
    preload(circuitIds, options) {
      return this.#call('preload', options, () => {
        if (!Array.isArray(circuitIds) || circuitIds.some((id) => typeof id !== 'string')) {
          throw new ProverError('INVALID_ARGUMENT', 'preload takes an array of circuit ids')
        }
        return native(() => this.#native.preload(circuitIds))
      })
    }

    /** Prometheus text exposition (format 0.0.4) of the prover's metrics. */
    async metrics() {
      return this.#native.metrics()
    }

    /** The prover's state (circuits, memory, queues, tables) in the public shape. */
    async getStatus() {
      return this.#native.status()
    }

    /** Refuses new work at once; resolves once submitted work has settled and the native side is freed. */
    close() {
      if (!this.#closing) {
        this.#native.close()
        this.#closing = Promise.allSettled([...this.#pending]).then(() => this.#native.release())
      }
      return this.#closing
    }
  }
}

module.exports = { proverClass }
