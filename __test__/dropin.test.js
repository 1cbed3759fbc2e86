'use strict'
// The drop-in for midnight-js: real ledger-v8 transactions proved through our ProvingProviders
// (the prover's own, zkir-v2's `provingProvider(kmProvider)` shape, midnight-js-types'
// createProofProvider) and accepted by the ledger's own wellFormed with native proof checks on.
// Built-in circuits come with no files: their prover keys are derived into a key cache.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { createProver, provingProvider } = require('..')
const { tempDir, sha256 } = require('./support/fixtures')
const ledger = require('./support/ledger')
const { kmProvider, zkirCheck } = require('./support/zkir-peer')

const OUTPUT = 'midnight/zswap/output'
let prover
let keyCache

before(async () => {
  keyCache = tempDir('key-cache-')
  prover = await createProver({ keyCachePath: keyCache })
})
after(() => prover?.close())

const cachedKey = (dir, location) => {
  const [, group, name] = location.split('/')
  return path.join(dir, 'midnight', group, 'keys', `${name}.prover`)
}
const officialSha = (location) => ledger.fixtureKeyMaterial(location).proverKeySha256Expected

/** Key material as a dapp's kmProvider hands it over: fresh copies on every lookup. */
function dappKeyMaterial() {
  const material = ledger.fixtureKeyMaterial(OUTPUT, cachedKey(keyCache, OUTPUT))
  return kmProvider((location) => location === OUTPUT && {
    proverKey: Uint8Array.from(material.proverKey),
    verifierKey: Uint8Array.from(material.verifierKey),
    ir: Uint8Array.from(material.ir),
  }, () => { throw new Error('getParams must not be needed for k <= 14') })
}

test('a 3-output transaction proves through asProvingProvider with no key files; the output key is derived once', async () => {
  const tx = ledger.buildZswapOutputTx(3)
  const proven = await ledger.proveTx(tx, prover.asProvingProvider())
  assert.ok(ledger.wellFormed(proven), 'the ledger accepts the proven transaction')
  const status = await prover.getStatus()
  assert.equal(status.keysDerived, 1, 'three concurrent first uses derive the key once')
  assert.equal(status.proofsCompleted, 3)
  assert.equal(sha256(fs.readFileSync(cachedKey(keyCache, OUTPUT))), officialSha(OUTPUT), 'the derived key is the official one')
  assert.ok(status.availableCircuits.includes('midnight/dust/spend'))
})

test('a 1-output transaction proves through asProvingProvider; check agrees with zkir-v2', async () => {
  const tx = ledger.buildZswapOutputTx(1)
  const [call] = await ledger.capturePreimages(tx)
  const pp = prover.asProvingProvider()
  assert.deepEqual(await pp.check(call.preimage, OUTPUT), await zkirCheck(call.preimage, ledger.fixtureKeyMaterial(OUTPUT)))
  assert.ok(ledger.wellFormed(await ledger.proveTx(tx, pp)))
  assert.equal((await prover.getStatus()).keysDerived, 1, 'the key cache is reused')
})

test('a transaction whose proof bytes were tampered with is rejected by wellFormed', async () => {
  const pp = prover.asProvingProvider()
  const tampering = {
    check: pp.check,
    prove: async (...args) => {
      const proof = Uint8Array.from(await pp.prove(...args))
      proof[proof.length - 40] ^= 0x01
      return proof
    },
  }
  const proven = await ledger.proveTx(ledger.buildZswapOutputTx(1), tampering)
  assert.throws(() => ledger.wellFormed(proven), /proof/i)
})

test("provingProvider(kmProvider) has zkir-v2's shape and proves 1- and 3-output transactions", async () => {
  const pp = provingProvider(dappKeyMaterial())
  for (const n of [1, 3]) {
    const proven = await ledger.proveTx(ledger.buildZswapOutputTx(n), pp)
    assert.ok(ledger.wellFormed(proven), `${n} output(s)`)
  }
  await assert.rejects(pp.prove(new Uint8Array(8), 'midnight/zswap/spend'), { code: 'CIRCUIT_NOT_FOUND' })
  assert.throws(() => provingProvider({}), { code: 'INVALID_ARGUMENT' })
})

