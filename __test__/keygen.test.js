'use strict'
// Keygen against the official artifacts: the ledger's built-in circuits and a real Compact
// compiler output directory. Keys are generated here, never taken from the test cache.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { keygen } = require('..')
const { ARTTT, builtin, freshKeys, sha256 } = require('./support/fixtures')

for (const name of ['zswap/output', 'zswap/sign', 'dust/spend']) {
  test(`keygen on builtin ${name} reproduces the official verifier and prover keys`, async () => {
    const fx = builtin(name)
    const keys = await freshKeys(fx.bzkir)
    assert.ok(Buffer.from(keys.verifierKey).equals(fs.readFileSync(fx.verifier)), 'verifier key differs')
    assert.equal(sha256(keys.proverKey), fx.proverSha256)
  })
}

// k of each circuit as listed in the fixtures' README; those above 14 need parameters we lack.
const ARTTT_K = {
  decimals: 6, name: 6, symbol: 6, totalSupply: 6, isRegistered: 9, allowance: 10, balanceOf: 10,
  pendingOf: 10, clearMemos: 13, register: 13, sweep: 13, burn: 14,
}

for (const [id, k] of Object.entries(ARTTT_K)) {
  test(`keygen reproduces the Compact compiler's keys for arttt ${id} (k=${k})`, async () => {
    const keys = await freshKeys(path.join(ARTTT, 'zkir', `${id}.bzkir`))
    assert.ok(Buffer.from(keys.verifierKey).equals(fs.readFileSync(path.join(ARTTT, 'keys', `${id}.verifier`))))
    const prover = path.join(ARTTT, 'keys', `${id}.prover`)
    if (fs.existsSync(prover)) assert.ok(Buffer.from(keys.proverKey).equals(fs.readFileSync(prover)))
  })
}

test('keygen reports k and accepts .zkir JSON text as well as .bzkir bytes', async () => {
  const json = fs.readFileSync(path.join(ARTTT, 'zkir', 'decimals.zkir'), 'utf8')
  const fromJson = await keygen(json)
  const fromBinary = await keygen(fs.readFileSync(path.join(ARTTT, 'zkir', 'decimals.bzkir')))
  assert.equal(fromJson.k, 6)
  assert.ok(Buffer.from(fromJson.verifierKey).equals(Buffer.from(fromBinary.verifierKey)))
})

test('keygen rejects non-IR with INVALID_IR and k > 14 without parameters with PARAMS_NOT_FOUND', async () => {
  await assert.rejects(keygen('{"version":{"major":9,"minor":0}}'), { code: 'INVALID_IR' })
  await assert.rejects(keygen(new Uint8Array([1, 2, 3])), { code: 'INVALID_IR' })
  await assert.rejects(keygen(42), { code: 'INVALID_ARGUMENT' })
  const approve = fs.readFileSync(path.join(ARTTT, 'zkir', 'approve.bzkir'))
  await assert.rejects(keygen(approve, { paramsPath: '/nonexistent-params' }), (err) => {
    assert.equal(err.code, 'PARAMS_NOT_FOUND')
    assert.match(err.message, /bls_midnight_2p15/)
    assert.match(err.message, /\/nonexistent-params/)
    return true
  })
})
