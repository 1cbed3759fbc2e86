'use strict'
// What the bench proves: the circuits (with the preimage bytes every prover gets) and the
// ledger-transaction row. Everything comes from the shared test helpers, so the bench proves
// exactly what the tests prove.
const fs = require('node:fs')
const path = require('node:path')
const { serializePreimage } = require('..')
const { testCircuit, witness, compactWitness, builtin, keysFor, ARTTT } = require('../__test__/support/fixtures')
const ledger = require('../__test__/support/ledger')
const { zswapSpendPreimage, buildSpendTx } = require('../__test__/support/spend-preimage')
const { ensureChain } = require('../__test__/circuits/make-chain')

/** Tagged preimage bytes of circuit `id` with the witness `read(id)`; its key location is the circuit id. */
const preimageWith = (read) => (id) => async () => ({ bytes: serializePreimage(id, read(id)), bindingInput: undefined })
/** One of our test circuits, with its witness from __test__/circuits. */
const ownPreimage = preimageWith((id) => witness(`${id}.witness.json`))
/** A real Compact circuit of the fixtures, with its witness from __test__/compact. */
const compactPreimage = preimageWith(compactWitness)

/**
 * The preimage ledger-v8 hands its ProvingProvider when proving `buildTx()`, recorded with
 * dummy proofs. The dust spend comes with an overwriteBindingInput, which every prover applies.
 */
function ledgerPreimage(location, buildTx) {
  return async () => {
    const calls = await ledger.capturePreimages(buildTx())
    if (calls.length !== 1 || calls[0].keyLocation !== location) {
      throw new Error(`expected one proof of ${location}, ledger asked for [${calls.map((c) => c.keyLocation)}]`)
    }
    return { bytes: calls[0].preimage, bindingInput: calls[0].overwriteBindingInput }
  }
}

const ZSWAP_OUTPUT = 'midnight/zswap/output'
const zswapOutput = {
  name: ZSWAP_OUTPUT, id: 'zswap_output', k: 14, tags: ['k14', 'zswap'], ir: builtin('zswap/output').bzkir,
  preimage: ledgerPreimage(ZSWAP_OUTPUT, () => ledger.buildZswapOutputTx(1)),
}

const ZSWAP_SPEND = 'midnight/zswap/spend'
const SPEND_IR = builtin('zswap/spend').bzkir

/**
 * A chain past k = 14. `dev`: Midnight's bls_midnight_2p{k} cannot be had offline, so these rows
 * prove on development parameters (bench.js makes them), the addon and the floor on the same
 * files and keys, and zkir-v2 is left out (minutes per proof).
 */
const largeChain = (k) => ({ name: `bench_k${k}`, id: `bench_k${k}`, k, dev: true, tags: [`k${k}`, 'large'], ir: testCircuit(`bench_k${k}`), preimage: ownPreimage(`bench_k${k}`) })

/** Where chains too large for the repository are made (`ensureChain`), beside the bench's other caches. */
const CHAINS = path.join(__dirname, '..', '.test-cache', 'chains')

/**
 * The manual row at k = 20, run only when BENCH_ONLY names it (`manual`, `k20` or `bench_k20`):
 * 47,000 hashes, minutes per proof, development parameters (4 minutes to make) and keys made on
 * them. Its IR and witness are made into .test-cache/chains on first use (`prepare`).
 */
const manualChain = (k) => ({
  ...largeChain(k),
  manual: true,
  tags: [`k${k}`, 'manual'],
  ir: path.join(CHAINS, `bench_k${k}.zkir`),
  prepare: () => ensureChain(k, CHAINS),
  preimage: preimageWith(() => JSON.parse(fs.readFileSync(path.join(CHAINS, `bench_k${k}.witness.json`), 'utf8')))(`bench_k${k}`),
})

/**
 * Rows in print order. bench_k6 to bench_k14 are one synthetic family: the longest chain of
 * transient hashes that fits each k (46 hashes at k = 10, 92, 185, 371, 744 at k = 14), showing
 * how the gain scales with k. `id` is the circuit id in the bench's Compact directory, `ir` its IR file,
 * `k` what it should load as (checked), `tags` what BENCH_ONLY matches besides the name.
 */
