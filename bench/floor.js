'use strict'
// The "Rust floor" column: examples/floor.rs, run as its own process on the bench's keys.
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const ROOT = path.resolve(__dirname, '..')
const TARGET = process.env.CARGO_TARGET_DIR ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR) : path.join(ROOT, 'target')
const BINARY = path.join(TARGET, 'release', 'examples', 'floor')

/**
 * Path of the floor binary, built (or found up to date) by cargo on every run: it links this
 * crate and the patched dependencies, so its source file's age alone cannot tell it is current.
 */
function floorBinary(log) {
  log('building the Rust floor: cargo build --release --example floor')
  // Like every build path, first our diffs to the crates.io sources (kept when already applied).
  // Output goes to stderr so stdout keeps only the table.
  run(process.execPath, [path.join(ROOT, 'scripts', 'patch-crates.js')])
  run('cargo', ['build', '--release', '--example', 'floor'])
  return BINARY
}

/** Runs a build step in the repository root; throws when it fails. */
function run(command, args) {
  const step = spawnSync(command, args, { cwd: ROOT, stdio: ['ignore', 2, 2] })
  if (step.error) throw step.error
  if (step.status !== 0) throw new Error(`${path.basename(command)} ${args.join(' ')} failed (exit ${step.status})`)
}

/**
 * Per-iteration ms of `iterations` floor proofs of `circuitId` (after the floor's own warm-up),
 * the ms of Midnight's own decode of its prover key (`decodeMs`) and the most heap a proof held
 * (`peakProofBytes`).
 * The preimage goes through a file next to the keys, as the CLI takes it; `paramsDir` holds the
 * parameters past k = 14 (development ones, the addon's too).
 */
function runFloor(binary, { dir, circuitId, preimage, iterations, threads, paramsDir }) {
  const preimageFile = path.join(dir, `${circuitId}.preimage`)
  fs.writeFileSync(preimageFile, preimage)
  const args = [dir, circuitId, preimageFile, String(iterations), String(threads), paramsDir]
  const run = spawnSync(binary, args, { stdio: ['ignore', 'pipe', 2], encoding: 'utf8' })
  if (run.error) throw run.error
  if (run.status !== 0) throw new Error(`floor ${circuitId} failed (exit ${run.status})`)
  const result = JSON.parse(run.stdout.trim().split('\n').pop())
  return { iterationsMs: result.iterationsMs, decodeMs: result.decodeMs, peakProofBytes: result.peakProofBytes }
}

module.exports = { floorBinary, runFloor }
