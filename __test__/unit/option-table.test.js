'use strict'
// The option table (lib/option-table.js) against every place that restates an option and cannot
// derive from it: index.d.ts (ProverOptions, KeygenOptions), the Rust NativeConfig and
// ProverConfig (read as text), serve's flags, variables and usage text, the deployment settings
// (.ci/validate-deploy, docs/deploy.md) and the README's option table. An option added, renamed or
// dropped in one place and not the others fails here.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { OPTIONS } = require('../../lib/option-table')
const { resolveOptions, NATIVE_FIELDS } = require('../../lib/options')
const { resolveServeConfig, USAGE, FLAGS, API_KEY_ENV } = require('../../lib/serve/config')
const { makeApi } = require('../../lib/api')
const { fakeBinding } = require('./fake-binding')

const ROOT = path.join(__dirname, '..', '..')
const read = (file) => fs.readFileSync(path.join(ROOT, file), 'utf8')
const names = (list) => list.map((option) => option.name).sort()
const camel = (snake) => snake.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase())
const oneLine = (text) => text.replace(/\s+/g, ' ').trim()
/** Options the binding takes inside NativeConfig's `params` object (NativeParamsSources). */
const PARAMS = OPTIONS.filter((option) => option.native?.startsWith('params.'))

/** The text from `opening` to the first line that is just `}` (a TypeScript or Rust block). */
function block(text, opening, where) {
  const start = text.search(opening)
  assert.ok(start >= 0, `${where}: no ${opening}`)
  const end = text.indexOf('\n}', start)
  return text.slice(text.indexOf('{', start) + 1, end)
}

/** An interface's members as `{ name, ts, doc }`, each doc comment as one line. */
function interfaceMembers(name) {
  const members = []
  let doc // the lines of the doc comment before the next member
  let inDoc = false
  for (const line of block(read('index.d.ts'), new RegExp(`export interface ${name}\\b[^{]*\\{`), 'index.d.ts').split('\n')) {
    const text = line.trim()
    if (text.startsWith('/**')) [doc, inDoc] = [[], true]
    if (inDoc) {
      doc.push(text.replace(/^\/\*\*/, '').replace(/\*\/$/, '').replace(/^\*/, ''))
      inDoc = !text.endsWith('*/')
      continue
    }
    const m = /^(\w+)\?: (.+)$/.exec(text)
    if (m) {
      members.push({ name: m[1], ts: m[2], doc: oneLine((doc ?? []).join(' ')) })
      doc = undefined
    }
  }
  return members
}

/** The field names of a Rust struct defined in one of `files`, camelCased as napi exposes them. */
function rustFields(files, struct) {
  const holder = files.find((file) => new RegExp(`pub struct ${struct} \\{`).test(read(file)))
  assert.ok(holder, `no pub struct ${struct} in ${files.join(', ')}`)
  return [...block(read(holder), new RegExp(`pub struct ${struct} \\{`), holder).matchAll(/^\s*pub (\w+):/gm)].map((m) => camel(m[1])).sort()
}

/** The .rs files under a directory of the repository, recursively. */
const rustFiles = (dir) => fs.readdirSync(path.join(ROOT, dir), { recursive: true }).filter((f) => f.endsWith('.rs')).map((f) => path.join(dir, f))

test('index.d.ts ProverOptions: one member per option, with its type and its doc (naming its variable)', () => {
  const members = interfaceMembers('ProverOptions')
  assert.deepEqual(names(members), names(OPTIONS))
  for (const option of OPTIONS) {
    const member = members.find((m) => m.name === option.name)
    assert.equal(member.ts, option.type.ts, `${option.name}: type`)
    assert.equal(member.doc, oneLine(option.doc.join(' ')), `${option.name}: doc comment`)
    assert.ok(member.doc.includes(option.env), `${option.name}: the doc names ${option.env}`)
  }
})

test('index.d.ts KeygenOptions: the parameter options, with their types', () => {
  const members = interfaceMembers('KeygenOptions')
  assert.deepEqual(names(members), names(PARAMS))
  for (const option of PARAMS) assert.equal(members.find((m) => m.name === option.name).ts, option.type.ts, option.name)
})

