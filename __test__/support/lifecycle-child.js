'use strict'
// Runs in a child process so that its thread count is its own: creates, uses and closes provers
// in a row and reports the process's threads and RSS after each cycle (JSON on stdout).
const fs = require('node:fs')
const path = require('node:path')
const { createProver } = require('../..')

/** Live threads of this process, from /proc. */
const threads = () => fs.readdirSync('/proc/self/task').length
const rss = () => Number(fs.readFileSync('/proc/self/statm', 'utf8').split(' ')[1]) * 4096

/** Lets exiting threads finish exiting before they are counted. */
async function settled(threadsNow) {
  for (let i = 0; i < 100 && threadsNow() > baseline.threads; i++) await new Promise((r) => setTimeout(r, 20))
}
const baseline = {}

/** The prover's own threads still alive once close() resolved (they exit asynchronously). */
async function liveAfterClose(prover) {
  for (let i = 0; i < 100 && (await prover.getStatus()).liveThreads > 0; i++) await new Promise((r) => setTimeout(r, 20))
  return (await prover.getStatus()).liveThreads
}

async function main(dir, circuits, cycles) {
  const witness = JSON.parse(fs.readFileSync(path.join(circuits, 'arith.witness.json'), 'utf8'))
  const samples = []
  let leftOwnThreads = 0
  for (let i = 0; i < cycles; i++) {
    const prover = await createProver({ circuitKeysPath: dir, threads: 2, maxConcurrent: 2 })
    const result = await prover.prove('arith', witness)
    if (!(await prover.verify('arith', result.proof, result.publicInputs))) throw new Error(`cycle ${i}: the proof does not verify`)
    await prover.check('arith', witness)
    await prover.close()
    leftOwnThreads = Math.max(leftOwnThreads, await liveAfterClose(prover))
    global.gc()
    if (i === 0) Object.assign(baseline, { threads: threads() })
    await settled(threads)
    samples.push({ threads: threads(), rss: rss() })
  }
  process.stdout.write(JSON.stringify({ samples, leftOwnThreads }))
}

const [dir, circuits, cycles] = process.argv.slice(2)
main(dir, circuits, Number(cycles)).catch((err) => {
  console.error(err)
  process.exit(1)
})
