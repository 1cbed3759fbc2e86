'use strict'
// Circuits written for this project (ZKIR v2 JSON in __test__/circuits), covering the instruction
// families: they prove and verify; tampering is caught; unsatisfied witnesses are rejected.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { createProver } = require('..')
const { compactDir, testCircuit, witness, expected } = require('./support/fixtures')

const NAMES = ['arith', 'compare_bits', 'hashes', 'ecc', 'transcript']
let prover

before(async () => {
  const dir = await compactDir(Object.fromEntries(NAMES.map((n) => [n, testCircuit(n)])))
  prover = await createProver({ circuitKeysPath: dir })
})
after(() => prover.close())

for (const name of NAMES) {
  test(`${name}: proves, verifies, and rejects tampering`, async () => {
    const result = await prover.prove(name, witness(`${name}.witness.json`))
    assert.equal(result.circuitId, name)
    assert.equal(result.k, expected[name].k)
    assert.deepEqual(result.publicInputs, expected[name].publicInputs.map(BigInt))
    assert.equal(await prover.verify(name, result.proof, result.publicInputs), true)

    const tampered = result.proof.slice()
    tampered[tampered.length - 40] ^= 1
    assert.equal(await prover.verify(name, tampered, result.publicInputs), false, 'tampered proof verified')
    const wrongInputs = result.publicInputs.map((v, i) => (i === result.publicInputs.length - 1 ? v + 1n : v))
    assert.equal(await prover.verify(name, result.proof, wrongInputs), false, 'wrong public input verified')

    await assert.rejects(prover.prove(name, witness(`${name}.bad.witness.json`)), { code: 'WITNESS_UNSATISFIED' })
  })
}

test('the unsatisfied-witness message says which constraint failed', async () => {
  await assert.rejects(prover.prove('arith', witness('arith.bad.witness.json')), (err) => {
    assert.equal(err.code, 'WITNESS_UNSATISFIED')
    assert.match(err.message, /Failed equality constraint/)
    return true
  })
  await assert.rejects(prover.check('transcript', witness('transcript.bad.witness.json')), /Communications commitment mismatch/)
  await assert.rejects(prover.prove('arith', witness('arith.bad-nonbool.witness.json')), { code: 'WITNESS_UNSATISFIED' })
  await assert.rejects(prover.prove('arith', witness('arith.bad-wrongpub.witness.json')), { code: 'WITNESS_UNSATISFIED' })
  await assert.rejects(prover.prove('transcript', witness('transcript.bad-unconsumed.witness.json')), /not fully consumed/)
  await assert.rejects(prover.prove('transcript', witness('transcript.bad-noprivate.witness.json')), { code: 'WITNESS_UNSATISFIED' })
})

test('check returns the public-input skips like zkir-v2 (undefined for taken blocks)', async () => {
  const skips = await prover.check('transcript', witness('transcript.witness.json'))
  assert.deepEqual(skips, expected.transcript.piSkips.map((s) => (s === null ? undefined : BigInt(s))))
  assert.ok(skips.some((s) => typeof s === 'bigint'), 'transcript has a skipped block')
})

test('field elements may be bigint, safe integers, decimal or hex strings', async () => {
  const w = witness('arith.witness.json')
  const asBigints = { ...w, inputs: w.inputs.map((v) => BigInt(v)) }
  const asHex = { ...w, inputs: w.inputs.map((v) => '0x' + BigInt(v).toString(16)) }
  const a = await prover.prove('arith', asBigints)
  const b = await prover.prove('arith', asHex)
  assert.deepEqual(a.publicInputs, b.publicInputs)
})

test('bindingInput option overrides the witness binding input and is part of the statement', async () => {
  const plain = await prover.prove('arith', witness('arith.witness.json'))
  const bound = await prover.prove('arith', witness('arith.witness.json'), { bindingInput: 77n })
  assert.notDeepEqual(bound.publicInputs, plain.publicInputs)
  assert.ok(bound.publicInputs.includes(77n))
  assert.equal(await prover.verify('arith', bound.proof, bound.publicInputs), true)
  assert.equal(await prover.verify('arith', bound.proof, plain.publicInputs), false)
})
