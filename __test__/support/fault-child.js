'use strict'
// A process __test__/faults.test.js kills at random moments: on a key cache it shares with the
// children before it, it derives the zswap output circuit's prover key (first use), maps or
// builds its MSM tables, and proves the preimage in argv[2] over and over, printing each proof.
const fs = require('node:fs')
const { createProver } = require('../..')

async function main(keyCache, preimageFile) {
  const preimage = new Uint8Array(fs.readFileSync(preimageFile))
  const prover = await createProver({ keyCachePath: keyCache, threads: 2 })
  for (;;) {
    const { proof, publicInputs } = await prover.prove('midnight/zswap/output', preimage)
    process.stdout.write(`${JSON.stringify({ proof: Buffer.from(proof).toString('hex'), publicInputs: publicInputs.map(String) })}\n`)
    if (process.argv[4] === 'once') return prover.close()
  }
}

main(process.argv[2], process.argv[3]).catch((err) => {
  process.stderr.write(`${err.code ?? ''} ${err.message}\n`)
  process.exit(1)
})
