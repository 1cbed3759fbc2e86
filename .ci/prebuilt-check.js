'use strict'
// Run from a consumer project that installed the packed main package and one platform package:
// the addon must come from the platform package (nothing compiled), prove and verify real ledger
// circuits, and keygen must reproduce the official zswap output prover key.
//
//   node .ci/prebuilt-check.js <platform> [load] [sign] [output] [keygen]   (default: all four)
//
// sign:   midnight/zswap/sign (k=13): its key is derived on first use, a preimage built with the
//         official ledger client is proven, the proof verifies and fails on a changed statement.
// output: midnight/zswap/output (k=14): a one-output transaction of the official ledger client
//         proven through asProvingProvider() and accepted by the ledger's wellFormed.
// keygen: the fixtures' output.bzkir gives the official prover key's SHA-256 and verifier key.
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { createRequire } = require('node:module')

const root = path.join(__dirname, '..')
const [platform, ...steps] = process.argv.slice(2)
const want = new Set(steps.length ? steps : ['load', 'sign', 'output', 'keygen'])
const consumer = createRequire(path.join(process.cwd(), 'package.json'))
const fixtures = process.env.MIDNIGHT_FIXTURES || path.resolve(root, '..', 'shared', 'fixtures')
const t = () => performance.now()
const secs = (t0) => `${((t() - t0) / 1000).toFixed(1)} s`

async function main() {
  if (!platform) throw new Error('usage: node .ci/prebuilt-check.js <platform> [load] [sign] [output] [keygen]')
  let t0 = t()
  const mnp = consumer('midnight-native-prover')
  const main = path.dirname(consumer.resolve('midnight-native-prover/package.json'))
  const platformMain = consumer.resolve(`midnight-native-prover-${platform}`)
  assert.ok(require.cache[platformMain], `the addon was not loaded from ${platformMain}`)
  const stray = fs.readdirSync(main).filter((f) => f.endsWith('.node'))
  assert.deepEqual(stray, [], `the install compiled ${stray.join(', ')}`)
  assert.deepEqual(fs.readdirSync(main).filter((f) => f === 'target'), [], 'the install ran cargo')
  const glibc = process.report.getReport().header.glibcVersionRuntime
  console.log(`load: ${path.relative(process.cwd(), platformMain)} on node ${process.version} ${process.arch} (glibc ${glibc}) in ${secs(t0)}`)

  const ledger = want.has('sign') || want.has('output') ? require(path.join(root, '__test__', 'support', 'ledger.js')) : null
  const keyCachePath = fs.mkdtempSync(path.join(os.tmpdir(), 'mnp-prebuilt-'))
  const prover = await mnp.createProver({ keyCachePath })
  try {
    if (want.has('sign')) {
      const { keyLocation, preimage } = ledger.buildSignPreimage()
      t0 = t()
      const first = await prover.prove(keyLocation, preimage)
      let timing = `key derived and first proof in ${secs(t0)}`
      let r = first
      // A second proof times proving alone; MNP_SIGN_PROOFS=1 skips it (slow under emulation).
      if (process.env.MNP_SIGN_PROOFS !== '1') {
        t0 = t()
        r = await prover.prove(keyLocation, preimage)
        timing += `, proof in ${secs(t0)}`
        assert.equal(await prover.verify(keyLocation, first.proof, first.publicInputs), true)
      }
      assert.equal(await prover.verify(keyLocation, r.proof, r.publicInputs), true)
      const changed = [r.publicInputs[0] + 1n, ...r.publicInputs.slice(1)]
      assert.equal(await prover.verify(keyLocation, r.proof, changed), false)
      console.log(`sign (k=${r.k}): ${timing}; verifies, and a changed statement does not`)
    }
    if (want.has('output')) {
      t0 = t()
      const proven = await ledger.proveTx(ledger.buildZswapOutputTx(1), prover.asProvingProvider())
      const proveTime = secs(t0)
      ledger.wellFormed(proven)
      console.log(`output (k=14): a ledger transaction proven in ${proveTime} (key derivation included), accepted by wellFormed`)
    }
  } finally {
    await prover.close()
    fs.rmSync(keyCachePath, { recursive: true, force: true })
  }
  if (want.has('keygen')) {
    const base = path.join(fixtures, 'builtin', 'zswap', 'output')
    t0 = t()
    const keys = await mnp.keygen(fs.readFileSync(`${base}.bzkir`))
    const official = fs.readFileSync(`${base}.prover.sha256`, 'utf8').split(/\s+/)[0]
    const sha = crypto.createHash('sha256').update(keys.proverKey).digest('hex')
    assert.equal(sha, official, 'keygen did not reproduce the official zswap output prover key')
    assert.ok(Buffer.from(keys.verifierKey).equals(fs.readFileSync(`${base}.verifier`)), 'verifier key differs')
    console.log(`keygen (k=${keys.k}): zswap output prover key SHA-256 ${sha} = official, verifier key byte-equal, in ${secs(t0)}`)
  }
}

main().then(
  () => console.log(`prebuilt ${platform}: ok`),
  (err) => {
    console.error(err)
    process.exit(1)
  },
)