const CASES = [
  { name: 'bench_k6', id: 'bench_k6', k: 6, tags: ['k6'], ir: testCircuit('bench_k6'), preimage: ownPreimage('bench_k6') },
  { name: 'bench_k10', id: 'bench_k10', k: 10, tags: ['k10'], ir: testCircuit('bench_k10'), preimage: ownPreimage('bench_k10') },
  { name: 'bench_k11', id: 'bench_k11', k: 11, tags: ['k11'], ir: testCircuit('bench_k11'), preimage: ownPreimage('bench_k11') },
  { name: 'bench_k12', id: 'bench_k12', k: 12, tags: ['k12'], ir: testCircuit('bench_k12'), preimage: ownPreimage('bench_k12') },
  { name: 'bench_k13', id: 'bench_k13', k: 13, tags: ['k13'], ir: testCircuit('bench_k13'), preimage: ownPreimage('bench_k13') },
  { name: 'bench_k14', id: 'bench_k14', k: 14, tags: ['k14'], ir: testCircuit('bench_k14'), preimage: ownPreimage('bench_k14') },
  // Real Compact compiler output (arttt, compactc 0.31.1): a persistent hash and ledger reads and writes.
  {
    name: 'arttt clearMemos (Compact)', id: 'clearMemos', k: 13, tags: ['k13', 'compact'],
    ir: path.join(ARTTT, 'zkir', 'clearMemos.bzkir'), preimage: compactPreimage('clearMemos'),
  },
  {
    name: 'midnight/dust/spend', id: 'dust_spend', k: 13, tags: ['k13', 'dust'], ir: builtin('dust/spend').bzkir,
    preimage: ledgerPreimage('midnight/dust/spend', () => ledger.buildDustSpendTx()),
  },
  zswapOutput,
  // The same proof on a prover (and a floor) of 1 thread: shows that `threads` bounds the CPU.
  { ...zswapOutput, name: `${ZSWAP_OUTPUT}, threads: 1`, threads: 1, tags: ['threads1'] },
  {
    name: 'ledger tx: 1 zswap output', id: 'zswap_output', k: 14, tags: ['k14', 'tx'], ir: builtin('zswap/output').bzkir,
    tx: { irs: { [ZSWAP_OUTPUT]: builtin('zswap/output').bzkir }, build: () => ledger.buildZswapOutputTx(1) },
  },
  largeChain(15),
  largeChain(16),
  largeChain(17),
  {
    name: ZSWAP_SPEND, id: 'zswap_spend', k: 15, dev: true, tags: ['k15', 'zswap', 'large'], ir: SPEND_IR,
    preimage: async () => ({ bytes: (await zswapSpendPreimage()).preimage, bindingInput: undefined }),
  },
  {
    name: 'ledger tx: 1 zswap spend + 1 output', id: 'zswap_spend', k: 15, dev: true, tags: ['k15', 'tx', 'large'], ir: SPEND_IR,
    tx: { irs: { [ZSWAP_SPEND]: SPEND_IR, [ZSWAP_OUTPUT]: builtin('zswap/output').bzkir }, build: () => buildSpendTx({ output: true }) },
  },
  manualChain(20),
]

/**
 * The cases BENCH_ONLY asks for (all but the manual ones when it is empty); an unknown token is
 * an error, not a silent no-op.
 */
function selectCases(only) {
  if (only.length === 0) return CASES.filter((c) => !c.manual)
  const matches = (c, token) => token === c.name || token === c.id || c.tags.includes(token)
  const unknown = only.filter((token) => !CASES.some((c) => matches(c, token)))
  if (unknown.length) {
    const known = [...new Set(CASES.flatMap((c) => [c.id, ...c.tags]))]
    throw new Error(`BENCH_ONLY: unknown ${unknown.join(', ')} (known: ${known.join(', ')})`)
  }
  return CASES.filter((c) => only.some((token) => matches(c, token)))
}

/** `{ id: irPath }` of the circuits the cases need, for compactDir. */
function circuitFiles(cases) {
  return Object.fromEntries(cases.map((c) => [c.id, c.ir]))
}

/**
 * zkir-v2's key material for a circuit: the same cached keys our Compact directory holds (made
 * with keygen `options`), and the IR in the binary form zkir-v2 reads (.zkir JSON is converted,
 * .bzkir taken as is).
 */
async function zkirMaterial(irPath, options) {
  const { jsonIrToBinary } = require('@midnight-ntwrk/zkir-v2')
  const { proverKey, verifierKey } = await keysFor(irPath, options)
  const ir = irPath.endsWith('.zkir') ? jsonIrToBinary(fs.readFileSync(irPath, 'utf8')) : fs.readFileSync(irPath)
  return { proverKey, verifierKey, ir }
}

module.exports = { selectCases, circuitFiles, zkirMaterial, zswapOutput }
