'use strict'
// Every error code is produced here by real bad input, and the process keeps proving correctly
// after each one.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { createProver, ProverError, errorCodes } = require('..')
const { compactDir, testCircuit, witness, tempDir } = require('./support/fixtures')

let dir
let prover
const good = () => witness('arith.witness.json')

async function stillProves(p = prover) {
  const r = await p.prove('arith', good())
  assert.equal(await p.verify('arith', r.proof, r.publicInputs), true)
}

before(async () => {
  dir = await compactDir({ arith: testCircuit('arith'), ecc: testCircuit('ecc') })
  prover = await createProver({ circuitKeysPath: dir })
})
after(() => prover.close())

test('INVALID_OPTIONS names the offending option or environment variable', async () => {
  const cases = [
    [{ threads: 0 }, /options\.threads/],
    [{ threads: 1.5 }, /options\.threads/],
    [{ memoryLimit: -1 }, /options\.memoryLimit/],
    [{ circuitKeysPath: '/does/not/exist' }, /options\.circuitKeysPath.*does not exist/],
    [{ circuitKeysPath: [42] }, /options\.circuitKeysPath/],
    [{ preloadCircuits: 'arith' }, /options\.preloadCircuits/],
    [{ treads: 2 }, /options\.treads: unknown option/],
    ['nope', /options/],
  ]
  for (const [options, message] of cases) {
    await assert.rejects(createProver(options), (err) => {
      assert.ok(err instanceof ProverError)
      assert.equal(err.code, 'INVALID_OPTIONS')
      assert.match(err.message, message)
      return true
    })
  }
  process.env.PROVER_THREADS = 'many'
  try {
    await assert.rejects(createProver({ circuitKeysPath: dir }), /PROVER_THREADS/)
  } finally {
    delete process.env.PROVER_THREADS
  }
  await stillProves()
})

test('CIRCUIT_NOT_FOUND and INVALID_CIRCUIT_ID', async () => {
  await assert.rejects(prover.prove('nope', good()), { code: 'CIRCUIT_NOT_FOUND' })
  for (const id of ['../arith', '/etc/passwd', 'a/b', '', '.arith']) {
    await assert.rejects(prover.prove(id, good()), { code: 'INVALID_CIRCUIT_ID' }, id)
  }
  for (const id of [42, null, { location: 'arith' }]) {
    await assert.rejects(prover.prove(id, good()), { code: 'INVALID_CIRCUIT_ID' }, String(id))
  }
  await stillProves()
})

test('INVALID_WITNESS for bad shapes and non-field values', async () => {
  const bad = [
    null,
    [1, 2],
    { inputs: 'x' },
    { inputs: [1.5, 2] },
    { inputs: [2 ** 60] },
    { inputs: ['12abc'] },
    { inputs: ['52435875175126190479447740508185965837690552500527637822603658699938581184513'] },
    { inputs: [1], typo: [] },
    witness('arith.bad-ninputs.witness.json'),
    new Uint8Array([1, 2, 3]),
  ]
  for (const w of bad) await assert.rejects(prover.prove('arith', w), { code: 'INVALID_WITNESS' }, JSON.stringify(w))
  await stillProves()
})

test('WITNESS_UNSATISFIED', async () => {
  await assert.rejects(prover.prove('arith', witness('arith.bad.witness.json')), { code: 'WITNESS_UNSATISFIED' })
  await stillProves()
})

test('KEY_CORRUPT names the file; a key changed on disk after loading does not disturb the prover', async () => {
  const broken = await compactDir({ arith: testCircuit('arith') })
  const proverFile = path.join(broken, 'keys', 'arith.prover')
  const bytes = fs.readFileSync(proverFile)
  fs.writeFileSync(proverFile, bytes.subarray(0, bytes.length >> 1))
  const p = await createProver({ circuitKeysPath: broken })
  await assert.rejects(p.prove('arith', good()), (err) => {
    assert.equal(err.code, 'KEY_CORRUPT')
    assert.ok(err.message.includes(proverFile), err.message)
    return true
  })
  // Repairing the file fixes the next call: failures are not cached.
  fs.writeFileSync(proverFile, bytes)
  await stillProves(p)
  // Now truncate and garble the loaded circuit's files: the loaded copy keeps working.
  fs.writeFileSync(proverFile, bytes.subarray(0, 100))
  fs.writeFileSync(path.join(broken, 'keys', 'arith.verifier'), 'garbage')
  await stillProves(p)
  await p.close()
})

