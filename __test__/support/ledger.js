'use strict';
// Test helpers around the official ledger client @midnight-ntwrk/ledger-v8 (8.1.0).
//
// ledger-v8 is an ES module ("type": "module", top-level wasm instantiation, no top-level await);
// Node >= 20.19 / >= 22.12 can require() it from CommonJS, which is what this file does.
//
// Facts this file relies on (measured against ledger-v8 8.1.0):
//  * tx.prove(provider, costModel) calls provider.prove(serializedPreimage: Uint8Array,
//    keyLocation: string, overwriteBindingInput: bigint | undefined) once per proof, all calls
//    started before any resolves (concurrent). For zswap outputs keyLocation is
//    'midnight/zswap/output' and overwriteBindingInput is undefined; provider.check is not called.
//  * provider.prove must resolve to tagged proof bytes: 'midnight:proof-versioned:' + 0x01 + ...
//    (Proof.serialize()) or zkir-v2's 'midnight:proof[v5]:' + ... are both accepted; garbage is
//    rejected ("expected header tag 'midnight:proof-versioned:', got ''"). Proofs are not
//    verified by tx.prove, so the recorder returns the dummy proof of tx.mockProve().
//  * tx.prove does not consume the tx and the preimages are deterministic for a given tx
//    (same bytes on a second prove and after serialize/deserialize).
//  * An outputs-only tx is not balanced, so wellFormed needs enforceBalancing = false.
//    Zswap proofs are verified by wellFormed even with verifyNativeProofs = false
//    (that flag only gates the dust spend checks in 8.1.0).
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');


const DEFAULT_NETWORK_ID = 'undeployed';

const FIXTURES = process.env.MIDNIGHT_FIXTURES
  ? path.resolve(process.env.MIDNIGHT_FIXTURES)
  : path.resolve(__dirname, '..', '..', '..', 'shared', 'fixtures');

// key location -> fixture basename (relative to FIXTURES, without extension)
const BUILTIN = {
  'midnight/zswap/output': 'builtin/zswap/output',
  'midnight/zswap/sign': 'builtin/zswap/sign',
  'midnight/zswap/spend': 'builtin/zswap/spend',
  'midnight/dust/spend': 'builtin/dust/spend',
};

/**
 * The helpers below over one ledger module `L`: @midnight-ntwrk/ledger-v8 (this module's
 * exports) or, through `forLedger`, another release with the same API (ledger-v9).
 */
