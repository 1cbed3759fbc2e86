'use strict'
// V8 independence and endurance, bounded in time: 1000 proofs in a row in a process whose V8 heap
// is capped at 32 MB. Proving memory is native, so V8's heap must not grow with proofs, and
// resident memory must not drift. The child first runs 300 uncounted proofs: V8 compiles the
// calling JS code around the 250th call, a one-time RSS step that is V8's, not the prover's.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const path = require('node:path')
const { CIRCUITS, compactDir, testCircuit } = require('./support/fixtures')

test('1000 proofs under --max-old-space-size=32: no failure, V8 heap flat, RSS drift < 5%', async (t) => {
  const dir = await compactDir({ arith: testCircuit('arith') })
  const child = path.join(__dirname, 'support', 'endurance-child.js')
  const out = execFileSync(process.execPath, ['--max-old-space-size=32', '--expose-gc', child, dir, CIRCUITS, '300', '1000'], {
    encoding: 'utf8',
    timeout: 10 * 60 * 1000,
  })
  const { failures, samples } = JSON.parse(out)
  assert.equal(failures, 0)
  const heapGrowth = samples[200].heapUsed - samples[0].heapUsed
  assert.ok(heapGrowth < 5 * 2 ** 20, `V8 heapUsed grew ${heapGrowth} bytes over 200 proofs`)
  const drift = Math.abs(samples[1000].rss - samples[100].rss) / samples[100].rss
  assert.ok(drift < 0.05, `RSS drifted ${(drift * 100).toFixed(1)}% from proof 100 to 1000 (${samples[100].rss} -> ${samples[1000].rss})`)
  t.diagnostic(`heap +${heapGrowth} B over 200 proofs; RSS ${samples[100].rss} -> ${samples[1000].rss} B`)
})
