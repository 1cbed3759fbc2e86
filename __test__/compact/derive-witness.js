'use strict'
// Derives a satisfying witness for a Compact circuit whose public transcript is all the caller
// has to work out: given the circuit's private inputs and the values its ledger reads return,
// it runs the circuit (`prover.check`) and fills each public transcript input with the value
// the check says it computed, until the check passes. Prints the witness JSON.
//
//   node __test__/compact/derive-witness.js <compact dir> <circuit> '<partial witness JSON>'
//
// The partial witness gives `inputs`, `privateTranscript`, `publicTranscriptOutputs` and the
// communications commitment ([transientHash([randomness, ...inputs, ...outputs]), randomness]).
const { createProver } = require('../..')

const MISMATCH = /mismatch for input (\d+); expected: (?:None|Some\([\w-]+\)), computed: Some\(([\w-]+)\)/

/** midnight-zkir prints a field as little-endian hex without trailing zero bytes, "-" for 0. */
function fieldFromDisplay(text) {
  if (text === '-') return '0'
  const even = text.length % 2 ? `0${text}` : text
  return `0x${even.match(/../g).reverse().join('')}`
}

async function derive(dir, circuit, partial) {
  const prover = await createProver({ circuitKeysPath: dir })
  const witness = { publicTranscriptInputs: [], ...partial }
  try {
    for (;;) {
      try {
        await prover.check(circuit, witness)
        return witness
      } catch (err) {
        const m = MISMATCH.exec(err.message)
        if (!m || Number(m[1]) > witness.publicTranscriptInputs.length) throw err
        witness.publicTranscriptInputs[Number(m[1])] = fieldFromDisplay(m[2])
      }
    }
  } finally {
    await prover.close()
  }
}

const [dir, circuit, partial] = process.argv.slice(2)
derive(dir, circuit, JSON.parse(partial)).then(
  (w) => console.log(JSON.stringify(w, ['inputs', 'privateTranscript', 'publicTranscriptInputs', 'publicTranscriptOutputs', 'bindingInput', 'communicationsCommitment'], 2)),
  (err) => {
    console.error(err)
    process.exit(1)
  },
)
