'use strict'
// The CPU backend (crates/kernels/src/backend.rs): chosen once per process, shown by getStatus(), forced by
// MIDNIGHT_PROVER_BACKEND. Each backend is run in its own process, as a user would force it:
// proofs verify on every backend the CPU has, and one it lacks is refused before any instruction
// it needs could run.
const { test, before } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const path = require('node:path')
const { createProver } = require('..')
const { compactDir, testCircuit } = require('./support/fixtures')

let dir
before(async () => {
  dir = await compactDir({ bench_k10: testCircuit('bench_k10') })
})

/** Runs `script` in a child Node with MIDNIGHT_PROVER_BACKEND=`backend`; its stdout as JSON. */
function inChild(backend, script) {
  const env = { ...process.env, MIDNIGHT_PROVER_BACKEND: backend, CIRCUITS_DIR: dir }
  const out = execFileSync(process.execPath, ['-e', script], { env, cwd: path.resolve(__dirname, '..'), encoding: 'utf8' })
  return JSON.parse(out)
}

const PROVE = `
const { createProver } = require('.')
const { witness } = require('./__test__/support/fixtures')
;(async () => {
  const prover = await createProver({ circuitKeysPath: process.env.CIRCUITS_DIR, threads: 2 })
  const result = await prover.prove('bench_k10', witness('bench_k10.witness.json'))
  const verified = await prover.verify('bench_k10', result.proof, result.publicInputs)
  const { backend } = await prover.getStatus()
  await prover.close()
  process.stdout.write(JSON.stringify({ backend, verified, bytes: result.proof.length }))
})().catch((e) => { process.stdout.write(JSON.stringify({ code: e.code, message: e.message })) })
`

test('getStatus names the backend the kernels run, the best of those the CPU has', async () => {
  const env = process.env.MIDNIGHT_PROVER_BACKEND
  const prover = await createProver({ circuitKeysPath: dir })
  const { backend, backends } = await prover.getStatus()
  await prover.close()
  assert.ok(backends.length >= 1 && backends.at(-1) === 'portable', `${backends}`)
  assert.ok(backends.every((b) => ['ifma', 'adx', 'portable'].includes(b)))
  assert.equal(backend, env && env !== 'auto' ? env : backends[0])
})

test('every backend this CPU has proves and verifies when forced', async () => {
  const prover = await createProver({ circuitKeysPath: dir })
  const { backends } = await prover.getStatus()
  await prover.close()
  for (const backend of backends) {
    const got = inChild(backend, PROVE)
    assert.deepEqual({ backend: got.backend, verified: got.verified }, { backend, verified: true }, JSON.stringify(got))
    assert.ok(got.bytes > 0)
  }
})

test('an unknown backend, or one this CPU lacks, is INVALID_OPTIONS: never a SIGILL', async () => {
  const prover = await createProver({ circuitKeysPath: dir })
  const { backends } = await prover.getStatus()
  await prover.close()
  const bogus = inChild('avx2', PROVE)
  assert.equal(bogus.code, 'INVALID_OPTIONS', JSON.stringify(bogus))
  assert.match(bogus.message, /MIDNIGHT_PROVER_BACKEND="avx2" is not a backend/)
  for (const lacking of ['ifma', 'adx'].filter((b) => !backends.includes(b))) {
    const got = inChild(lacking, PROVE)
    assert.equal(got.code, 'INVALID_OPTIONS', JSON.stringify(got))
    assert.match(got.message, /this CPU lacks it/)
  }
})

