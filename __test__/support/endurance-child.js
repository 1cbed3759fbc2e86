'use strict'
// Runs in a child process started with --max-old-space-size=32 --expose-gc: proves a small
// circuit `count` times in a row and reports V8 heap and resident memory along the way (JSON on
// stdout), so the parent can judge V8 independence and drift without sharing its own heap.
const fs = require('node:fs')
const path = require('node:path')
const { createProver } = require('../..')

async function main(dir, circuits, warmup, count) {
  const prover = await createProver({ circuitKeysPath: dir, preloadCircuits: ['arith'] })
  const witness = JSON.parse(fs.readFileSync(path.join(circuits, 'arith.witness.json'), 'utf8'))
  const samples = {}
  let failures = 0
  const sample = async (i) => {
    global.gc()
    const { memory } = await prover.getStatus()
    const v8 = process.memoryUsage()
    samples[i] = { heapUsed: v8.heapUsed, external: v8.external, rss: memory.rssBytes, native: memory.nativeBytes }
  }
  // Warm-up, not counted: first-use allocations, and V8 tiering up this loop's code, which grows
  // RSS once by ~3.7 MB between the 200th and 300th call (measured; flat under --jitless).
  for (let i = 0; i < warmup; i++) await prover.prove('arith', witness)
  await sample(0)
  for (let i = 1; i <= count; i++) {
    try {
      await prover.prove('arith', witness)
    } catch {
      failures++
    }
    if (i % 100 === 0 || i === count) await sample(i)
  }
  await prover.close()
  process.stdout.write(JSON.stringify({ failures, samples }))
}

const [dir, circuits, warmup, count] = process.argv.slice(2)
main(dir, circuits, Number(warmup), Number(count)).catch((err) => {
  console.error(err)
  process.exit(1)
})
