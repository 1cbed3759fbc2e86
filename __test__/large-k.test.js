'use strict'
// Circuits past k = 14, the sizes users wait longest for: every shielded spend is k = 15, contract
// transfers and mints are k = 15-16. Midnight's bls_midnight_2p15/16 cannot be fetched offline, so
// the run makes development parameters (devParams) and keys on them (keygen), then proves real
// circuits: chains, arttt's mint, and the ledger's own zswap spend with a ledger-made preimage.
const { test, before } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { createProver, devParams, keygen } = require('..')
const { ARTTT, builtin, compactWitness, tempDir, testCircuit, witness } = require('./support/fixtures')
const { zswapSpendPreimage } = require('./support/spend-preimage')

const MiB = 2 ** 20
const CIRCUITS = {
  bench_k15: testCircuit('bench_k15'),
  bench_k16: testCircuit('bench_k16'),
  mint: path.join(ARTTT, 'zkir', 'mint.bzkir'),
  spend: builtin('zswap/spend').bzkir,
}
let paramsPath
let dir
const dev = (options) => ({ paramsPath, allowUnpinnedParams: true, ...options })

before(async () => {
  paramsPath = tempDir('mnp-dev-params-')
  for (const k of [15, 16]) await devParams(k, { out: paramsPath })
  dir = tempDir()
  for (const sub of ['keys', 'zkir']) fs.mkdirSync(path.join(dir, sub))
  for (const [id, irPath] of Object.entries(CIRCUITS)) {
    const ir = fs.readFileSync(irPath)
    fs.writeFileSync(path.join(dir, 'zkir', id + path.extname(irPath)), ir)
    const keys = await keygen(ir, dev())
    fs.writeFileSync(path.join(dir, 'keys', `${id}.prover`), keys.proverKey)
    fs.writeFileSync(path.join(dir, 'keys', `${id}.verifier`), keys.verifierKey)
  }
})

/** Proves `id`, then checks that the proof verifies and that a flipped byte or another statement does not. */
async function provesAndVerifies(prover, id, input, k) {
  const result = await prover.prove(id, input)
  assert.equal(result.k, k)
  assert.equal(await prover.verify(id, result.proof, result.publicInputs), true, `${id} verifies`)
  const flipped = Uint8Array.from(result.proof)
  flipped[flipped.length - 40] ^= 0x01
  assert.equal(await prover.verify(id, flipped, result.publicInputs), false, `${id}: a flipped proof byte`)
  const other = result.publicInputs.with(0, '1')
  assert.equal(await prover.verify(id, result.proof, other), false, `${id}: another statement`)
  return result
}

test('development parameters are labelled unsafe, and nothing takes them without allowUnpinnedParams', async () => {
  const file = path.join(paramsPath, 'bls_midnight_2p15')
  const tail = fs.readFileSync(file).subarray(-300).toString('latin1')
  assert.match(tail, /UNSAFE DEVELOPMENT PARAMETERS/)
  const again = tempDir('mnp-dev-params-')
  await devParams(15, { out: again })
  assert.deepEqual(fs.readFileSync(path.join(again, 'bls_midnight_2p15')), fs.readFileSync(file), 'the same seed gives the same file')
  await assert.rejects(keygen(fs.readFileSync(CIRCUITS.bench_k15), { paramsPath }), { code: 'PARAMS_MISMATCH' })
  const strict = await createProver({ circuitKeysPath: dir, paramsPath })
  await assert.rejects(strict.prove('bench_k15', witness('bench_k15.witness.json')), { code: 'PARAMS_MISMATCH' })
  await strict.close()
  for (const k of [14, 21]) await assert.rejects(devParams(k, { out: again }), { code: 'INVALID_ARGUMENT' })
})

