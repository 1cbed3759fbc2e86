'use strict'
const { ProverError } = require('./errors')

const LISTS = ['inputs', 'privateTranscript', 'publicTranscriptInputs', 'publicTranscriptOutputs']
const FIELDS = [...LISTS, 'bindingInput', 'communicationsCommitment']

function bad(message) {
  return new ProverError('INVALID_WITNESS', message)
}

/** One field element as the text the native side parses: bigint, safe integer, decimal or 0x-hex string. */
function fieldText(value, where) {
  switch (typeof value) {
    case 'bigint':
      return value.toString()
    case 'number':
      if (Number.isSafeInteger(value)) return value.toString()
      throw bad(`${where}: ${value} is not a safe integer; pass a bigint or a string`)
    case 'string':
      return value
    default:
      throw bad(`${where}: expected bigint, integer or string, got ${value === null ? 'null' : typeof value}`)
  }
}

function fieldList(value, where) {
  if (!Array.isArray(value)) throw bad(`${where} must be an array`)
  return value.map((v, i) => fieldText(v, `${where}[${i}]`))
}

/**
 * What the binding takes for a witness: the ledger's serialized preimage bytes as they are, or
 * the JSON witness with every field element as a string.
 */
function encodeWitness(witness) {
  if (witness instanceof Uint8Array) return witness
  if (witness === null || typeof witness !== 'object' || Array.isArray(witness)) {
    throw bad('witness must be an object { inputs, ... } or a Uint8Array holding a serialized ProofPreimage')
  }
  const unknown = Object.keys(witness).filter((k) => !FIELDS.includes(k))
  if (unknown.length) throw bad(`unknown witness field ${JSON.stringify(unknown[0])} (expected ${FIELDS.join(', ')})`)
  if (witness.inputs === undefined) throw bad('witness.inputs is required')
  const out = {}
  for (const name of LISTS) if (witness[name] !== undefined) out[name] = fieldList(witness[name], `witness.${name}`)
  if (witness.bindingInput !== undefined) out.bindingInput = fieldText(witness.bindingInput, 'witness.bindingInput')
  if (witness.communicationsCommitment !== undefined) {
    const pair = witness.communicationsCommitment
    if (!Array.isArray(pair) || pair.length !== 2) throw bad('witness.communicationsCommitment must be [commitment, randomness]')
    out.communicationsCommitment = fieldList(pair, 'witness.communicationsCommitment')
  }
  return JSON.stringify(out)
}

module.exports = { encodeWitness, fieldText }
