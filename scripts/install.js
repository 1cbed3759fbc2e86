#!/usr/bin/env node
'use strict'
// npm "install" hook: use a prebuilt binary when one loads (the platform package, or a .node file
// already next to the loader); otherwise compile the addon from the Rust sources in this package.
const { spawnSync } = require('node:child_process')
const path = require('node:path')

const root = path.join(__dirname, '..')

function prebuiltLoads() {
  try {
    require(path.join(root, 'binding.js'))
    return true
  } catch {
    return false
  }
}

function run(cmd, args) {
  console.log(`midnight-native-prover: ${cmd} ${args.join(' ')}`)
  return spawnSync(cmd, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' })
}

if (process.env.MIDNIGHT_NATIVE_PROVER_SKIP_BUILD) process.exit(0)
if (!process.env.MIDNIGHT_NATIVE_PROVER_FORCE_BUILD && prebuiltLoads()) process.exit(0)

if (spawnSync('cargo', ['--version'], { stdio: 'ignore' }).status !== 0) {
  console.error(
    'midnight-native-prover: no prebuilt binary for this platform and no Rust toolchain (cargo) on PATH.\n' +
      'Install Rust from https://rustup.rs and run `npm rebuild midnight-native-prover`.',
  )
  process.exit(1)
}
// The CLI's exports map hides dist/cli.js, so locate it through its package.json.
const napi = path.join(path.dirname(require.resolve('@napi-rs/cli/package.json')), 'dist', 'cli.js')
// binding.js is the committed loader and index.d.ts is hand-written: only the .node file and the
// generated binding.d.ts are (re)written here.
const result = run(process.execPath, [napi, 'build', '--platform', '--release', '--no-js', '--dts', 'binding.d.ts'])
process.exit(result.status ?? 1)
