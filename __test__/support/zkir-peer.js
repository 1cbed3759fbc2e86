'use strict';
// The official wasm prover @midnight-ntwrk/zkir-v2 (2.1.0) as a comparison peer.
// zkir-v2 is an ES module; Node >= 20.19 / >= 22.12 can require() it from CommonJS.
//
// Facts (measured against zkir-v2 2.1.0):
//  * prove(serializedPreimage, km, overwriteBindingInput?) first calls km.lookupKey(keyLocation),
//    where keyLocation is read from inside the preimage; it must resolve to
//    { proverKey, verifierKey, ir } of Uint8Arrays holding the raw *tagged* files:
//    proverKey 'midnight:prover-key[v7](ir-source[v2]):...' (.prover), verifierKey
//    'midnight:verifier-key[v6]:...' (.verifier), ir 'midnight:ir-source[v2]:...' (.bzkir, the
//    same bytes as jsonIrToBinary(<.zkir text>)). A bad prover key fails with
//    "expected header tag 'midnight:prover-key[v7](ir-source[v2]):', got ...".
//  * then km.getParams(k) with the circuit's k, twice (proving, then zkir-v2's self-verification);
//    it must resolve to a Uint8Array holding exactly the Midnight SRS file 'bls_midnight_2p<k>'
//    (midnight-proofs ParamsKZG RawBytes: u32 LE k, 2^k G1 g, 2^k G1 g_lagrange, g2, s_g2).
//    zkir-v2 does NOT downsize: handing the 2p14 file to a k=13 circuit proves for ~the same time
//    and then fails with "Invalid proof" (self-verification). So kmProvider() below rejects a file
//    whose header k != requested k unless { allowParamsKMismatch: true }. The 2p14 file from the
//    crate is the k=14 file byte-for-byte (zswap/output needs exactly it).
//  * prove resolves to 'midnight:proof[v5]:' + SCALE-compact length + proof bytes (zswap/output:
//    19 + 2 + 4832 = 4853 bytes; dust/spend 2933 bytes); proofs are randomized. provingProvider(km)
//    .prove returns the same format. ledger-v8 tx.prove accepts these bytes from a ProvingProvider,
//    and equally 'midnight:proof-versioned:' + 0x01 + <the same compact length + proof bytes>
//    (the form Proof.serialize()/mockProve use); see toVersionedProof().
//  * Speed (wasm, this 2-core box): zswap/output k=14 ~45-55 s per proof, dust/spend k=13 ~65 s.
//  * check(serializedPreimage, km) only needs km.lookupKey(...).ir (proverKey may be empty) and
//    returns the pi-skip vector (Array<bigint | undefined>).
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

const Z = require('@midnight-ntwrk/zkir-v2');

const SRS_2P14_SHA256 = 'fc253016885ec830e97808c9ec920bb5cab5c21af590380a6cb5eb0538e2b244';

function toU8(b) {
  if (b instanceof Uint8Array) return b;
  if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  if (b instanceof ArrayBuffer) return new Uint8Array(b);
  throw new TypeError('expected bytes (Uint8Array/Buffer)');
}

/** k recorded in the first 4 bytes (u32 LE) of a bls_midnight_2p<k> params file. */
function paramsK(bytes) {
  const b = toU8(bytes);
  if (b.length < 4) throw new Error('params file too short');
  return b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] * 2 ** 24);
}

