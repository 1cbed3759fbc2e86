'use strict'
// The wallet SDK proves through the ledger's ProvingProvider too: a wallet built on
// @midnight-ntwrk/wallet-sdk-capabilities hands `fromProvingProvider` our provider and proves
// its zswap and dust work in-process, with no proof server.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { createProver } = require('..')
const { tempDir } = require('./support/fixtures')
const ledger = require('./support/ledger')

let prover
let wallet // the ESM-only SDK and effect
before(async () => {
  prover = await createProver({ keyCachePath: tempDir('key-cache-wallet-') })
  wallet = { ...(await import('@midnight-ntwrk/wallet-sdk-capabilities/proving')), ...(await import('effect')) }
})
after(() => prover?.close())

test("a wallet's proving service over asProvingProvider proves zswap outputs the ledger accepts, and a dust spend", async () => {
  const service = wallet.fromProvingProvider(prover.asProvingProvider())
  const zswap = await wallet.Effect.runPromise(service.prove(ledger.buildZswapOutputTx(2)))
  assert.ok(ledger.wellFormed(zswap))
  assert.equal((await prover.getStatus()).proofsCompleted, 2)

  await wallet.Effect.runPromise(service.prove(ledger.buildDustSpendTx()))
  assert.equal((await prover.getStatus()).proofsCompleted, 3, 'the dust spend was proved by us')
})

test("a proof that fails reaches the wallet as its ProvingError, our error's text at the root of the causes", async () => {
  const pp = prover.asProvingProvider()
  const failing = { ...pp, prove: (preimage, location, binding) => pp.prove(preimage.subarray(0, 40), location, binding) }
  const exit = await wallet.Effect.runPromiseExit(wallet.fromProvingProvider(failing).prove(ledger.buildZswapOutputTx(1)))
  assert.equal(exit._tag, 'Failure')
  const error = exit.cause.error
  assert.equal(error._tag, 'Wallet.Proving')
  // The ledger's wasm passes our error on as text: the code is gone, its name and message stay.
  assert.match(error.cause.cause.message, /'prove' returned an error: ProverError: not a tagged-serialized ProofPreimage/)
})
