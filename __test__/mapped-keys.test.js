'use strict'
// Mapped prover keys (issue 24): the key map and MSM tables in the key cache changed by "another
// process" while this one has them mapped: truncated, rewritten in place, deleted and replaced.
// Whatever happens the process lives, every proof either verifies or fails with a typed code,
// the next proofs are right, and the files are rebuilt.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { createProver } = require('..')
const { tempDir } = require('./support/fixtures')
const ledger = require('./support/ledger')

const OUTPUT = 'midnight/zswap/output'
const filesIn = (dir, suffix) => fs.readdirSync(dir).filter((f) => f.endsWith(suffix)).map((f) => path.join(dir, f))

/** Proves until a proof verifies (at most `tries`); every failure must be PROOF_FAILED. */
async function proveThrough(prover, preimage, tries = 3) {
  const failures = []
  for (let i = 0; i < tries; i++) {
    try {
      const { proof, publicInputs } = await prover.prove(OUTPUT, preimage)
      assert.equal(await prover.verify(OUTPUT, proof, publicInputs), true, 'a proof handed out verifies')
      return failures
    } catch (err) {
      assert.equal(err.code, 'PROOF_FAILED', err.message)
      failures.push(err.message)
    }
  }
  assert.fail(`no proof in ${tries} tries: ${failures.join('; ')}`)
}

test('key maps and tables truncated, rewritten and replaced under a live prover: it survives, proofs verify or fail typed, files are rebuilt', async () => {
  const cache = tempDir('mapped-keys-')
  const [{ preimage }] = await ledger.capturePreimages(ledger.buildZswapOutputTx(1))
  const prover = await createProver({ keyCachePath: cache, preloadCircuits: [OUTPUT] })
  try {
    const loaded = (await prover.getStatus()).circuits[0]
    assert.ok(loaded.mapped && loaded.mappedBytes > 0, JSON.stringify(loaded))
    await proveThrough(prover, preimage, 1)
    const [map] = filesIn(cache, '.keymap')
    const tables = filesIn(cache, '.bin')
    const size = fs.statSync(map).size
    assert.ok(tables.length > 0, 'the MSM tables are in the key cache')

    // Truncated while a proof runs.
    const inFlight = prover.prove(OUTPUT, preimage).then(
      (r) => prover.verify(OUTPUT, r.proof, r.publicInputs),
      (err) => err.code,
    )
    await new Promise((r) => setTimeout(r, 50))
    for (const f of [map, ...tables]) fs.truncateSync(f, 4096)
    const first = await inFlight
    assert.ok(first === true || first === 'PROOF_FAILED', `in flight: ${first}`)
    const failures = await proveThrough(prover, preimage)
    const status = await prover.getStatus()
    assert.ok(status.mapping.faults > 0, 'the lost pages were counted')
    assert.ok(first === 'PROOF_FAILED' || failures.length > 0, 'a proof on a truncated map did not verify')
    assert.equal(fs.statSync(map).size, size, 'the key map was rebuilt whole')
    assert.ok(failures.every((m) => /changed under the proof/.test(m)), failures.join('; '))

    // Rewritten in place: bytes flipped in the middle of the mapped file.
    const fd = fs.openSync(map, 'r+')
    fs.writeSync(fd, Buffer.alloc(1 << 20, 0xa5), 0, 1 << 20, Math.floor(size / 2))
    fs.closeSync(fd)
    await proveThrough(prover, preimage)

    // Deleted and replaced by garbage of the same name: the mapping keeps the old file; the
    // next load refuses the new one and rebuilds it.
    fs.rmSync(map)
    fs.writeFileSync(map, Buffer.alloc(8192, 1))
    await proveThrough(prover, preimage, 1)
    await prover.close()
    const again = await createProver({ keyCachePath: cache, preloadCircuits: [OUTPUT] })
    try {
      const s = await again.getStatus()
      assert.ok(s.circuits[0].mapped, 'mapped again')
      assert.ok(s.mapping.refused >= 1, 'the garbage file was refused')
      assert.equal(fs.statSync(map).size, size, 'and rebuilt')
      await proveThrough(again, preimage, 1)
    } finally {
      await again.close()
    }
    console.log(`mapped keys: faults ${status.mapping.faults}; in flight: ${first}; failures before a proof: ${failures.length}`)
  } finally {
    await prover.close()
  }
})

test('a key map that cannot be written leaves the key in private memory, with the reason, and proves', async () => {
  const cache = tempDir('mapped-keys-unwritable-')
  const warm = await createProver({ keyCachePath: cache, preloadCircuits: [OUTPUT] })
  await warm.close()
  // A directory where the file goes: the rename fails, as on a read-only or full cache (and
  // for root too, whom permissions do not stop).
  for (const f of filesIn(cache, '.keymap')) {
    fs.rmSync(f)
    fs.mkdirSync(f)
  }
  const [{ preimage }] = await ledger.capturePreimages(ledger.buildZswapOutputTx(1))
  const prover = await createProver({ keyCachePath: cache, preloadCircuits: [OUTPUT] })
  try {
    const c = (await prover.getStatus()).circuits[0]
    assert.ok(!c.mapped && c.mappedBytes === 0 && c.privateBytes > 0, JSON.stringify(c))
    assert.match(c.unmappedBecause, /keymap/)
    await proveThrough(prover, preimage, 1)
  } finally {
    await prover.close()
  }
})
