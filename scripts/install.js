#!/usr/bin/env node
'use strict'
// npm "install" hook. A prebuilt binary is used when one loads: the platform package npm installed
// from optionalDependencies (midnight-native-prover-linux-x64-gnu, ...), or a .node file already next
// to the loader. Only when none loads is the addon compiled from the Rust sources shipped in this
// package, with cargo alone: a consumer's install needs neither @napi-rs/cli nor a compiler when a
// prebuilt binary fits. In a clone, where @napi-rs/cli is a devDependency, the build goes through it
// (as `npm run build` does) so binding.d.ts is regenerated too.
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const pkg = require(path.join(root, 'package.json'))
const name = pkg.napi.binaryName

// The loader's own names for the napi targets (napi-rs's platformArchABI).
function platformName(triple) {
  const [arch, , os, abi] = triple.split('-')
  const cpu = { x86_64: 'x64', aarch64: 'arm64', i686: 'ia32', armv7: 'arm' }[arch] ?? arch
  const platform = { linux: 'linux', darwin: 'darwin', windows: 'win32', freebsd: 'freebsd' }[os] ?? os
  return abi ? `${platform}-${cpu}-${abi}` : `${platform}-${cpu}`
}
const prebuilt = pkg.napi.targets.map(platformName)

function isMusl() {
  if (process.platform !== 'linux') return false
  const report = process.report?.getReport?.()
  return !report?.header?.glibcVersionRuntime
}
function hostName() {
  const { platform, arch } = process
  if (platform === 'linux') return `linux-${arch}-${isMusl() ? 'musl' : 'gnu'}`
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

function prebuiltLoads() {
  try {
    require(path.join(root, 'binding.js'))
    return { ok: true }
  } catch (err) {
    return { ok: false, err }
  }
}

function run(cmd, args, env = process.env) {
  console.log(`midnight-native-prover: ${cmd} ${args.join(' ')}`)
  return spawnSync(cmd, args, { cwd: root, env, stdio: 'inherit', shell: process.platform === 'win32' })
}

function resolveNapiCli() {
  try {
    // The CLI's exports map hides dist/cli.js, so locate it through its package.json.
    return path.join(path.dirname(require.resolve('@napi-rs/cli/package.json', { paths: [root] })), 'dist', 'cli.js')
  } catch {
    return null
  }
}

// cargo's library file for this OS, copied to the name binding.js loads first. The host triple is
// passed as --target, like `napi build` does, so both share the same artifact directory.
function cargoBuild() {
  const triple = /^host: (\S+)$/m.exec(spawnSync('rustc', ['-vV'], { encoding: 'utf8' }).stdout ?? '')?.[1]
  if (!triple) return 1
  const result = run('cargo', ['build', '--release', '--lib', '--locked', '--target', triple])
  if (result.status !== 0) return result.status ?? 1
  const targetDir = process.env.CARGO_TARGET_DIR ? path.resolve(root, process.env.CARGO_TARGET_DIR) : path.join(root, 'target')
  const lib = { darwin: `lib${name.replace(/-/g, '_')}.dylib`, win32: `${name.replace(/-/g, '_')}.dll` }[process.platform] ??
    `lib${name.replace(/-/g, '_')}.so`
  const dest = path.join(root, `${name}.${hostName()}.node`)
  fs.copyFileSync(path.join(targetDir, triple, 'release', lib), dest)
  console.log(`midnight-native-prover: built ${path.basename(dest)}`)
  return 0
}

if (process.env.MIDNIGHT_NATIVE_PROVER_SKIP_BUILD) process.exit(0)
const force = Boolean(process.env.MIDNIGHT_NATIVE_PROVER_FORCE_BUILD)
const loaded = force ? { ok: false } : prebuiltLoads()
if (loaded.ok) process.exit(0)

const host = hostName()
const hasPrebuilt = prebuilt.includes(host)
// Why no prebuilt binary serves this install, in one line.
function whyNoPrebuilt() {
  if (force) return 'MIDNIGHT_NATIVE_PROVER_FORCE_BUILD is set, which compiles from source.'
  if (!hasPrebuilt) return `There is no prebuilt binary for this platform (${host}).`
  const platformPkg = `${name}-${host}`
  try {
    require.resolve(platformPkg, { paths: [root] })
  } catch {
    return `The prebuilt package ${platformPkg} is not installed (npm leaves it out with --omit=optional or --no-optional).`
  }
  try {
    require(require.resolve(platformPkg, { paths: [root] }))
    return `The prebuilt package ${platformPkg} loads, but binding.js did not: ${String(loaded.err?.message).split('\n')[0]}`
  } catch (err) {
    return `The prebuilt package ${platformPkg} is installed but does not load: ${String(err.message).split('\n')[0]}`
  }
}

if (spawnSync('cargo', ['--version'], { stdio: 'ignore' }).status !== 0) {
  console.error(
    'midnight-native-prover: cannot install.\n' +
      `  ${whyNoPrebuilt()}\n` +
      '  Compiling it from source needs Rust (cargo), which is not on PATH.\n' +
      `  Prebuilt binaries (no Rust needed): ${prebuilt.join(', ')}.\n` +
      '  To compile from source: install Rust >= 1.88 (https://rustup.rs) and a C compiler (gcc or clang),\n' +
      '  then run `npm rebuild midnight-native-prover`.',
  )
  process.exit(1)
}

console.log(
  `midnight-native-prover: compiling the addon from source (${force ? 'MIDNIGHT_NATIVE_PROVER_FORCE_BUILD' : `no prebuilt binary loaded for ${host}`}); ` +
    'a release build of the Midnight crates takes minutes',
)
// Our diffs to crates.io sources (patches/) are applied before cargo resolves the manifest.
const patched = run(process.execPath, [path.join(__dirname, 'patch-crates.js')])
if (patched.status !== 0) process.exit(patched.status ?? 1)
const napi = resolveNapiCli()
if (napi) {
  // binding.js is the committed loader and index.d.ts is hand-written: only the .node file and the
  // generated binding.d.ts are (re)written here.
  const result = run(process.execPath, [napi, 'build', '--platform', '--release', '--no-js', '--dts', 'binding.d.ts'])
  process.exit(result.status ?? 1)
}
process.exit(cargoBuild())