test('key material handed in again, as fresh copies, is not loaded again (cached by content)', async () => {
  const own = await createProver({ keyCachePath: keyCache })
  try {
    const pp = own.provingProvider(dappKeyMaterial())
    await ledger.proveTx(ledger.buildZswapOutputTx(2), pp)
    await ledger.proveTx(ledger.buildZswapOutputTx(1), pp)
    const status = await own.getStatus()
    assert.equal(status.proofsCompleted, 3)
    assert.deepEqual(status.loadedCircuits, [OUTPUT], 'one circuit loaded for three lookups of copied material')
  } finally {
    await own.close()
  }
})

test("midnight-js-types' createProofProvider proves with our ProvingProvider", async () => {
  const { createProofProvider } = await import('@midnight-ntwrk/midnight-js-types')
  const proofProvider = createProofProvider(prover.asProvingProvider())
  const proven = await proofProvider.proveTx(ledger.buildZswapOutputTx(2))
  assert.ok(ledger.wellFormed(proven))
})

test('a truncated or altered cached prover key is detected and rebuilt', async () => {
  const file = cachedKey(keyCache, OUTPUT)
  const spoilers = {
    truncated: () => fs.truncateSync(file, 1000),
    altered: () => {
      const bytes = fs.readFileSync(file)
      bytes[bytes.length >> 1] ^= 0xff
      fs.writeFileSync(file, bytes)
    },
  }
  for (const [how, spoil] of Object.entries(spoilers)) {
    spoil()
    const fresh = await createProver({ keyCachePath: keyCache })
    try {
      const proven = await ledger.proveTx(ledger.buildZswapOutputTx(1), fresh.asProvingProvider())
      assert.ok(ledger.wellFormed(proven), how)
      assert.equal((await fresh.getStatus()).keysDerived, 1, `${how}: derived again`)
      assert.equal(sha256(fs.readFileSync(file)), officialSha(OUTPUT), `${how}: the cache holds the official key again`)
    } finally {
      await fresh.close()
    }
  }
})

test('an unwritable key cache is a clear error, not a crash', async () => {
  const blocked = path.join(tempDir('blocked-'), 'file')
  fs.writeFileSync(blocked, 'not a directory')
  const p = await createProver({ keyCachePath: blocked })
  try {
    await assert.rejects(p.preload(['midnight/zswap/sign']), { code: 'KEY_CACHE_UNWRITABLE' })
  } finally {
    await p.close()
  }
})

test('the dust spend built-in proves a ledger preimage with its overwriteBindingInput, with the official key', async () => {
  const [call] = await ledger.capturePreimages(ledger.buildDustSpendTx())
  assert.equal(call.keyLocation, 'midnight/dust/spend')
  const proof = await prover.asProvingProvider().prove(call.preimage, call.keyLocation, call.overwriteBindingInput)
  const { publicInputs } = await prover.prove(call.keyLocation, call.preimage, { bindingInput: call.overwriteBindingInput })
  assert.equal(await prover.verify(call.keyLocation, proof, publicInputs), true, 'verifies with the official verifier key')
  assert.equal(sha256(fs.readFileSync(cachedKey(keyCache, call.keyLocation))), officialSha(call.keyLocation))
})

test('the zswap spend built-in (k = 15) names the parameters file it needs', async () => {
  const p = await createProver({ keyCachePath: keyCache, paramsPath: tempDir('no-params-') })
  try {
    await assert.rejects(p.preload(['midnight/zswap/spend']), (err) => {
      assert.equal(err.code, 'PARAMS_NOT_FOUND')
      assert.match(err.message, /bls_midnight_2p15/)
      return true
    })
  } finally {
    await p.close()
  }
})