/** Path of bls_midnight_2p14 shipped in the midnight-transient-crypto 2.1.1 crate (or undefined). */
function findSrs2p14() {
  if (process.env.MIDNIGHT_SRS_2P14 && fs.existsSync(process.env.MIDNIGHT_SRS_2P14)) return process.env.MIDNIGHT_SRS_2P14;
  const cargoHome = process.env.CARGO_HOME || path.join(os.homedir(), '.cargo');
  const src = path.join(cargoHome, 'registry', 'src');
  let dirs = [];
  try { dirs = fs.readdirSync(src); } catch (_) { return undefined; }
  for (const d of dirs) {
    const p = path.join(src, d, 'midnight-transient-crypto-2.1.1', 'static', 'bls_midnight_2p14');
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

let srs14;
/** The k=14 Midnight SRS bytes (SHA-256 checked). */
function loadSrs2p14() {
  if (!srs14) {
    const p = findSrs2p14();
    if (!p) throw new Error('bls_midnight_2p14 not found (set MIDNIGHT_SRS_2P14 or fetch crate midnight-transient-crypto 2.1.1)');
    const b = fs.readFileSync(p);
    const h = crypto.createHash('sha256').update(b).digest('hex');
    if (h !== SRS_2P14_SHA256) throw new Error(`${p}: sha256 ${h} != ${SRS_2P14_SHA256}`);
    srs14 = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
  return srs14;
}

function materialFor(keys, location) {
  if (typeof keys === 'function') return keys(location);
  if (keys instanceof Map) return keys.get(location);
  if (keys && keys.proverKey !== undefined && keys.ir !== undefined) return keys; // one material for all
  if (keys && typeof keys === 'object') return keys[location];
  return undefined;
}

function paramsFor(params, k, opts) {
  let b;
  if (typeof params === 'function') b = params(k);
  else if (params instanceof Map) b = params.get(k);
  else if (params && !ArrayBuffer.isView(params) && !(params instanceof ArrayBuffer) && typeof params === 'object') b = params[k];
  else b = params;
  return Promise.resolve(b).then((bytes) => {
    if (bytes === undefined || bytes === null) throw new Error(`no params for k=${k}`);
    const u8 = toU8(bytes);
    const fk = paramsK(u8);
    if (fk !== k && !opts.allowParamsKMismatch) {
      throw new Error(`params file is for k=${fk}, zkir-v2 asked for k=${k} (pass bls_midnight_2p${k})`);
    }
    return u8;
  });
}

/**
 * A zkir-v2 KeyMaterialProvider { lookupKey(location), getParams(k) }.
 * keys:   one { proverKey, verifierKey, ir } for every location, a Map/object location -> material,
 *         or a (possibly async) function(location) -> material.
 * params: Uint8Array (one params file), a Map/object k -> bytes, or a (possibly async) function(k).
 * opts.log: an array that receives ['lookupKey', location] / ['getParams', k] entries.
 */
function kmProvider(keys, params, opts = {}) {
  return {
    async lookupKey(location) {
      if (opts.log) opts.log.push(['lookupKey', location]);
      const m = await materialFor(keys, location);
      if (!m) return undefined;
      return {
        proverKey: toU8(m.proverKey || new Uint8Array(0)),
        verifierKey: toU8(m.verifierKey),
        ir: toU8(m.ir),
      };
    },
    async getParams(k) {
      if (opts.log) opts.log.push(['getParams', k]);
      return paramsFor(params, k, opts);
    },
  };
}

/**
 * zkir-v2 prove of one serialized preimage ('midnight:proof-preimage:' bytes as handed to a
 * ledger ProvingProvider) with the given key material; returns zkir-v2's bytes (Uint8Array).
 */
async function zkirProve(preimage, material, paramsBytesForK, overwriteBindingInput, opts) {
  const km = kmProvider(material, paramsBytesForK, opts);
  return overwriteBindingInput === undefined
    ? Z.prove(toU8(preimage), km)
    : Z.prove(toU8(preimage), km, overwriteBindingInput);
}

/** zkir-v2 check: pi-skip vector, needs only the IR. */
async function zkirCheck(preimage, material) {
  return Z.check(toU8(preimage), kmProvider(material, () => { throw new Error('check needs no params'); }));
}

/** A ledger ProvingProvider backed by zkir-v2 (Z.provingProvider(kmProvider(keys, params))). */
function zkirProvingProvider(keys, params, opts) {
  return Z.provingProvider(kmProvider(keys, params, opts));
}

const TAG_V5 = Buffer.from('midnight:proof[v5]:');
const TAG_VERSIONED = Buffer.from('midnight:proof-versioned:');
/** 'midnight:proof[v5]:' + body  ->  'midnight:proof-versioned:' + 0x01 + body (ledger Proof form). */
function toVersionedProof(bytes) {
  const b = Buffer.from(toU8(bytes));
  if (b.subarray(0, TAG_VERSIONED.length).equals(TAG_VERSIONED)) return new Uint8Array(b);
  if (!b.subarray(0, TAG_V5.length).equals(TAG_V5)) throw new Error('not a midnight:proof[v5] serialization');
  return new Uint8Array(Buffer.concat([TAG_VERSIONED, Buffer.from([1]), b.subarray(TAG_V5.length)]));
}

/** k of a circuit from its .bzkir bytes. */
function circuitK(irBytes) {
  return Z.Zkir.deserialize(toU8(irBytes)).getK();
}

module.exports = {
  zkir: Z,
  SRS_2P14_SHA256,
  findSrs2p14,
  loadSrs2p14,
  paramsK,
  kmProvider,
  zkirProve,
  zkirCheck,
  zkirProvingProvider,
  circuitK,
  toVersionedProof,
};
