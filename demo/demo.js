#!/usr/bin/env node
'use strict'
// `npm run demo`: proves and verifies real Midnight circuits with the native prover.
//  1. keygen for the ledger's zswap output and dust spend circuits (reproduces the official keys)
//  2. a Compact-layout directory with them, loaded through createProver({ circuitKeysPath })
//  3. proofs for preimages made by the official ledger client (@midnight-ntwrk/ledger-v8)
//  4. a ledger transaction proved through prover.asProvingProvider(), with the ledger's built-in
//     zswap output circuit (no key files: its prover key is derived once into a key cache), and
//     accepted by the ledger's wellFormed
const fs = require('node:fs')
const path = require('node:path')
const { createProver } = require('..')
const { ROOT, builtin, compactDir, keysFor, sha256 } = require('../__test__/support/fixtures')
const ledger = require('../__test__/support/ledger')

const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`

async function timed(what, fn) {
  const started = performance.now()
  const value = await fn()
  console.log(`  ${what}: ${seconds(performance.now() - started)}`)
  return value
}

async function main() {
  const circuits = { output: builtin('zswap/output'), dust_spend: builtin('dust/spend') }

  console.log('1. keygen (cached in .test-cache after the first run)')
  for (const [id, fx] of Object.entries(circuits)) {
    const keys = await timed(`${id}`, () => keysFor(fx.bzkir))
    const official = sha256(keys.proverKey) === fx.proverSha256 && Buffer.from(keys.verifierKey).equals(fs.readFileSync(fx.verifier))
    console.log(`    keys equal the official ones: ${official}`)
  }

  console.log('2. createProver on a Compact output directory')
  const dir = await compactDir(Object.fromEntries(Object.entries(circuits).map(([id, fx]) => [id, fx.bzkir])))
  const prover = await timed('createProver + preload', () => createProver({
    circuitKeysPath: dir,
    preloadCircuits: Object.keys(circuits),
    keyCachePath: path.join(ROOT, '.test-cache', 'builtin-keys'),
  }))
  const status = await prover.getStatus()
  for (const c of status.circuits) console.log(`    ${c.id}: k=${c.k} rows=${c.rows} key ${(c.proverKeyBytes / 2 ** 20).toFixed(1)} MiB serialized, loaded in ${c.loadMs.toFixed(0)} ms`)
  console.log(`    ${status.threads} prover threads, native memory ${(status.memory.nativeBytes / 2 ** 20).toFixed(0)} MiB`)

  console.log('3. proofs for preimages built by @midnight-ntwrk/ledger-v8')
  const [outputCall] = await ledger.capturePreimages(ledger.buildZswapOutputTx(1))
  const [dustCall] = await ledger.capturePreimages(ledger.buildDustSpendTx())
  for (const [id, call] of [['output', outputCall], ['dust_spend', dustCall]]) {
    const result = await prover.prove(id, call.preimage, { bindingInput: call.overwriteBindingInput })
    const ok = await prover.verify(id, result.proof, result.publicInputs)
    console.log(`  ${call.keyLocation} (k=${result.k}): proved in ${seconds(result.provingTimeMs)}, ${result.proof.length} bytes, verifies: ${ok}`)
  }

  console.log('4. a ledger transaction with 3 zswap outputs, through prover.asProvingProvider() and the built-in circuit')
  const provider = prover.asProvingProvider()
  const proven = await timed('tx.prove (3 proofs; the first run also derives the key)', () => ledger.proveTx(ledger.buildZswapOutputTx(3), provider))
  ledger.wellFormed(proven)
  console.log('  ledger wellFormed (native proof verification on): accepted')

  const end = await prover.getStatus()
  console.log(`  built-in prover keys derived in this run: ${end.keysDerived}`)
  console.log(`done: ${end.proofsCompleted} proofs, ${end.proofsFailed} failed, RSS now ${(end.memory.rssBytes / 2 ** 20).toFixed(0)} MiB`)
  await prover.close()
}

main().catch((err) => {
  console.error(`demo failed: ${err.code ?? ''} ${err.stack}`)
  process.exit(1)
})
