'use strict'
// close() gives back what the prover took: its threads, its loaded circuits and the memory they
// held. Run in a child process, whose threads are all its own.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const path = require('node:path')
const { CIRCUITS, compactDir, testCircuit } = require('./support/fixtures')

test('100 create/prove/verify/check/close cycles: no thread of a closed prover is left, thread count and RSS stay at the first cycle’s', async (t) => {
  const dir = await compactDir({ arith: testCircuit('arith') })
  const child = path.join(__dirname, 'support', 'lifecycle-child.js')
  const out = execFileSync(process.execPath, ['--expose-gc', child, dir, CIRCUITS, '100'], { encoding: 'utf8', timeout: 5 * 60 * 1000 })
  const { samples, leftOwnThreads } = JSON.parse(out)
  assert.equal(samples.length, 100)
  assert.equal(leftOwnThreads, 0, 'every closed prover ended all of its threads')
  const [first, last] = [samples[0], samples[99]]
  assert.ok(last.threads <= first.threads, `threads ${first.threads} after the first cycle, ${last.threads} after the last`)
  const growth = (last.rss - first.rss) / first.rss
  assert.ok(growth < 0.1, `RSS grew ${(growth * 100).toFixed(1)}% over 99 cycles (${first.rss} -> ${last.rss} B)`)
  t.diagnostic(`threads ${first.threads} -> ${last.threads}; RSS ${(first.rss / 2 ** 20).toFixed(1)} -> ${(last.rss / 2 ** 20).toFixed(1)} MiB`)
})
