'use strict'
// close() gives back what the prover took: its threads, its loaded circuits and the memory they
// held. Run in a child process, whose threads are all its own.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const path = require('node:path')
const { CIRCUITS, compactDir, testCircuit } = require('./support/fixtures')

/** Cycles after which RSS has settled; growth is measured from there. */
const WARM_CYCLES = 25

test('100 create/prove/verify/check/close cycles: no thread of a closed prover is left, the thread count stays at the first cycle’s and RSS stays where it settled', async (t) => {
  const dir = await compactDir({ arith: testCircuit('arith') })
  const child = path.join(__dirname, 'support', 'lifecycle-child.js')
  const out = execFileSync(process.execPath, ['--expose-gc', child, dir, CIRCUITS, '100'], { encoding: 'utf8', timeout: 5 * 60 * 1000 })
  const { samples, leftOwnThreads } = JSON.parse(out)
  assert.equal(samples.length, 100)
  assert.equal(leftOwnThreads, 0, 'every closed prover ended all of its threads')
  const [first, warm, last] = [samples[0], samples[WARM_CYCLES - 1], samples[99]]
  assert.ok(last.threads <= first.threads, `threads ${first.threads} after the first cycle, ${last.threads} after the last`)
  // RSS settles over the first cycles (V8's heap and JIT, malloc's arenas for the new pools'
  // threads: 66 -> 71 MiB by cycle 25, then flat to cycle 200 on an AMD EPYC), so a leak shows as
  // growth after them: 5% over 75 cycles is 48 KiB a cycle.
  const growth = (last.rss - warm.rss) / warm.rss
  assert.ok(growth < 0.05, `RSS grew ${(growth * 100).toFixed(1)}% over the ${100 - WARM_CYCLES} cycles after the first ${WARM_CYCLES} (${warm.rss} -> ${last.rss} B)`)
  t.diagnostic(`threads ${first.threads} -> ${last.threads}; RSS ${(first.rss / 2 ** 20).toFixed(1)} -> ${(warm.rss / 2 ** 20).toFixed(1)} (cycle ${WARM_CYCLES}) -> ${(last.rss / 2 ** 20).toFixed(1)} MiB`)
})
