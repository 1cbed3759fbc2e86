'use strict'
// Key material from a zkir-v2 style kmProvider (`lookupKey(location)`, `getParams(k)`).
const { ProverError } = require('./errors')

/** A thrown value as text, whatever it is. */
const describe = (err) => (err instanceof Error ? err.message : String(err))

/** Key material a kmProvider answered for `location`; only a lookup makes one. */
class KeyMaterial {
  constructor(location, { proverKey, verifierKey, ir }) {
    Object.assign(this, { location, proverKey, verifierKey, ir })
  }
}

/**
 * Looks key material up through a zkir-v2 style kmProvider. The awaiting happens here, on the
 * event loop: no native thread ever waits for JavaScript, and nothing is kept alive meanwhile.
 * Throws INVALID_ARGUMENT at once for a kmProvider without `lookupKey`. The lookup resolves to
 * a {@link KeyMaterial}, or to `undefined` when the kmProvider has none for the location.
 */
function keyMaterialLookup(kmProvider) {
  if (typeof kmProvider?.lookupKey !== 'function') {
    throw new ProverError('INVALID_ARGUMENT', 'kmProvider must have lookupKey(keyLocation) (and getParams(k))')
  }
  return async (keyLocation) => {
    requireLocation(keyLocation)
    let parts
    try {
      const km = await kmProvider.lookupKey(keyLocation)
      if (km == null) return undefined
      // Read once, here: a getter that throws is the kmProvider's failure too.
      parts = { proverKey: km.proverKey, verifierKey: km.verifierKey, ir: km.ir }
    } catch (err) {
      throw new ProverError('CIRCUIT_NOT_FOUND', `kmProvider.lookupKey(${JSON.stringify(keyLocation)}) failed: ${describe(err)}`, { cause: err })
    }
    for (const [part, value] of Object.entries(parts)) {
      if (!(value instanceof Uint8Array)) {
        throw new ProverError('INVALID_ARGUMENT', `key material for ${JSON.stringify(keyLocation)}: ${part} must be a Uint8Array`)
      }
    }
    return new KeyMaterial(keyLocation, parts)
  }
}

/** `lookup`'s material for a proof or a check, which cannot go on without it. */
async function requiredMaterial(lookup, keyLocation) {
  const material = await lookup(keyLocation)
  if (!material) throw new ProverError('CIRCUIT_NOT_FOUND', `the kmProvider has no key material for ${JSON.stringify(keyLocation)}`)
  return material
}

/** Key locations are strings: circuit ids, built-ins' `midnight/…` or `contract:…` locations. */
function requireLocation(keyLocation) {
  if (typeof keyLocation !== 'string') throw new ProverError('INVALID_CIRCUIT_ID', `key location must be a string, got ${typeof keyLocation}`)
}

module.exports = { KeyMaterial, keyMaterialLookup, requiredMaterial, requireLocation, describe }