test('PARAMS_NOT_FOUND names the file and the directories searched', async () => {
  // arttt approve has k=15, beyond the embedded SRS; the directory given holds no parameters.
  const { ARTTT } = require('./support/fixtures')
  const { keygen } = require('..')
  const params = tempDir('mnp-params-')
  await assert.rejects(keygen(fs.readFileSync(path.join(ARTTT, 'zkir', 'approve.bzkir')), { paramsPath: params }), (err) => {
    assert.equal(err.code, 'PARAMS_NOT_FOUND')
    assert.match(err.message, /bls_midnight_2p15/)
    assert.ok(err.message.includes(params))
    return true
  })
  await stillProves()
})

test('a panic inside the proving stack on bad input is a typed error, never a crash', async () => {
  // An off-curve point makes midnight-circuits panic ("Failed here") during witness generation:
  // the witness fails the circuit, so WITNESS_UNSATISFIED (PROVER_PANIC is kept for bugs).
  await assert.rejects(prover.prove('ecc', witness('ecc.bad-offcurve.witness.json')), (err) => {
    assert.equal(err.code, 'WITNESS_UNSATISFIED')
    assert.match(err.message, /ecc rejects the witness/)
    return true
  })
  await assert.rejects(prover.check('ecc', witness('ecc.bad-offcurve.witness.json')), { code: 'WITNESS_UNSATISFIED' })
  const r = await prover.prove('ecc', witness('ecc.witness.json'))
  assert.equal(await prover.verify('ecc', r.proof, r.publicInputs), true)
  await stillProves()
})

test('PROVER_CLOSED after close(); close waits for running proofs', async () => {
  const p = await createProver({ circuitKeysPath: dir })
  const running = p.prove('arith', good())
  const closed = p.close()
  await assert.rejects(p.prove('arith', good()), { code: 'PROVER_CLOSED' })
  await assert.rejects(p.getStatus().then(() => p.verify('arith', new Uint8Array(1), [])), { code: 'PROVER_CLOSED' })
  const result = await running
  assert.equal(result.circuitId, 'arith')
  await closed
  await stillProves()
})

test('errorCodes lists every code', () => {
  const codes = errorCodes()
  for (const code of ['INVALID_OPTIONS', 'CIRCUIT_NOT_FOUND', 'INVALID_CIRCUIT_ID', 'INVALID_WITNESS', 'WITNESS_UNSATISFIED', 'KEY_CORRUPT', 'PARAMS_NOT_FOUND', 'PROVER_CLOSED', 'PROVER_PANIC']) {
    assert.ok(codes.includes(code), code)
  }
})

test('one list of codes: index.d.ts and the README name exactly the codes the addon defines', () => {
  const codes = new Set(errorCodes())
  assert.equal(codes.size, errorCodes().length, 'no code twice')
  const dts = fs.readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8')
  const union = /export type ProverErrorCode =([\s\S]*?)\n\n/.exec(dts)[1]
  const declared = new Set([...union.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]))
  declared.add('ABORT_ERR') // AbortError's code, declared on that class
  assert.deepEqual([...declared].sort(), [...codes].sort())
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8')
  const table = /### Errors\n([\s\S]*?)\n### /.exec(readme)[1]
  const documented = new Set([...table.matchAll(/^\| `([A-Z_]+)`/gm)].map((m) => m[1]))
  assert.deepEqual([...documented].sort(), [...codes].sort())
})

test('a napi argument error keeps a typed code; nothing comes back as an unknown code', async () => {
  const binding = require('../binding.js')
  const { fromNative } = require('../lib/errors').nativeErrors(binding)
  assert.throws(() => binding.params('x'), (err) => fromNative(err).code === 'INVALID_ARGUMENT')
  assert.throws(() => binding.params(99), (err) => err.code === 'INVALID_ARGUMENT' && /k=99/.test(err.message))
  await assert.rejects(binding.irK(new Uint8Array([1, 2, 3])), (err) => err.code === 'INVALID_IR')
})
