'use strict'
// Run from a fresh project that installed the packed tarball: the installed addon must generate
// keys, prove and verify a circuit, using only what a consumer has.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const assert = require('node:assert/strict')
const { createRequire } = require('node:module')
// Resolve the package the way the consumer project (the working directory) sees it.
const { createProver, keygen } = createRequire(path.join(process.cwd(), 'package.json'))('midnight-native-prover')

async function main(circuits) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mnp-consumer-'))
  fs.mkdirSync(path.join(dir, 'keys'))
  const keys = await keygen(fs.readFileSync(path.join(circuits, 'arith.zkir'), 'utf8'))
  fs.writeFileSync(path.join(dir, 'keys', 'arith.prover'), keys.proverKey)
  fs.writeFileSync(path.join(dir, 'keys', 'arith.verifier'), keys.verifierKey)
  fs.mkdirSync(path.join(dir, 'zkir'))
  fs.copyFileSync(path.join(circuits, 'arith.zkir'), path.join(dir, 'zkir', 'arith.zkir'))
  const prover = await createProver({ circuitKeysPath: dir })
  const witness = JSON.parse(fs.readFileSync(path.join(circuits, 'arith.witness.json'), 'utf8'))
  const result = await prover.prove('arith', witness)
  assert.equal(await prover.verify('arith', result.proof, result.publicInputs), true)
  await prover.close()
  console.log(`consumer install works: proved arith (k=${result.k}) in ${result.provingTimeMs.toFixed(0)} ms`)
}

main(process.argv[2]).catch((err) => {
  console.error(err)
  process.exit(1)
})
