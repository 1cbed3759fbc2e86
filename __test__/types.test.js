'use strict'
// The type contract: index.d.ts re-exports the shapes napi generates from Rust into
// binding.d.ts, and keeps by hand only what the JS layer adds. tsc fails this test when the
// two disagree, or when a public type drifts from what __test__/types/public-api.ts uses.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

test('index.d.ts compiles under --strict and agrees with the generated binding.d.ts', () => {
  const tsc = require.resolve('typescript/bin/tsc')
  const file = path.join(__dirname, 'types', 'public-api.ts')
  const args = [tsc, '--noEmit', '--strict', '--target', 'es2022', '--module', 'commonjs', '--moduleResolution', 'node10', '--types', 'node', '--ignoreDeprecations', '6.0', file]
  const run = spawnSync(process.execPath, args, { encoding: 'utf8', cwd: path.join(__dirname, '..') })
  assert.equal(run.status, 0, `tsc reported:\n${run.stdout}${run.stderr}`)
})
