'use strict'
// Real Compact compiler output: arttt's clearMemos (k = 13) proved from the compiler's own
// directory (its IR and keys, untouched), with a witness derived in __test__/compact/README.md.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { createProver, params, serializePreimage } = require('..')
const { ARTTT, compactWitness } = require('./support/fixtures')
const { zkirProve, zkirCheck } = require('./support/zkir-peer')

const CIRCUIT = 'clearMemos'
const WITNESS = compactWitness(CIRCUIT)
const material = {
  proverKey: fs.readFileSync(path.join(ARTTT, 'keys', `${CIRCUIT}.prover`)),
  verifierKey: fs.readFileSync(path.join(ARTTT, 'keys', `${CIRCUIT}.verifier`)),
  ir: fs.readFileSync(path.join(ARTTT, 'zkir', `${CIRCUIT}.bzkir`)),
}
let prover
let proved

before(async () => {
  prover = await createProver({ circuitKeysPath: ARTTT, preloadCircuits: [CIRCUIT] })
  proved = await prover.prove(CIRCUIT, WITNESS)
})
after(() => prover.close())

/** The witness with one change made by `edit`. */
function changed(edit) {
  const w = structuredClone(WITNESS)
  edit(w)
  return w
}

test("clearMemos proves with the compiler's keys and verifies with its verifier key", async () => {
  assert.equal(proved.k, 13)
  assert.equal(proved.publicInputs.length, 47, 'binding input, commitment and the 45 declared inputs')
  assert.equal(await prover.verify(CIRCUIT, proved.proof, proved.publicInputs), true)
  const flipped = Uint8Array.from(proved.proof)
  flipped[flipped.length - 1] ^= 0x01
  assert.equal(await prover.verify(CIRCUIT, flipped, proved.publicInputs), false, 'a flipped proof byte')
  const otherStatement = proved.publicInputs.with(2, '2')
  assert.equal(await prover.verify(CIRCUIT, proved.proof, otherStatement), false, 'another statement')
})

test("zkir-v2's check agrees, and its proof of the same preimage verifies with ours", async () => {
  const preimage = serializePreimage(CIRCUIT, WITNESS)
  assert.deepEqual(await prover.check(CIRCUIT, preimage), await zkirCheck(preimage, material))
  const theirs = await zkirProve(preimage, material, (k) => params(k))
  assert.equal(theirs.length, proved.proof.length, 'same framing and proof size')
  assert.equal(await prover.verify(CIRCUIT, theirs, proved.publicInputs), true)
})

for (const [what, edit, message] of [
  ['a ledger read the circuit asserts on returns 0', (w) => (w.publicTranscriptOutputs[0] = '0'), /Public transcript input mismatch/],
  ['another caller key: its hash differs from the declared one', (w) => (w.privateTranscript[1] = '8'), /Public transcript input mismatch for input 18/],
  ['a key byte of 256 in an 8-bit input', (w) => (w.privateTranscript[0] = '256'), /not 8-bit/],
  ['another commitment randomness', (w) => (w.communicationsCommitment[1] = '2'), /Communications commitment mismatch/],
]) {
  test(`clearMemos rejects a witness where ${what}, and proves again after`, async () => {
    const bad = changed(edit)
    await assert.rejects(prover.check(CIRCUIT, bad), { code: 'WITNESS_UNSATISFIED', message })
    await assert.rejects(prover.prove(CIRCUIT, bad), { code: 'WITNESS_UNSATISFIED', message })
    const again = await prover.prove(CIRCUIT, WITNESS)
    assert.deepEqual(again.publicInputs, proved.publicInputs)
  })
}
