'use strict'
// `serve` behind the official client: midnight-js's httpClientProvingProvider /
// httpClientProofProvider (what dapps point at the proof server) proving against it on loopback.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const L = require('@midnight-ntwrk/ledger-v8')
const { createProver } = require('..')
const { compactDir, testCircuit, tempDir } = require('./support/fixtures')
const { serveWith, arithPreimage, post, text, emptyConfigProvider: emptyServeConfig } = require('./support/serve')
const { buildZswapOutputTx, capturePreimages, wellFormed } = require('./support/ledger')

let client // the ESM-only midnight-js packages
let dir
let server
let prover
before(async () => {
  client = {
    ...(await import('@midnight-ntwrk/midnight-js-http-client-proof-provider')),
    ...(await import('@midnight-ntwrk/midnight-js-types')),
  }
  dir = await compactDir({ arith: testCircuit('arith') })
  server = await serveWith(['--keys', dir])
  prover = await createProver({ circuitKeysPath: dir })
})
after(async () => {
  await server.close()
  await prover.close()
})

/** A midnight-js ZKConfigProvider over a Compact output directory, as a dapp configures one. */
function dirConfigProvider(root) {
  const read = (...parts) => new Uint8Array(fs.readFileSync(path.join(root, ...parts)))
  class DirConfigProvider extends client.ZKConfigProvider {
    async getZKIR(id) {
      return client.createZKIR(read('zkir', `${id}.zkir`))
    }
    async getProverKey(id) {
      return client.createProverKey(read('keys', `${id}.prover`))
    }
    async getVerifierKey(id) {
      return client.createVerifierKey(read('keys', `${id}.verifier`))
    }
  }
  return new DirConfigProvider()
}

/** One that has nothing (see support/serve.js). */
const emptyConfigProvider = () => emptyServeConfig(client)

test('httpClientProvingProvider proves and checks a circuit, with the dapp\'s key material and without', async () => {
  const preimage = arithPreimage()
  const direct = await prover.prove('arith', preimage)
  for (const configs of [dirConfigProvider(dir), emptyConfigProvider()]) {
    const provider = client.httpClientProvingProvider(server.url, configs)
    assert.deepEqual(await provider.check(preimage, 'arith'), await prover.check('arith', preimage))
    const proof = await provider.prove(preimage, 'arith', undefined)
    // What the ledger does with the answer: read it as a ProofVersioned (tagged 'proof-versioned').
    assert.equal(Buffer.from(proof.subarray(0, 25)).toString(), 'midnight:proof-versioned:')
    const asV5 = new Uint8Array(Buffer.concat([Buffer.from('midnight:proof[v5]:'), proof.subarray(26)]))
    assert.equal(await prover.verify('arith', asV5, direct.publicInputs), true)
  }
})

test('the client reads the status of a refused request: unknown circuit is a 400, not a retry or a hang', async () => {
  const provider = client.httpClientProvingProvider(server.url, emptyConfigProvider())
  await assert.rejects(provider.prove(arithPreimage('transfer'), 'transfer', undefined), /code="400"/)
})

test('httpClientProofProvider proves a ledger-v8 zswap transaction through serve, and it is well formed', async () => {
  // No key material is sent (the dapp's config provider has none for midnight/zswap/output): the
  // server resolves the built-in circuit by key location, deriving its prover key on first use.
  const builtin = await serveWith(['--key-cache', tempDir('mnp-serve-keys-')])
  try {
    const proofs = client.httpClientProofProvider(builtin.url, emptyConfigProvider())
    const proven = await proofs.proveTx(buildZswapOutputTx(2))
    assert.ok(proven.guaranteedOffer.outputs.every((o) => o.proof !== undefined))
    wellFormed(proven) // throws "Invalid proof …" if a proof does not verify natively
    const round = L.Transaction.deserialize('signature', 'proof', 'pre-binding', proven.serialize())
    wellFormed(round)
    // The official server's check_endpoint::processes_valid_request: a zswap output preimage with
    // no IR is checked against the built-in circuit's own IR.
    const [{ preimage }] = await capturePreimages(buildZswapOutputTx(1))
    const check = await post(builtin.url + '/check', L.createCheckPayload(preimage))
    assert.equal(check.status, 200, text(check.bytes))
    assert.ok(Array.isArray(L.parseCheckResult(check.bytes)))
  } finally {
    await builtin.close()
  }
})