test('chain circuits at k = 15 and 16: keygen, prove and verify on development parameters; tampering is rejected', async () => {
  const prover = await createProver(dev({ circuitKeysPath: dir }))
  await provesAndVerifies(prover, 'bench_k15', witness('bench_k15.witness.json'), 15)
  const before = (await prover.getStatus()).msm.commitments
  await provesAndVerifies(prover, 'bench_k16', witness('bench_k16.witness.json'), 16)
  // Every commitment goes through our MSM engine, at full size: it counts them.
  const { msm } = await prover.getStatus()
  assert.ok(msm.commitments >= before + 10 && msm.largestCommitment >= 2 ** 16, `commitments ${before} -> ${msm.commitments}, largest ${msm.largestCommitment}`)
  await assert.rejects(prover.prove('bench_k16', witness('bench_k16.bad.witness.json')), { code: 'WITNESS_UNSATISFIED' })
  const status = await prover.getStatus()
  assert.deepEqual(status.circuits.map((c) => [c.id, c.k, c.params]).sort(), [['bench_k15', 15, 'development'], ['bench_k16', 16, 'development']])
  const k16Vectors = status.msm.vectors.filter((v) => v.points === 2 ** 16)
  assert.ok(k16Vectors.some((v) => v.path === 'fixed' && v.fixedBytes > 0), `k = 16 commitments take fixed-base tables with no limit: ${JSON.stringify(status.msm.vectors)}`)
  await prover.close()
})

test("arttt's mint (k = 15): the Compact compiler's IR, keys made on development parameters, a real witness", async () => {
  const prover = await createProver(dev({ circuitKeysPath: dir }))
  await provesAndVerifies(prover, 'mint', compactWitness('mint'), 15)
  await prover.close()
})

test('the ledger zswap spend (k = 15): its official IR with development keys proves a preimage the ledger made', async () => {
  const { preimage, keyLocation } = await zswapSpendPreimage()
  assert.equal(keyLocation, 'midnight/zswap/spend')
  const prover = await createProver(dev({ circuitKeysPath: dir }))
  const result = await provesAndVerifies(prover, 'spend', preimage, 15)
  assert.equal(result.publicInputs.length > 2, true)
  await prover.close()
})

test('memory budget at k = 15 and 16: the idle k = 15 circuit is evicted for a k = 16 proof, which completes under the limit', async () => {
  // Held memory with the k = 16 circuit loaded, and what a fresh prover's first k = 16 proof
  // reserves (an estimate until a proof is measured), under a limit whose eighth (the fixed-base
  // tables' share) leaves every vector on the plain MSM path, as under the limit below.
  const probe = await createProver(dev({ circuitKeysPath: dir, memoryLimit: 900, preloadCircuits: ['bench_k16'] }))
  const probed = await probe.getStatus()
  await probe.close()
  // Room for the k = 16 circuit, its proof and the k = 15 parameters (about 16 MiB), not for
  // the k = 15 circuit (its key alone is over 100 MiB) beside them.
  const limit = probed.memory.budget.heldBytes + probed.circuits[0].reserveBytes + 32 * MiB
  const prover = await createProver(dev({ circuitKeysPath: dir, memoryLimit: limit / MiB, preloadCircuits: ['bench_k15'] }))
  assert.ok((await prover.getStatus()).circuits[0].loadBytes > 100 * MiB, 'the k = 15 circuit takes more than the slack')
  const before = await prover.getStatus()
  assert.deepEqual(before.loadedCircuits, ['bench_k15'])
  const result = await prover.prove('bench_k16', witness('bench_k16.witness.json'))
  assert.equal(await prover.verify('bench_k16', result.proof, result.publicInputs), true)
  const after = await prover.getStatus()
  assert.deepEqual(after.loadedCircuits, ['bench_k16'], 'the idle k = 15 circuit made room')
  assert.ok(after.cache.evicted >= 1)
  const plain = after.msm.vectors.filter((v) => v.points === 2 ** 16 && v.path === 'plain')
  assert.ok(plain.some((v) => /memoryLimit/.test(v.reason) && v.fixedBytes === 0), `tables past memoryLimit / 8 are left out, and status says why: ${JSON.stringify(after.msm.vectors)}`)
  assert.ok(after.memory.budget.heldBytes <= limit, `held ${after.memory.budget.heldBytes} <= limit ${limit}`)
  await prover.close()
})
