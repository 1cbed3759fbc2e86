'use strict'
// Cross-implementation with the official wasm prover @midnight-ntwrk/zkir-v2: for the same
// preimage and keys, its proofs verify with ours, its framing is ours, its check agrees.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const { createProver, params, serializePreimage } = require('..')
const { compactDir, testCircuit, witness, builtin, keysFor } = require('./support/fixtures')
const { zkirProve, zkirCheck } = require('./support/zkir-peer')
const ledger = require('./support/ledger')

const TAG = Buffer.from('midnight:proof[v5]:')
let prover
const material = {}

before(async () => {
  const circuits = { arith: testCircuit('arith'), transcript: testCircuit('transcript'), output: builtin('zswap/output').bzkir }
  prover = await createProver({ circuitKeysPath: await compactDir(circuits) })
  const { jsonIrToBinary } = require('@midnight-ntwrk/zkir-v2')
  for (const [id, irPath] of Object.entries(circuits)) {
    const keys = await keysFor(irPath)
    const ir = irPath.endsWith('.zkir') ? jsonIrToBinary(fs.readFileSync(irPath, 'utf8')) : fs.readFileSync(irPath)
    material[id] = { proverKey: keys.proverKey, verifierKey: keys.verifierKey, ir }
  }
})
after(() => prover.close())

/** Proves `preimage` with both provers and checks each side against the other. */
async function crossProve(id, preimage) {
  const ours = await prover.prove(id, preimage)
  const theirs = await zkirProve(preimage, material[id], (k) => params(k))
  assert.ok(Buffer.from(theirs).subarray(0, TAG.length).equals(TAG), 'zkir-v2 frames proofs as proof[v5]')
  assert.ok(Buffer.from(ours.proof).subarray(0, TAG.length).equals(TAG), 'we frame proofs as proof[v5]')
  assert.equal(ours.proof.length, theirs.length, 'same framing and proof size')
  assert.equal(await prover.verify(id, theirs, ours.publicInputs), true, "zkir-v2's proof verifies with ours")
  const tampered = Uint8Array.from(theirs)
  tampered[tampered.length - 1] ^= 0x80
  assert.equal(await prover.verify(id, tampered, ours.publicInputs), false)
  return ours
}

for (const id of ['arith', 'transcript']) {
  test(`${id}: same preimage, zkir-v2 and native proofs cross-verify; check agrees`, async () => {
    const preimage = serializePreimage(id, witness(`${id}.witness.json`))
    const ours = await crossProve(id, preimage)
    const fromJson = await prover.prove(id, witness(`${id}.witness.json`))
    assert.deepEqual(fromJson.publicInputs, ours.publicInputs, 'JSON and serialized witnesses prove the same statement')
    assert.deepEqual(await prover.check(id, preimage), await zkirCheck(preimage, material[id]))
  })
}

test('zswap output (k=14) preimage from a real ledger-v8 transaction: cross-verifies with zkir-v2', async () => {
  const [call] = await ledger.capturePreimages(ledger.buildZswapOutputTx(1))
  assert.equal(call.keyLocation, 'midnight/zswap/output')
  const ours = await crossProve('output', call.preimage)
  assert.equal(ours.k, 14)
})
