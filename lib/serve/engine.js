'use strict'
// What /prove and /check do with a decoded request: pick the ledger-style ProvingProvider that
// proves it, and convert between the wire formats (crates/proving/src/wire.rs) and the provider's.
const { nativeErrors } = require('../errors')
const { HttpError } = require('./http-error')

/** Codes a decoder gives bytes it cannot read; anything else (a panic, say) is ours, not the client's. */
const UNREADABLE = new Set(['INVALID_ARGUMENT', 'INVALID_IR'])

/** A decoder's failure as the client's 400 (its message alone) when it is about the bytes. */
const unreadable = (err) => (UNREADABLE.has(err.code) ? new HttpError(400, err.message) : err)

/**
 * A key-material provider answering the material one request carried. No getParams: the
 * prover takes parameters from its own store (embedded SRS, then --params).
 */
const materialProvider = (material) => ({ lookupKey: async () => material })

/**
 * The request handlers over `binding` (binding.js, or a fake in the unit tests):
 * `{ proveRequest, checkRequest, kRequest, providerFor }`.
 */
function makeEngine(binding) {
  const { native, nativeSync } = nativeErrors(binding)

  /**
   * Decodes a request body. Like the proof server (`tagged_deserialize(..).map_err(ErrorBadRequest)`),
   * a body that does not deserialize is a 400 whose text is the deserializer's message alone, e.g.
   * `Not all bytes read deserializing '…'; 3 bytes remaining`, with no error code in front.
   */
  function decoded(decode) {
    try {
      return nativeSync(decode)
    } catch (err) {
      throw unreadable(err)
    }
  }

  /** `/check` with only the circuit's IR (what createCheckPayload carries): no keys are involved. */
  const irChecker = (ir) => ({ check: (preimage) => native(() => binding.checkWithIr(ir, preimage)) })

  /**
   * The one routing decision. A request with key material is proved with that material on the
   * server's prover (its key cache is by content, so one contract's keys are deserialized once);
   * a check with the IR is run against that IR; anything else is resolved by key location among
   * the server's circuits (`--keys`, and the ledger's built-in `midnight/...` ones).
   */
  function providerFor(prover, material) {
    if (material?.proverKey) return prover.provingProvider(materialProvider(material))
    if (material?.ir) return irChecker(material.ir)
    return prover.asProvingProvider()
  }

  // Each request is decoded at once (a malformed body is a 400 whatever the load, as in the proof
  // server) and returns the work to run once the job is admitted.

  /** `/prove`: createProvingPayload bytes in, tagged ProofVersioned out. */
  function proveRequest(prover, body) {
    const req = decoded(() => binding.decodeProveRequest(body))
    const material = req.proverKey && { proverKey: req.proverKey, verifierKey: req.verifierKey, ir: req.ir }
    return async () => {
      let proof
      try {
        proof = await providerFor(prover, material).prove(req.preimage, req.keyLocation, req.bindingInput)
      } catch (err) {
        // With the client's own key material, a proof that fails its self-verification means the
        // material does not hang together (keys for another IR, a damaged key): the client's error.
        if (material && err?.code === 'PROOF_FAILED') err.httpStatus = 400
        throw err
      }
      return nativeSync(() => binding.encodeProofResponse(proof))
    }
  }

  /** `/check`: createCheckPayload bytes in, tagged Vec<Option<u64>> (parseCheckResult's input) out. */
  function checkRequest(prover, body) {
    const req = decoded(() => binding.decodeCheckRequest(body))
    const material = req.ir && { ir: req.ir }
    return async () => {
      const skips = await providerFor(prover, material).check(req.preimage, req.keyLocation)
      return nativeSync(() => binding.encodeCheckResponse(skips.map((s) => (s == null ? null : BigInt(s)))))
    }
  }

  /**
   * `/k`: a tagged ZKIR v2 IR in, its k out as text bytes (an unreadable IR is a 400 with the
   * reader's message). A job like a proof: the IR's cost model lays out the whole circuit, and a
   * body of a few bytes can declare one of k = 18 (seconds of CPU, see docs/fuzzing.md).
   */
  function kRequest(prover, body) {
    return async () => {
      try {
        return Buffer.from(String(await native(() => binding.irK(body))))
      } catch (err) {
        throw unreadable(err)
      }
    }
  }

  return { proveRequest, checkRequest, kRequest, providerFor }
}

module.exports = { makeEngine }
