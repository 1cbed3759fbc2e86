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

/**
 * The cache entry of keys for `ir` made with `options` (keygen's): Midnight's parameters, or the
 * development parameters of `options.paramsPath`, told apart by their trailer (seed and checksum).
 */
function cacheFiles(ir, options) {
  const setup = options?.allowUnpinnedParams ? paramsIdentity(options.paramsPath) : ''
  return ['prover', 'verifier'].map((ext) => path.join(CACHE, sha256(Buffer.concat([ir, Buffer.from(setup)])), ext))
}

/** The last 64 bytes (seed digest and checksum) of every development parameters file in `dir`. */
function paramsIdentity(dir) {
  const files = fs.readdirSync(dir).filter((f) => /^bls_midnight_2p\d+$/.test(f)).sort()
  return files.map((f) => {
    const fd = fs.openSync(path.join(dir, f), 'r')
    const tail = Buffer.alloc(64)
    fs.readSync(fd, tail, 0, 64, fs.fstatSync(fd).size - 64)
    fs.closeSync(fd)
    return `${f}:${tail.toString('hex')}`
  }).join(',')
}

/** Generates keys for an IR file now (never from the cache) and refreshes the cache. */
async function freshKeys(irPath, options) {
  const ir = fs.readFileSync(irPath)
  const keys = await keygen(ir, options)
  const [prover, verifier] = cacheFiles(ir, options)
  fs.mkdirSync(path.dirname(prover), { recursive: true })
  // Written under temporary names and renamed, so a half-written key is never picked up.
  fs.writeFileSync(verifier + '.tmp', keys.verifierKey)
  fs.writeFileSync(prover + '.tmp', keys.proverKey)
  fs.renameSync(verifier + '.tmp', verifier)
  fs.renameSync(prover + '.tmp', prover)
  return keys
}

/** Keys for an IR file (made with keygen `options`): from the cache when present, else generated. */
async function keysFor(irPath, options) {
  const cached = cacheFiles(fs.readFileSync(irPath), options)
  if (cached.every((p) => fs.existsSync(p))) {
    return { proverKey: fs.readFileSync(cached[0]), verifierKey: fs.readFileSync(cached[1]) }
  }
  return freshKeys(irPath, options)
}

function tempDir(prefix = 'mnp-test-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix))
}

/**
 * A fresh Compact output directory holding the given circuits: `{ id: irPath }`.
 * Keys come from `keysFor` (with keygen options `optionsFor(id)`); the IR is copied under its own extension.
 */
async function compactDir(circuits, optionsFor = () => undefined) {
  const dir = tempDir()
  fs.mkdirSync(path.join(dir, 'keys'))
  fs.mkdirSync(path.join(dir, 'zkir'))
  for (const [id, irPath] of Object.entries(circuits)) {
    fs.copyFileSync(irPath, path.join(dir, 'zkir', id + path.extname(irPath)))
    const keys = await keysFor(irPath, optionsFor(id))
    fs.writeFileSync(path.join(dir, 'keys', `${id}.prover`), keys.proverKey)
    fs.writeFileSync(path.join(dir, 'keys', `${id}.verifier`), keys.verifierKey)
  }
  return dir
}

/** Our test circuit `name` from __test__/circuits. */
const testCircuit = (name) => path.join(CIRCUITS, `${name}.zkir`)
const witness = (file) => JSON.parse(fs.readFileSync(path.join(CIRCUITS, file), 'utf8'))
/** The witness of a real Compact circuit `id` (arttt's), from __test__/compact. */
const compactWitness = (id) => JSON.parse(fs.readFileSync(path.join(ROOT, '__test__', 'compact', `${id}.witness.json`), 'utf8'))
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

module.exports = { ROOT, FIXTURES, ARTTT, CIRCUITS, sha256, freshKeys, keysFor, compactDir, tempDir, testCircuit, witness, compactWitness, expected, builtin }
