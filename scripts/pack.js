#!/usr/bin/env node
'use strict'
// Pack what gets published: the main package, listing every platform package of package.json's
// napi.targets in optionalDependencies at its own version (what `napi pre-publish` writes at
// publish time), and one tarball per platform package under npm/<platform>/ whose .node has been
// built (`npm run build:platforms`). The work tree's package.json is left as it is: a clone installs
// and builds from source, and its lockfile needs no packages that are not on the registry yet.
//
//   node scripts/pack.js [--out DIR] [platform ...]    (default DIR: dist/, platforms: all built)
// Prints the tarball paths, main package first.
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const root = path.join(__dirname, '..')
const pkg = require(path.join(root, 'package.json'))
const args = process.argv.slice(2)
const outIdx = args.indexOf('--out')
const out = path.resolve(outIdx >= 0 ? args.splice(outIdx, 2)[1] : path.join(root, 'dist'))
fs.mkdirSync(out, { recursive: true })

const npm = (argv, cwd) => execFileSync('npm', argv, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
const packTo = (dir) => path.join(out, JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', out], dir))[0].filename)

const platforms = fs.readdirSync(path.join(root, 'npm')).filter((d) => fs.existsSync(path.join(root, 'npm', d, 'package.json')))
const optional = {}
for (const dir of platforms) {
  const p = require(path.join(root, 'npm', dir, 'package.json'))
  if (p.version !== pkg.version) throw new Error(`npm/${dir}/package.json is at ${p.version}, the main package at ${pkg.version}`)
  optional[p.name] = pkg.version
}

// The main package, staged with exactly the files `npm pack` would take from the work tree.
const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'mnp-pack-'))
for (const { path: f } of JSON.parse(npm(['pack', '--dry-run', '--json', '--ignore-scripts'], root))[0].files) {
  fs.mkdirSync(path.dirname(path.join(stage, f)), { recursive: true })
  fs.copyFileSync(path.join(root, f), path.join(stage, f))
}
fs.writeFileSync(path.join(stage, 'package.json'), JSON.stringify({ ...pkg, optionalDependencies: optional }, null, 2) + '\n')
const tarballs = [packTo(stage)]
fs.rmSync(stage, { recursive: true, force: true })

const wanted = args.length ? args : platforms
for (const dir of wanted) {
  const p = require(path.join(root, 'npm', dir, 'package.json'))
  if (!fs.existsSync(path.join(root, 'npm', dir, p.main))) {
    throw new Error(`npm/${dir}/${p.main} is not built: run \`npm run build:platforms\` (or bash scripts/build-platforms.sh ${dir})`)
  }
  tarballs.push(packTo(path.join(root, 'npm', dir)))
}
console.log(tarballs.join('\n'))
