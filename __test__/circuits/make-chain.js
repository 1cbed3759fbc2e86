#!/usr/bin/env node
'use strict';
// Generator / verifier for the synthetic benchmark chains bench_k<k> in this directory.
//
//   node __test__/circuits/make-chain.js 15 16 17          verify bench_k15..17 against what is on disk
//   node __test__/circuits/make-chain.js --write 15 16 17  (re)write bench_k<k>.zkir, .witness.json, .bad.witness.json
//
// A chain of N is: transient_hash(in0, in1), then N - 1 times transient_hash(prev, in0), then
// declare_pub_input(last) and pi_skip(null, 1); inputs are [1, 2], binding input 0, and the
// public transcript input is the last hash. N is the largest chain whose k is the target k.
//
// Needs no cargo and no native addon, only the official wasm @midnight-ntwrk/zkir-v2 (a dev
// dependency; Node >= 20.19 / >= 22.12 to require() it):
//  * k = Zkir.fromJson(ir).getK(). It reproduces every chain boundary of bench_k6..bench_k14
//    (e.g. 744 hashes -> 14, 745 -> 15). It does NOT give the row count (ir.model().rows()):
//    that needs the midnight-zkir crate.
//  * the hash comes from zkir-v2's check: a witness claiming 1 fails with "Public transcript input
//    mismatch for input 0; expected: Some(01), computed: Some(<hex>)", <hex> being the value in
//    little-endian with trailing zero bytes dropped (the Fr Debug format);
//  * the good witness must then pass check (pi skips [undefined]) and the bad one (claim 1) fail.
// check takes a tagged 'midnight:proof-preimage:' serialization, written here by hand with
// midnight-serialize's rules (a Vec is a SCALE-compact u32 length then its items, an Fr is the
// SCALE-compact big integer of its little-endian bytes, an Option is a 0/1 byte then the value, a
// string a SCALE-compact u64 length then its bytes). The same serializer reproduces the README's
// check messages for the hand-written circuits, so it is what the crate reads.
const fs = require('fs');
const path = require('path');
const Z = require('@midnight-ntwrk/zkir-v2');

const DIR = __dirname;
const P = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n; // BLS12-381 scalar field
const INPUTS = ['1', '2'];

/** bench_k<k>.zkir text for a chain of n transient_hash, formatted like the existing files. */
function chainIr(n) {
  const lines = ['    { "op": "transient_hash", "inputs": [0, 1] }'];
  for (let i = 1; i < n; i++) lines.push(`    { "op": "transient_hash", "inputs": [${i + 1}, 0] }`);
  lines.push(`    { "op": "declare_pub_input", "var": ${n + 1} }`, '    { "op": "pi_skip", "guard": null, "count": 1 }');
  return [
    '{',
    '  "version": { "major": 2, "minor": 0 },',
    '  "do_communications_commitment": false,',
    `  "num_inputs": ${INPUTS.length},`,
    '  "instructions": [',
    lines.join(',\n'),
    '  ]',
    '}',
    '',
  ].join('\n');
}

function witness(claimed) {
  return { inputs: INPUTS, privateTranscript: [], publicTranscriptInputs: [claimed], publicTranscriptOutputs: [], bindingInput: '0' };
}
const witnessText = (w) => JSON.stringify(w, null, 2) + '\n';

/** SCALE-compact encoding of a non-negative integer (midnight-serialize's ScaleBigInt). */
function compact(value) {
  const n = BigInt(value);
  if (n < 0n) throw new RangeError('negative');
  if (n < 1n << 6n) return [Number(n) << 2];
  if (n < 1n << 14n) return [((Number(n) & 0x3f) << 2) | 1, Number(n) >> 6];
  if (n < 1n << 30n) {
    const v = Number(n) * 4 + 2;
    return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
  }
  const le = [];
  for (let x = n; x > 0n; x >>= 8n) le.push(Number(x & 0xffn));
  return [((le.length - 4) << 2) | 3, ...le];
}

function field(text) {
  const v = BigInt(text);
  if (v < 0n || v >= P) throw new RangeError(`${text} is not a field element`);
  return v;
}

/** Tagged ProofPreimage bytes of a JSON witness (the form zkir-v2's check and the ledger use). */
function serializePreimage(keyLocation, w) {
  const out = [...Buffer.from('midnight:proof-preimage:')];
  const vec = (list = []) => {
    out.push(...compact(list.length));
    for (const x of list) out.push(...compact(field(x)));
  };
  vec(w.inputs);
  vec(w.privateTranscript);
  vec(w.publicTranscriptInputs);
  vec(w.publicTranscriptOutputs);
  out.push(...compact(field(w.bindingInput || '0')));
  if (w.communicationsCommitment) out.push(1, ...compact(field(w.communicationsCommitment[0])), ...compact(field(w.communicationsCommitment[1])));
  else out.push(0);
  const loc = Buffer.from(keyLocation);
  out.push(...compact(loc.length), ...loc);
  return Uint8Array.from(out);
}

