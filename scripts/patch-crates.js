#!/usr/bin/env node
'use strict'
// Applies our diffs to crates.io sources, the way patch-package does for npm packages: each
// `patches/<crate>+<version>.patch` is applied to a fresh copy of that crate's crates.io source in
// `target/patch/<crate>-<version>`, which Cargo.toml's [patch.crates-io] points at. No upstream
// source is committed, only the diff. Run by every build path (npm install, npm test, npm run
// build, scripts/build-platforms.sh); a plain `cargo` in a fresh clone needs `node
// scripts/patch-crates.js` once first. Idempotent: a copy whose stamp names the same diff is kept.
const { spawnSync } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const root = path.join(__dirname, '..')
const patchesDir = path.join(root, 'patches')
const outDir = path.join(root, 'target', 'patch')
const STAMP = '.midnight-native-prover-patch'

function fail(message) {
  console.error(`patch-crates: ${message}`)
  process.exit(1)
}

// <crate>+<version>.patch, patch-package's naming.
function patchList() {
  if (!fs.existsSync(patchesDir)) return []
  return fs
    .readdirSync(patchesDir)
    .filter((f) => f.endsWith('.patch'))
    .map((file) => {
      const m = /^(.+)\+(\d+\.\d+\.\d+[^+]*)\.patch$/.exec(file)
      if (!m) fail(`patches/${file}: expected <crate>+<version>.patch`)
      return { file: path.join(patchesDir, file), crate: m[1], version: m[2] }
    })
}

function cargoHome() {
  return process.env.CARGO_HOME || path.join(os.homedir(), '.cargo')
}

function registrySource(crate, version) {
  const src = path.join(cargoHome(), 'registry', 'src')
  if (!fs.existsSync(src)) return null
  for (const index of fs.readdirSync(src)) {
    const dir = path.join(src, index, `${crate}-${version}`)
    if (fs.existsSync(path.join(dir, 'Cargo.toml')) && fs.existsSync(path.join(dir, '.cargo-ok'))) return dir
  }
  return null
}

// Cargo downloads and unpacks the exact release (checking crates.io's checksum) for a scratch
// manifest that depends on it alone: this project's own manifest cannot be resolved before the
// patched copy exists.
function fetchSource(crate, version) {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mnp-patch-'))
  try {
    fs.mkdirSync(path.join(scratch, 'src'))
    fs.writeFileSync(path.join(scratch, 'src', 'lib.rs'), '')
    fs.writeFileSync(
      path.join(scratch, 'Cargo.toml'),
      `[package]\nname = "mnp-patch-fetch"\nversion = "0.0.0"\nedition = "2021"\n\n[dependencies]\n${crate} = "=${version}"\n`,
    )
    const r = spawnSync('cargo', ['fetch'], { cwd: scratch, stdio: 'inherit' })
    if (r.status !== 0) fail(`cargo fetch of ${crate} ${version} failed`)
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true })
  }
  return registrySource(crate, version) ?? fail(`${crate} ${version} is not in ${cargoHome()}/registry/src after cargo fetch`)
}

// A unified diff (diff -ru / git diff), paths stripped of their first component (-p1).
function parseDiff(text, name) {
  const files = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith('--- ') || !lines[i + 1]?.startsWith('+++ ')) continue
    const target = lines[i + 1].slice(4).split('\t')[0].trim().split('/').slice(1).join('/')
    const file = { path: target, hunks: [] }
    i += 2
    for (; i < lines.length && lines[i].startsWith('@@'); ) {
      const m = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(lines[i])
      if (!m) fail(`${name}: bad hunk header ${lines[i]}`)
      const hunk = { oldStart: Number(m[1]), old: [], new: [] }
      let [oldLeft, newLeft] = [Number(m[2] ?? 1), Number(m[4] ?? 1)]
      for (i++; oldLeft > 0 || newLeft > 0; i++) {
        const line = lines[i]
        if (line === undefined) fail(`${name}: hunk of ${target} ends early`)
        if (line.startsWith('\\')) continue
        const body = line.slice(1)
        if (line[0] === ' ' || line === '') hunk.old.push(body), hunk.new.push(body), oldLeft--, newLeft--
        else if (line[0] === '-') hunk.old.push(body), oldLeft--
        else if (line[0] === '+') hunk.new.push(body), newLeft--
        else fail(`${name}: unexpected line in hunk of ${target}: ${line}`)
      }
      file.hunks.push(hunk)
    }
    i--
    files.push(file)
  }
  if (files.length === 0) fail(`${name}: no file in the diff`)
  return files
}

// Every hunk must match its context exactly, at its line or (if the release moved it) at exactly
// one other place: a diff that no longer fits fails the build instead of patching the wrong code.
function applyHunks(text, hunks, where) {
  const lines = text.split('\n')
  let shift = 0
  for (const hunk of hunks) {
    const matchesAt = (at) => hunk.old.every((l, k) => lines[at + k] === l)
    let at = hunk.oldStart - 1 + shift
    if (!matchesAt(at)) {
      const found = lines.map((_, k) => k).filter(matchesAt)
      if (found.length !== 1) fail(`${where}: a hunk at line ${hunk.oldStart} does not apply`)
      at = found[0]
    }
    lines.splice(at, hunk.old.length, ...hunk.new)
    shift = at + hunk.new.length - (hunk.oldStart - 1 + hunk.old.length)
  }
  return lines.join('\n')
}

function applyPatch({ file, crate, version }) {
  const diff = fs.readFileSync(file, 'utf8')
  const stamp = crypto.createHash('sha256').update(diff).digest('hex')
  const dest = path.join(outDir, `${crate}-${version}`)
  if (fs.existsSync(path.join(dest, STAMP)) && fs.readFileSync(path.join(dest, STAMP), 'utf8') === stamp) return false
  const source = registrySource(crate, version) ?? fetchSource(crate, version)
  fs.mkdirSync(outDir, { recursive: true })
  const staging = fs.mkdtempSync(path.join(outDir, `.${crate}-`))
  fs.cpSync(source, staging, { recursive: true })
  for (const f of parseDiff(diff, path.basename(file))) {
    const target = path.join(staging, f.path)
    if (!target.startsWith(staging + path.sep)) fail(`${path.basename(file)}: path ${f.path} leaves the crate`)
    fs.writeFileSync(target, applyHunks(fs.readFileSync(target, 'utf8'), f.hunks, `${path.basename(file)} ${f.path}`))
  }
  fs.writeFileSync(path.join(staging, STAMP), stamp)
  fs.rmSync(dest, { recursive: true, force: true })
  fs.renameSync(staging, dest)
  return true
}

for (const p of patchList()) {
  if (applyPatch(p)) console.log(`patch-crates: ${p.crate} ${p.version} patched with patches/${path.basename(p.file)}`)
}
