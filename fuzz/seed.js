#!/usr/bin/env node
'use strict'
// Seeds fuzz/seeds/<target>/ from real artifacts (../shared/fixtures, __test__/circuits, the
// embedded SRS, ledger-v8's payloads). `cargo fuzz cmin` then minimises them into
// fuzz/corpus/<target>/, which is committed and replayed by CI (docs/fuzzing.md).
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const fixtures = path.join(root, '..', 'shared', 'fixtures')
const circuits = path.join(root, '__test__', 'circuits')
const L = require('@midnight-ntwrk/ledger-v8')
const { params, serializePreimage } = require(root)
const { jsonIrToBinary } = require('@midnight-ntwrk/zkir-v2')

const out = (target) => {
  const dir = path.join(__dirname, 'seeds', target)
  fs.mkdirSync(dir, { recursive: true })
  return (name, bytes) => fs.writeFileSync(path.join(dir, name), bytes)
}
const files = (dir, suffix) => fs.readdirSync(dir).filter((f) => f.endsWith(suffix)).map((f) => path.join(dir, f))
const arttt = path.join(fixtures, 'contracts', 'arttt')

const ir = out('ir')
for (const f of [...files(circuits, '.zkir').filter((f) => fs.statSync(f).size < 64 << 10), ...files(path.join(arttt, 'zkir'), '.bzkir')]) {
  ir(path.basename(f), fs.readFileSync(f))
}

// k = 6 keys (decimals, name, symbol, totalSupply): prover_key's first byte 0 means k = 6.
const pk = out('prover_key')
const vk = out('verifier_key')
for (const id of ['decimals', 'name', 'symbol', 'totalSupply']) {
  pk(`${id}.prover`, Buffer.concat([Buffer.from([0]), fs.readFileSync(path.join(arttt, 'keys', `${id}.prover`))]))
}
for (const f of files(path.join(arttt, 'keys'), '.verifier')) vk(path.basename(f), fs.readFileSync(f))

const prove = out('prove_body')
const check = out('check_body')
const arith = serializePreimage('arith', JSON.parse(fs.readFileSync(path.join(circuits, 'arith.witness.json'), 'utf8')))
const arithIr = fs.readFileSync(path.join(circuits, 'arith.zkir'))
prove('arith', L.createProvingPayload(arith, undefined))
check('arith', L.createCheckPayload(arith))
check('arith-with-ir', L.createCheckPayload(arith, jsonIrToBinary(arithIr.toString())))

const paramsFile = out('params_file')
for (const k of [1, 2, 4]) paramsFile(`k${k}`, Buffer.concat([Buffer.from([k]), params(k)]))