test('Rust: NativeConfig, NativeParamsSources and ProverConfig have a field for each place the table gives, and no other', () => {
  const binding = rustFiles('src/binding')
  assert.deepEqual(rustFields(binding, 'NativeConfig'), [...NATIVE_FIELDS].sort())
  assert.deepEqual(rustFields(binding, 'NativeParamsSources'), PARAMS.map((option) => option.native.split('.')[1]).sort())
  assert.deepEqual(rustFields(rustFiles('crates/service/src'), 'ProverConfig'), [...NATIVE_FIELDS].sort())
})

test('createProver names exactly the table\'s options, checks each, and hands the binding exactly NativeConfig\'s fields', async () => {
  assert.throws(() => resolveOptions({ nope: 1 }), { code: 'INVALID_OPTIONS', message: `options.nope: unknown option (known: ${OPTIONS.map((o) => o.name).join(', ')})` })
  // No kind of option takes an object.
  for (const option of OPTIONS) assert.throws(() => resolveOptions({ [option.name]: {} }), (err) => err.code === 'INVALID_OPTIONS' && err.message.startsWith(`options.${option.name}: `), option.name)
  const binding = fakeBinding()
  await makeApi(binding).createProver({})
  assert.deepEqual(Object.keys(binding.provers[0].config).sort(), [...NATIVE_FIELDS].sort())
  assert.deepEqual(Object.keys(binding.provers[0].config.params).sort(), PARAMS.map((option) => option.native.split('.')[1]).sort())
})

test('serve: each option\'s flag reads its text as the option\'s variable would; a flag with a variable of its own reads it', () => {
  for (const option of OPTIONS.filter((o) => o.serve)) {
    const { flag, env = option.env } = option.serve
    assert.equal(FLAGS[flag]?.env, env, `--${flag}`)
    const text = option.type.ts === 'number' ? '2' : '/tmp'
    assert.deepEqual(resolveServeConfig([`--${flag}`, text], {}).prover, { [option.name]: option.type.read(text) }, `--${flag}`)
    // Without its own variable, the option's is left to createProver (which names it in errors).
    const fromEnv = option.serve.env === undefined ? {} : { [option.name]: option.type.read(text) }
    assert.deepEqual(resolveServeConfig([], { [env]: text }).prover, fromEnv, env)
  }
})

test('serve --help names every flag and variable serve reads, and no other', () => {
  const flags = Object.keys(FLAGS)
  const variables = new Set([...Object.values(FLAGS).map((f) => f.env), API_KEY_ENV, ...OPTIONS.map((o) => o.env)])
  assert.deepEqual([...new Set(USAGE.match(/--[a-z][a-z-]*/g))].sort(), flags.map((f) => `--${f}`).sort())
  for (const flag of flags) assert.ok(USAGE.includes(FLAGS[flag].env), `${FLAGS[flag].env} (--${flag})`)
  assert.ok(USAGE.includes(API_KEY_ENV))
  for (const name of USAGE.match(/\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b/g)) assert.ok(variables.has(name), `${name} in USAGE`)
})

test('the deployment settings (.ci/validate-deploy, docs/deploy.md) name only variables serve reads', () => {
  const variables = new Set([...Object.values(FLAGS).map((f) => f.env), API_KEY_ENV, ...OPTIONS.map((o) => o.env)])
  const contract = /CONTRACT = \{([^}]*)\}/.exec(read('.ci/validate-deploy'))[1].match(/'([A-Z0-9_]+)'/g).map((s) => s.slice(1, -1))
  for (const name of contract.filter((n) => n !== 'NODE_ENV')) assert.ok(variables.has(name), `.ci/validate-deploy CONTRACT: ${name}`)
  const settings = /## Settings\n([\s\S]*?)\n## /.exec(read('docs/deploy.md'))[1]
  const documented = [...settings.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1])
  assert.ok(documented.length > 0, 'docs/deploy.md: a settings table')
  for (const name of documented) assert.ok(variables.has(name), `docs/deploy.md: ${name}`)
})

test('the README\'s option table: a row per option, naming its variable', () => {
  const section = /### Options\n([\s\S]*?)\n### /.exec(read('README.md'))[1]
  const rows = [...section.matchAll(/^\| `(\w+)`.*$/gm)]
  assert.deepEqual(rows.map((m) => m[1]).sort(), names(OPTIONS))
  for (const [row, name] of rows) assert.ok(row.includes(`\`${OPTIONS.find((o) => o.name === name).env}`), `README row of ${name}`)
})