/** zkir-v2 check of a JSON witness against IR text: resolves to the pi-skip vector, or rejects. */
function check(irText, w) {
  const ir = Z.jsonIrToBinary(irText);
  const km = {
    lookupKey: async () => ({ proverKey: new Uint8Array(0), verifierKey: new Uint8Array(0), ir }),
    getParams: async () => {
      throw new Error('check needs no params');
    },
  };
  return Z.check(serializePreimage('chain', w), km);
}

const kOf = (n) => Z.Zkir.fromJson(chainIr(n)).getK();

/** Largest n with kOf(n) === k (k is monotone in n); starts near rows = 22 n + 2 < 2^k. */
function largestChain(k) {
  let n = Math.max(1, Math.floor((2 ** k - 10) / 22));
  while (n > 1 && kOf(n) > k) n--;
  while (kOf(n + 1) <= k) n++;
  if (kOf(n) !== k) throw new Error(`no chain has k = ${k}`);
  return n;
}

const MISMATCH = /^Public transcript input mismatch for input 0; expected: Some\(01\), computed: Some\(([0-9a-f]+)\)$/;
const errText = (e) => String((e && e.message) || e);
/** Little-endian hex (trailing zero bytes dropped) -> bigint. */
const leHex = (hex) => BigInt('0x' + (Buffer.from(hex, 'hex').reverse().toString('hex') || '0'));

async function build(k) {
  const n = largestChain(k);
  const ir = chainIr(n);
  const bad = witness('1');
  let badError;
  try {
    await check(ir, bad);
  } catch (e) {
    badError = errText(e);
  }
  const m = badError && MISMATCH.exec(badError);
  if (!m) throw new Error(`bench_k${k}: claiming 1 did not fail with the mismatch error: ${badError}`);
  const hash = leHex(m[1]).toString();
  const good = witness(hash);
  const skips = await check(ir, good);
  if (skips.length !== 1 || skips[0] !== undefined) throw new Error(`bench_k${k}: unexpected pi skips ${skips}`);
  return { k, n, ir, hash, badError, skips, good: witnessText(good), bad: witnessText(bad) };
}

async function main() {
  const args = process.argv.slice(2);
  const write = args.includes('--write');
  const ks = args.filter((a) => a !== '--write').map(Number);
  if (!ks.length || ks.some((k) => !Number.isInteger(k) || k < 6 || k > 25)) {
    console.error('usage: make-chain.js [--write] <k>...');
    process.exit(2);
  }
  let ok = true;
  for (const k of ks) {
    const t0 = Date.now();
    const r = await build(k);
    const files = { [`bench_k${k}.zkir`]: r.ir, [`bench_k${k}.witness.json`]: r.good, [`bench_k${k}.bad.witness.json`]: r.bad };
    console.log(`bench_k${k}: N = ${r.n} (N + 1 -> k ${k + 1}), hash ${r.hash}, good check -> [${r.skips.map(String)}], bad check -> ${r.badError}`);
    for (const [name, text] of Object.entries(files)) {
      const file = path.join(DIR, name);
      if (write) fs.writeFileSync(file, text);
      const state = !fs.existsSync(file) ? 'MISSING' : fs.readFileSync(file, 'utf8') === text ? 'matches the file' : 'DIFFERS from the file';
      if (state !== 'matches the file') ok = false;
      console.log(`  ${name}: ${Buffer.byteLength(text)} bytes, ${write ? 'written' : state}`);
    }
    console.log(`  expected.json: k ${k}, publicInputs ["0", "${r.hash}"], piSkips [null]  (${Date.now() - t0} ms)`);
  }
  if (!ok) process.exitCode = 1;
}

/**
 * Writes bench_k<k>.zkir and its witnesses into `dir` unless they are there: for chains too large
 * to keep in the repository (bench_k20, 2.6 MB of IR), made where they are used.
 */
async function ensureChain(k, dir) {
  const files = [`bench_k${k}.zkir`, `bench_k${k}.witness.json`, `bench_k${k}.bad.witness.json`].map((name) => path.join(dir, name));
  if (files.every((file) => fs.existsSync(file))) return files;
  const r = await build(k);
  fs.mkdirSync(dir, { recursive: true });
  [r.ir, r.good, r.bad].forEach((text, i) => fs.writeFileSync(files[i], text));
  return files;
}

module.exports = { chainIr, serializePreimage, check, kOf, largestChain, ensureChain };
if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
