'use strict'
// What /prove and /check do with a decoded request: pick the ledger-style ProvingProvider that
// proves it, and convert between the wire formats (src/core/payload.rs) and the provider's.
const fs = require('node:fs')
const path = require('node:path')
const binding = require('../../binding.js')
const { nativeSync } = require('../errors')
const root = require('../..')

/** The `bls_midnight_2p{k}` file: embedded for k <= 14, else read from the params directories. */
function paramsFile(k, paramsDirs) {
  if (k <= 14) return root.params(k)
  const name = `bls_midnight_2p${k}`
  const dir = paramsDirs.find((d) => fs.existsSync(path.join(d, name)))
  if (!dir) throw new root.ProverError('PARAMS_NOT_FOUND', `${name} not found in ${paramsDirs.join(', ')}`)
  return new Uint8Array(fs.readFileSync(path.join(dir, name)))
}

/** A zkir-v2 style key-material provider answering the key material one request carried. */
function materialProvider(material, paramsDirs) {
  return {
    lookupKey: async () => material,
    getParams: async (k) => paramsFile(k, paramsDirs),
  }
}

/** The prover's own circuits (found by key location in `--keys`) as a ProvingProvider. */
function ownCircuits(prover) {
  if (typeof prover.asProvingProvider === 'function') return prover.asProvingProvider()
  return {
    check: (preimage, keyLocation) => prover.check(keyLocation, preimage),
    prove: (preimage, keyLocation, bindingInput) =>
      prover.prove(keyLocation, preimage, bindingInput === undefined ? {} : { bindingInput }).then((r) => r.proof),
  }
}

/**
 * The one routing decision: a request that carries key material is proved with that material
 * (through `provingProvider`, whose key cache is by content, so the same contract's keys are
 * deserialized once); one without is proved with the circuits the server was started with
 * (`--keys`, and the ledger's built-in `midnight/...` circuits).
 */
function providerFor({ prover, paramsDirs }, material) {
  if (material && typeof root.provingProvider === 'function') return root.provingProvider(materialProvider(material, paramsDirs))
  return ownCircuits(prover)
}

const asBytes = (buf) => new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)

// Each request is decoded at once (a malformed body is a 400 whatever the load, as in the proof
// server) and returns the work to run once the job is admitted.

/** `/prove`: createProvingPayload bytes in, tagged ProofVersioned out. */
function proveRequest(engine, body) {
  const req = nativeSync(() => binding.decodeProveRequest(body))
  const material = req.proverKey && { proverKey: asBytes(req.proverKey), verifierKey: asBytes(req.verifierKey), ir: asBytes(req.ir) }
  return async () => {
    const proof = await providerFor(engine, material).prove(asBytes(req.preimage), req.keyLocation, req.bindingInput)
    return nativeSync(() => binding.encodeProofResponse(proof))
  }
}

/** `/check`: createCheckPayload bytes in, tagged Vec<Option<u64>> (parseCheckResult's input) out. */
function checkRequest(engine, body) {
  const req = nativeSync(() => binding.decodeCheckRequest(body))
  const material = req.ir && { ir: asBytes(req.ir) }
  return async () => {
    const skips = await providerFor(engine, material).check(asBytes(req.preimage), req.keyLocation)
    return nativeSync(() => binding.encodeCheckResponse(skips.map((s) => (s === undefined ? null : BigInt(s)))))
  }
}

/** `/k`: a tagged ZKIR v2 IR in, its k out. */
function kRequest(body) {
  return nativeSync(() => binding.irK(body))
}

module.exports = { proveRequest, checkRequest, kRequest, providerFor }
