'use strict'
// Paths to the shared real-circuit fixtures, and Compact-layout directories built from them with
// keys made by our keygen (cached on disk by IR hash, so k=13/14 keygen runs once per checkout).
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { keygen } = require('../..')

const ROOT = path.resolve(__dirname, '..', '..')
const FIXTURES = process.env.MIDNIGHT_FIXTURES || path.resolve(ROOT, '..', 'shared', 'fixtures')
const CIRCUITS = path.join(ROOT, '__test__', 'circuits')
const CACHE = path.join(ROOT, '.test-cache', 'keys')
const ARTTT = path.join(FIXTURES, 'contracts', 'arttt')

const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex')

/** Keys for an IR file, from the cache or freshly generated. */
async function keysFor(irPath) {
  const ir = fs.readFileSync(irPath)
  const slot = path.join(CACHE, sha256(ir))
  const cached = ['prover', 'verifier'].map((ext) => path.join(slot, ext))
  if (cached.every((p) => fs.existsSync(p))) {
    return { proverKey: fs.readFileSync(cached[0]), verifierKey: fs.readFileSync(cached[1]), cached: true }
  }
  const keys = await keygen(ir)
  fs.mkdirSync(slot, { recursive: true })
  fs.writeFileSync(cached[0] + '.tmp', keys.proverKey)
  fs.renameSync(cached[0] + '.tmp', cached[0])
  fs.writeFileSync(cached[1], keys.verifierKey)
  return { ...keys, cached: false }
}

function tempDir(prefix = 'mnp-test-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix))
}

/**
 * A fresh Compact output directory holding the given circuits: `{ id: irPath }`.
 * Keys come from `keysFor`; the IR is copied under its own extension.
 */
async function compactDir(circuits) {
  const dir = tempDir()
  fs.mkdirSync(path.join(dir, 'keys'))
  fs.mkdirSync(path.join(dir, 'zkir'))
  for (const [id, irPath] of Object.entries(circuits)) {
    fs.copyFileSync(irPath, path.join(dir, 'zkir', id + path.extname(irPath)))
    const keys = await keysFor(irPath)
    fs.writeFileSync(path.join(dir, 'keys', `${id}.prover`), keys.proverKey)
    fs.writeFileSync(path.join(dir, 'keys', `${id}.verifier`), keys.verifierKey)
  }
  return dir
}

/** Our test circuit `name` from __test__/circuits. */
const testCircuit = (name) => path.join(CIRCUITS, `${name}.zkir`)
const witness = (file) => JSON.parse(fs.readFileSync(path.join(CIRCUITS, file), 'utf8'))
const expected = JSON.parse(fs.readFileSync(path.join(CIRCUITS, 'expected.json'), 'utf8'))

/** The ledger's built-in circuits in the fixtures: location → IR / verifier / prover sha256. */
function builtin(name) {
  const base = path.join(FIXTURES, 'builtin', name)
  return {
    bzkir: `${base}.bzkir`,
    verifier: `${base}.verifier`,
    proverSha256: fs.readFileSync(`${base}.prover.sha256`, 'utf8').trim().split(/\s+/)[0],
  }
}

module.exports = { ROOT, FIXTURES, ARTTT, CIRCUITS, sha256, keysFor, compactDir, tempDir, testCircuit, witness, expected, builtin }
