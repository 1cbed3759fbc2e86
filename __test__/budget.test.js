'use strict'
// memoryLimit: proofs reserve their memory before they start, wait in FIFO order for room, and
// are refused when they can never fit. Sizes are measured on real circuits first, never assumed.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { createProver, serializePreimage } = require('..')
const { builtin, compactDir, testCircuit, witness } = require('./support/fixtures')
const { capturePreimages, buildZswapOutputTx } = require('./support/ledger')

const MiB = 2 ** 20
const tick = () => new Promise((r) => setTimeout(r, 2))

/** Held bytes and the peak of one proof of `id`, measured by a prover without a limit. */
async function measure(dir, id, preimage) {
  const probe = await createProver({ circuitKeysPath: dir, preloadCircuits: [id] })
  await probe.prove(id, preimage)
  const status = await probe.getStatus()
  await probe.close()
  return { held: status.memory.budget.heldBytes, peak: status.circuits[0].peakProofBytes }
}

/** Status snapshots every few ms until `work` settles. */
async function watch(prover, work) {
  const snapshots = []
  let done = false
  const settled = work.finally(() => (done = true))
  while (!done) {
    snapshots.push(await prover.getStatus())
    await tick()
  }
  return { results: await settled, snapshots }
}

test('8 concurrent k=14 proofs under a budget with room for 1.5 of them: all complete, one at a time, under the limit', async () => {
  const dir = await compactDir({ output: builtin('zswap/output').bzkir })
  // Eight outputs, eight preimages: equal preimages would share one proof.
  const preimages = (await capturePreimages(buildZswapOutputTx(8))).map((call) => call.preimage)
  const { held, peak } = await measure(dir, 'output', preimages[0])
  // The key and parameters are held once; proofs of a loaded circuit need their peak beside it.
  // Two proofs would need held + 2 * peak.
  const limitBytes = held + 1.5 * peak
  const prover = await createProver({ circuitKeysPath: dir, preloadCircuits: ['output'], maxConcurrent: 2, memoryLimit: limitBytes / MiB })
  const events = []
  for (const kind of ['started', 'finished', 'failed']) prover.on(kind, (e) => events.push({ kind, ...e }))
  const started = Date.now()
  const { results, snapshots } = await watch(prover, Promise.all(preimages.map((preimage) => prover.prove('output', preimage))))
  const wallMs = Date.now() - started
  for (let i = 0; i < 100 && events.length < 16; i++) await tick()

  assert.equal(results.length, 8)
  for (const r of results) assert.equal(await prover.verify('output', r.proof, r.publicInputs), true)
  // The budget's grant order: every proof's start comes after the previous one's end.
  assert.deepEqual(events.map((e) => e.kind), Array(8).fill(['started', 'finished']).flat())
  const budgets = snapshots.map((s) => s.memory.budget)
  assert.ok(budgets.every((b) => b.reservations.length <= 1), 'never two reservations at once')
  assert.ok(snapshots.every((s) => s.activeProofs <= 1), 'never two proofs running')
  // maxConcurrent 2: the second driver holds the next proof, waiting for memory, not for a driver.
  assert.ok(budgets.some((b) => b.waiting.length === 1), 'a proof waited for memory')
  const status = await prover.getStatus()
  assert.ok(status.memory.peakNativeBytes <= limitBytes, `peak ${status.memory.peakNativeBytes / MiB} MiB > limit ${limitBytes / MiB} MiB`)
  assert.equal(status.memory.budget.limitBytes, Math.floor(limitBytes))
  assert.ok(status.memory.budget.heldBytes >= held * 0.99, 'the loaded key and parameters are held')
  assert.equal(status.memory.budget.reservedBytes, 0)
  const [circuit] = status.circuits
  assert.equal(circuit.reserveBytes, circuit.peakProofBytes, 'reservations come from the peak measured alone')
  assert.ok(circuit.columns > 0 && circuit.loadBytes > 0)
  console.log(
    `# limit ${(limitBytes / MiB).toFixed(1)} MiB = held ${(held / MiB).toFixed(1)} + 1.5 x peak ${(peak / MiB).toFixed(1)}; ` +
      `peak native ${(status.memory.peakNativeBytes / MiB).toFixed(1)} MiB; 8 proofs in ${(wallMs / 1000).toFixed(1)} s`,
  )
  await prover.close()
})

test('a proof waiting for memory leaves at once when aborted or timed out; one that can never fit rejects MEMORY_LIMIT_EXCEEDED', async () => {
  const dir = await compactDir({ bench_k13: testCircuit('bench_k13') })
  const preimage = serializePreimage('bench_k13', witness('bench_k13.witness.json'))
  const { held, peak } = await measure(dir, 'bench_k13', preimage)
  const prover = await createProver({ circuitKeysPath: dir, preloadCircuits: ['bench_k13'], maxConcurrent: 3, memoryLimit: (held + 1.5 * peak) / MiB })
  let runningSettled = false
  const running = prover.prove('bench_k13', preimage).finally(() => (runningSettled = true))
  const controller = new AbortController()
  // Other binding inputs, so that they are proofs of their own, not sharers of the first.
  const aborted = prover.prove('bench_k13', preimage, { signal: controller.signal, bindingInput: 1n })
  // Its timeout must fall well inside the first proof, which now takes 0.7-0.9 s (it took over 1 s
  // when the timeout was 600 ms, and a fresh-clone CI run saw the first proof end first).
  const timed = prover.prove('bench_k13', preimage, { timeoutMs: 250, bindingInput: 2n })
  let status
  while ((status = await prover.getStatus()).memory.budget.waiting.length < 2) await tick()
  assert.equal(status.activeProofs, 1)
  assert.equal(status.queuedProofs, 2, 'proofs waiting for memory count as queued')
  controller.abort()
  await assert.rejects(aborted, { code: 'ABORT_ERR' })
  await assert.rejects(timed, { code: 'PROOF_TIMEOUT' })
  status = await prover.getStatus()
  assert.equal(status.memory.budget.waiting.length, 0, 'both left the budget')
  assert.equal(runningSettled, false, 'at once: while the first proof still ran')
  await running
  await prover.close()
  assert.equal((await prover.getStatus()).proofsCompleted, 1, 'the withdrawn proofs never ran')

  const small = await createProver({ circuitKeysPath: dir, memoryLimit: held / MiB / 2 })
  await assert.rejects(small.prove('bench_k13', preimage), (err) => {
    assert.equal(err.code, 'MEMORY_LIMIT_EXCEEDED')
    assert.match(err.message, /bench_k13 needs [\d.]+ MiB for a proof, [\d.]+ MiB are held by loaded circuits, the limit is [\d.]+ MiB/)
    return true
  })
  const after = await small.getStatus()
  assert.equal(after.proofsCompleted + after.proofsFailed, 0, 'it never started')
  await small.close()
})