function forLedger(L) {
  let secretKeys;
  function recipientKeys() {
    if (!secretKeys) secretKeys = L.ZswapSecretKeys.fromSeed(crypto.randomBytes(32));
    return secretKeys;
  }

  function newOutput(value, keys) {
    const coin = L.createShieldedCoinInfo(L.shieldedToken().raw, value); // fresh random nonce
    return L.ZswapOutput.new(coin, 0, keys.coinPublicKey, keys.encryptionPublicKey);
  }

  /**
   * An unproven ledger-v8 Transaction (Transaction<SignatureEnabled, PreProof, PreBinding>) whose
   * guaranteed zswap offer holds `nOutputs` outputs of fresh random shielded coins.
   */
  function buildZswapOutputTx(nOutputs, opts = {}) {
    const n = Number(nOutputs);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`nOutputs must be an integer >= 1, got ${nOutputs}`);
    const keys = opts.keys || recipientKeys();
    const value = opts.value === undefined ? 1000n : BigInt(opts.value);
    let offer = L.ZswapOffer.fromOutput(newOutput(value, keys));
    for (let i = 1; i < n; i++) offer = offer.merge(L.ZswapOffer.fromOutput(newOutput(value, keys)));
    return L.Transaction.fromParts(opts.networkId || DEFAULT_NETWORK_ID, offer);
  }

  /**
   * Bonus: an unproven tx whose intent holds one dust spend (keyLocation 'midnight/dust/spend',
   * with an overwriteBindingInput bigint). The dust wallet state is made up locally, so the
   * preimage passes zkir `check`, but wellFormed against a blank ledger state will reject the
   * tx (its dust Merkle roots are unknown to that state). Use it for preimages only.
   */
  function buildDustSpendTx(opts = {}) {
    const params = L.LedgerParameters.initialParameters();
    const dsk = L.DustSecretKey.fromSeed(crypto.randomBytes(32));
    const ctime = new Date(Date.now() - 3600e3);
    const initialNonce = L.dustInitialNonce(0n, L.sampleIntentHash());
    const gen = { value: 10n ** 9n, owner: dsk.publicKey, nonce: initialNonce, dtime: undefined };
    // seq 0 nonces are derived from the public key, dustNonce() refuses seq=0; seq 1 is fine.
    const qdo = {
      initialValue: 0n, owner: dsk.publicKey, nonce: L.dustNonce(initialNonce, 1n, dsk), seq: 1,
      ctime, backingNight: initialNonce, mtIndex: 0n,
    };
    let st = new L.DustLocalState(params.dust);
    st = st.insertGenerationInfo(0n, gen, initialNonce);
    st = st.insertCommitment(0n, qdo, true);
    st = st.addUtxo(L.dustNullifier(qdo, dsk), qdo);
    const now = new Date();
    const [, spend] = st.spend(dsk, st.utxos[0], opts.fee === undefined ? 1n : BigInt(opts.fee), now);
    const intent = L.Intent.new(new Date(Date.now() + 3600e3));
    intent.dustActions = new L.DustActions('signature', 'pre-proof', now, [spend], []);
    return L.Transaction.fromParts(opts.networkId || DEFAULT_NETWORK_ID, undefined, undefined, intent);
  }

  /**
   * Bonus: ledger-v8 never proves 'midnight/zswap/sign' (the string is not even in its wasm), but
   * a valid preimage for it can be built by hand with proofDataIntoSerializedPreimage: the circuit
   * takes a 32-byte secret sk (2 field inputs: 8 + 248 bits), computes
   * pk = persistentHash([bytes21, bytes32], ['midnight:zswap-pk[v1]', sk]) and publishes the
   * transcript push(false, cell<bytes1>(4)); push(true, cell<bytes32>(pk)); ins(false, 1).
   * Returns { keyLocation, preimage, overwriteBindingInput: undefined } (passes zkir check).
   */
  function buildSignPreimage(secret) {
    const bytes = secret ? new Uint8Array(secret) : new Uint8Array(crypto.randomBytes(32));
    if (bytes.length !== 32) throw new RangeError('secret must be 32 bytes');
    // A Compact Bytes<32> value carries no trailing zero bytes (compact-runtime's toValue trims
    // them); the untrimmed form fails in the ledger with "invalid alignment supplied", so one random
    // secret in 256 used to fail here.
    const sk = trimTrailingZeros(bytes);
    const b32 = { tag: 'atom', value: { tag: 'bytes', length: 32 } };
    const dom = new Uint8Array(Buffer.from('midnight:zswap-pk[v1]'));
    const pk = L.persistentHash([{ tag: 'atom', value: { tag: 'bytes', length: 21 } }, b32], [dom, sk]);
    const ops = [
      { push: { storage: false, value: { tag: 'cell', content: { value: [new Uint8Array([4])], alignment: [{ tag: 'atom', value: { tag: 'bytes', length: 1 } }] } } } },
      { push: { storage: true, value: { tag: 'cell', content: { value: pk, alignment: [b32] } } } },
      { ins: { cached: false, n: 1 } },
    ];
    const keyLocation = 'midnight/zswap/sign';
    const preimage = L.proofDataIntoSerializedPreimage({ value: [sk], alignment: [b32] }, { value: [], alignment: [] }, ops, [], keyLocation);
    return { keyLocation, preimage, overwriteBindingInput: undefined };
  }

  function trimTrailingZeros(bytes) {
    let end = bytes.length;
    while (end > 0 && bytes[end - 1] === 0) end--;
    return bytes.slice(0, end);
  }

  let dummyProof;
  /** Tagged bytes of a structurally valid (non-verifying) ledger Proof, taken from mockProve(). */
  function dummyProofBytes() {
    if (!dummyProof) {
      const keys = recipientKeys();
      const tx = L.Transaction.fromParts(DEFAULT_NETWORK_ID, L.ZswapOffer.fromOutput(newOutput(1n, keys)));
      dummyProof = tx.mockProve().guaranteedOffer.outputs[0].proof.serialize();
    }
    return dummyProof;
  }

  /**
   * A ProvingProvider that records every call. `calls` gets
   * { keyLocation, preimage: Uint8Array, overwriteBindingInput } per prove() in call order.
   * prove() resolves to `inner.prove(...)` if `inner` is given, else to a dummy proof.
   */
  function recordingProvider(inner) {
    const calls = [];
    const checks = [];
    return {
      calls,
      checks,
      async check(serializedPreimage, keyLocation) {
        checks.push({ keyLocation, preimage: new Uint8Array(serializedPreimage) });
        return inner ? inner.check(serializedPreimage, keyLocation) : [];
      },
      async prove(serializedPreimage, keyLocation, overwriteBindingInput) {
        calls.push({ keyLocation, preimage: new Uint8Array(serializedPreimage), overwriteBindingInput });
        return inner ? inner.prove(serializedPreimage, keyLocation, overwriteBindingInput) : dummyProofBytes();
      },
      async lookupKey(keyLocation) {
        return inner ? inner.lookupKey(keyLocation) : undefined;
      },
    };
  }

  /** Runs tx.prove with a recording provider (dummy proofs) and returns the recorded calls. */
  async function capturePreimages(tx) {
    const rec = recordingProvider();
    await tx.prove(rec, L.CostModel.initialCostModel());
    return rec.calls;
  }

  /** tx.prove(provingProvider, CostModel.initialCostModel()) -> Transaction<S, Proof, PreBinding>. */
  function proveTx(tx, provingProvider) {
    return tx.prove(provingProvider, L.CostModel.initialCostModel());
  }

  /**
   * bind() + wellFormed(LedgerState.blank(networkId), strictness, new Date()) with
   * verifyNativeProofs = true. Returns the VerifiedTransaction; throws (the ledger's Error,
   * e.g. "Invalid proof -- while verifying Zswap proof") if not well formed.
   * enforceBalancing defaults to false (an outputs-only tx is not balanced).
   */
  function wellFormed(provenTx, opts = {}) {
    const strictness = new L.WellFormedStrictness();
    strictness.verifyNativeProofs = true;
    strictness.verifyContractProofs = opts.verifyContractProofs === undefined ? true : !!opts.verifyContractProofs;
    strictness.enforceBalancing = !!opts.enforceBalancing;
    strictness.enforceLimits = opts.enforceLimits === undefined ? true : !!opts.enforceLimits;
    strictness.verifySignatures = opts.verifySignatures === undefined ? true : !!opts.verifySignatures;
    const bound = provenTx.bind(); // binding an already bound tx is accepted too
    const state = opts.ledgerState || L.LedgerState.blank(opts.networkId || DEFAULT_NETWORK_ID);
    return bound.wellFormed(state, strictness, opts.tblock || new Date());
  }

  function fixtureBase(location) {
    const rel = BUILTIN[location];
    if (!rel) throw new Error(`no built-in fixture for key location '${location}' (known: ${Object.keys(BUILTIN).join(', ')})`);
    return path.join(FIXTURES, rel);
  }

  function proverKeyCandidates(location, dir) {
    const rel = BUILTIN[location]; // e.g. builtin/zswap/output
    const parts = rel.split('/'); // ['builtin', 'zswap', 'output']
    const sub = parts[1];
    const name = parts[2];
    return [
      path.join(dir, `${location}.prover`), // <dir>/midnight/zswap/output.prover
      path.join(dir, sub, `${name}.prover`), // <dir>/zswap/output.prover
      path.join(dir, rel + '.prover'), // <dir>/builtin/zswap/output.prover
      path.join(dir, `${sub}-${name}.prover`), // <dir>/zswap-output.prover
      path.join(dir, `${sub}_${name}.prover`), // <dir>/zswap_output.prover
    ];
  }

  /**
   * Key material (the raw tagged file bytes, as both ledger and zkir-v2 expect) for a built-in
   * key location: { proverKey, verifierKey, ir } with ir = <fixture>.bzkir and verifierKey =
   * <fixture>.verifier. The prover key is read from `proverKeyDir` (we generate it ourselves):
   * `proverKeyDir` may be a directory (tried: <dir>/midnight/zswap/output.prover,
   * <dir>/zswap/output.prover, <dir>/builtin/zswap/output.prover, <dir>/zswap-output.prover,
   * <dir>/zswap_output.prover), a file path ending in .prover, or a function(location) -> path.
   * Without it proverKey is an empty Uint8Array (enough for zkir `check`, not for `prove`).
   * Non-enumerable extras: proverKeySha256Expected (from <fixture>.prover.sha256) and, when a
   * prover key was read, proverKeyPath and proverKeyMatchesOfficial (its SHA-256 equals the pin).
   */
  function fixtureKeyMaterial(location, proverKeyDir) {
    const base = fixtureBase(location);
    const ir = new Uint8Array(fs.readFileSync(base + '.bzkir'));
    const verifierKey = new Uint8Array(fs.readFileSync(base + '.verifier'));
    let proverKey = new Uint8Array(0);
    let proverKeyPath;
    if (proverKeyDir) {
      let candidates;
      if (typeof proverKeyDir === 'function') candidates = [proverKeyDir(location)];
      else if (String(proverKeyDir).endsWith('.prover')) candidates = [String(proverKeyDir)];
      else candidates = proverKeyCandidates(location, String(proverKeyDir));
      proverKeyPath = candidates.find((p) => p && fs.existsSync(p));
      if (!proverKeyPath) throw new Error(`prover key for '${location}' not found; tried:\n  ${candidates.join('\n  ')}`);
      proverKey = new Uint8Array(fs.readFileSync(proverKeyPath));
    }
    const out = { proverKey, verifierKey, ir };
    let expected;
    try {
      expected = fs.readFileSync(base + '.prover.sha256', 'utf8').trim().split(/\s+/)[0];
    } catch (_) { /* spend etc. always have one, but be lenient */ }
    Object.defineProperty(out, 'proverKeySha256Expected', { value: expected, enumerable: false });
    if (proverKeyPath) {
      const got = crypto.createHash('sha256').update(proverKey).digest('hex');
      Object.defineProperty(out, 'proverKeyPath', { value: proverKeyPath, enumerable: false });
      Object.defineProperty(out, 'proverKeyMatchesOfficial', { value: expected === got, enumerable: false });
    }
    return out;
  }

  return {
    ledger: L,
    DEFAULT_NETWORK_ID,
    FIXTURES,
    BUILTIN_LOCATIONS: Object.keys(BUILTIN),
    buildZswapOutputTx,
    buildDustSpendTx,
    buildSignPreimage,
    recordingProvider,
    dummyProofBytes,
    capturePreimages,
    proveTx,
    wellFormed,
    fixtureKeyMaterial,
  };
}

module.exports = { ...forLedger(require('@midnight-ntwrk/ledger-v8')), forLedger };
