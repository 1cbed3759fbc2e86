'use strict'
// Derives a satisfying witness for a Compact circuit whose public transcript is all the caller
// has to work out: given the circuit's private inputs and the values its ledger reads return,
// it runs the circuit (zkir-v2's `check`) and fills each public transcript input with the value
// the check says it computed, until the check passes. Prints the witness JSON.
//
//   node __test__/compact/derive-witness.js <compact dir> <circuit> ['<partial witness JSON>']
//
// The partial witness gives `inputs`, `privateTranscript`, `publicTranscriptOutputs` and the
// communications commitment ([transientHash([randomness, ...inputs, ...outputs]), randomness]).
// Without it, the circuit's recipe below gives it (clearMemos, mint, transfer): the choices
// behind each witness in this directory, so `derive-witness.js <arttt> <circuit>` re-derives
// `<circuit>.witness.json` byte for byte.
//
// The check is zkir-v2's, which reads the circuit's IR (`<dir>/zkir/<circuit>.bzkir`) and takes
// an empty prover key: the compiler left none for arttt's k >= 15 circuits. It runs the same IR
// VM as our `prover.check` and reports a mismatch in the same words.
const fs = require('node:fs')
const path = require('node:path')
const R = require('@midnight-ntwrk/onchain-runtime-v3')
const { serializePreimage } = require('../..')
const { zkirCheck } = require('../support/zkir-peer')

const MISMATCH = /mismatch for input (\d+); expected: (?:None|Some\([\w-]+\)), computed: Some\(([\w-]+)\)/

/** midnight-zkir prints a field as little-endian hex without trailing zero bytes, "-" for 0. */
function fieldFromDisplay(text) {
  if (text === '-') return '0'
  const even = text.length % 2 ? `0${text}` : text
  return `0x${even.match(/../g).reverse().join('')}`
}

async function derive(dir, circuit, partial) {
  const material = {
    proverKey: new Uint8Array(0),
    verifierKey: fs.readFileSync(path.join(dir, 'keys', `${circuit}.verifier`)),
    ir: fs.readFileSync(path.join(dir, 'zkir', `${circuit}.bzkir`)),
  }
  const witness = { publicTranscriptInputs: [], ...partial }
  for (;;) {
    try {
      await zkirCheck(serializePreimage(circuit, witness), material)
      return witness
    } catch (err) {
      const m = MISMATCH.exec(err.message)
      if (!m || Number(m[1]) > witness.publicTranscriptInputs.length) throw err
      witness.publicTranscriptInputs[Number(m[1])] = fieldFromDisplay(m[2])
    }
  }
}

// ---- Compact values as the IR sees them (computed with @midnight-ntwrk/onchain-runtime-v3) ----

const FIELD = { tag: 'atom', value: { tag: 'field' } }
const BYTES32 = { tag: 'atom', value: { tag: 'bytes', length: 32 } }
const le = (bytes) => bytes.reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n)

/** A Bytes<32> as two field atoms: byte 31 (8 bits), then bytes 0..30 little-endian (248 bits). */
function bytes32Fields(value) {
  const bytes = new Uint8Array(32)
  bytes.set(value) // the runtime drops a value's trailing zero bytes
  return [BigInt(bytes[31]), le(bytes.subarray(0, 31))]
}

/** A point ([x, y] bytes, as the runtime returns it) as its two field atoms. */
const pointFields = (point) => point.map((coordinate) => R.valueToBigInt([coordinate]))
const times = (scalar) => R.ecMulGenerator(R.bigIntToValue(scalar))

/** ElGamal.derivePk(ek) = ecMulGenerator(degradeToTransient(persistentHash<Vector<1, Bytes<32>>>([ek]))). */
const derivePk = (ek) => R.ecMulGenerator(R.degradeToTransient(R.persistentHash([BYTES32], [ek])))

/** ElGamal.encrypt(pk, value, r) = { c1: r·G, c2: r·pk + value·G }, as four field atoms. */
function encrypt(pk, value, r) {
  const c2 = R.ecAdd(R.ecMul(pk, R.bigIntToValue(r)), times(value))
  return [...pointFields(times(r)), ...pointFields(c2)]
}

/** ElGamal.encryptZero(): both halves the identity (0·G, the point (0, 1)). */
const ENC_ZERO = [...pointFields(times(0n)), ...pointFields(times(0n))]

/** The account id of a secret key: persistentHash<Vector<1, Bytes<32>>>([sk]), as two field atoms. */
const accountId = (sk) => bytes32Fields(R.persistentHash([BYTES32], [sk])[0])

/** [transientHash([randomness, ...inputs, ...outputs]), randomness] over field atoms. */
function commitment(randomness, inputs, outputs) {
  const atoms = [randomness, ...inputs, ...outputs]
  const hash = R.transientHash(atoms.map(() => FIELD), atoms.flatMap((x) => R.bigIntToValue(x)))
  return [R.valueToBigInt(hash), randomness]
}

/** 32 bytes of `byte`: the made-up secrets the recipes choose (no trailing zero bytes). */
const secret = (byte) => new Uint8Array(32).fill(byte)
const SENDER_SK = secret(0x11) // wit_ConfidentialTokenSK of the caller
const SENDER_EK = secret(0x22) // wit_ConfidentialTokenEK of the caller
const RECIPIENT_EK = secret(0x33) // the encryption key the recipient registered with
const SEED = secret(0x44) // wit_RandomnessSeed
const ACCOUNT = [5n, 7n] // the account (mint) or recipient (transfer): Bytes<32> as 1 + 31 bytes

/**
 * The partial witnesses of the witnesses in this directory. The public transcript outputs are
 * the circuit's ledger reads in the order it makes them; a state the contract can reach: an
 * initialized token whose accounts registered (`register` stored pk = derivePk(ek), balance and
 * pending Enc(0)) and have had no credit yet (no memo list).
 */
const RECIPES = {
  clearMemos: () => ({
    inputs: [],
    privateTranscript: [5n, 7n], // the caller's key
    publicTranscriptOutputs: [1n, 1n], // the asserted flag; the branch bit that takes the write path
    bindingInput: 0n,
    communicationsCommitment: commitment(1n, [], []),
  }),
  // mint(account, 1000) to a registered account that never received anything.
  mint: () => {
    const inputs = [...ACCOUNT, 1000n]
    return {
      inputs,
      privateTranscript: bytes32Fields(SEED),
      publicTranscriptOutputs: [
        0n, 0n, // _totalSupply: the overflow check, then the update
        1n, // isInitialized
        1n, // _encryptionKeys.member(account)
        ...pointFields(derivePk(RECIPIENT_EK)), // _encryptionKeys.lookup(account)
        0n, // _memos.member(account): no memo list yet, the circuit inserts one
        0n, // _memos.lookup(account).length(): the credit's nonce
        ...ENC_ZERO, // _pending.lookup(account)
      ],
      bindingInput: 0n,
      communicationsCommitment: commitment(1n, inputs, []),
    }
  },
  // transfer(account, 100) from a caller whose spendable balance is Enc(1000) (randomness 2).
  transfer: () => {
    const inputs = [...ACCOUNT, 100n]
    const senderPk = derivePk(SENDER_EK)
    return {
      inputs,
      privateTranscript: [
        ...bytes32Fields(SENDER_SK), ...bytes32Fields(SENDER_EK),
        1000n, // wit_PlaintextBalance
        ...bytes32Fields(SEED), ...bytes32Fields(SEED), // the seed, for the debit, then the credit
      ],
      publicTranscriptOutputs: [
        1n, 1n, // isInitialized (transfer, _debit)
        1n, // _encryptionKeys.member(sender)
        ...pointFields(senderPk), // _encryptionKeys.lookup(sender)
        ...encrypt(senderPk, 1000n, 2n), // _balances.lookup(sender)
        1n, // isInitialized (_credit)
        1n, // _encryptionKeys.member(to)
        ...pointFields(derivePk(RECIPIENT_EK)), // _encryptionKeys.lookup(to)
        0n, 0n, // _memos.member(to), and the list's length
        ...ENC_ZERO, // _pending.lookup(to)
      ],
      bindingInput: 0n,
      communicationsCommitment: commitment(1n, inputs, accountId(SENDER_SK)), // returns the sender's id
    }
  },
}

/** The recipe's witness with every field element as a decimal string, as the JSON form holds it. */
function fromRecipe(circuit) {
  if (!RECIPES[circuit]) throw new Error(`no recipe for ${circuit} (known: ${Object.keys(RECIPES).join(', ')}); give a partial witness`)
  const text = (value) => (Array.isArray(value) ? value.map(text) : value.toString())
  return Object.fromEntries(Object.entries(RECIPES[circuit]()).map(([name, value]) => [name, text(value)]))
}

const [dir, circuit, partial] = process.argv.slice(2)
Promise.resolve()
  .then(() => derive(dir, circuit, partial === undefined ? fromRecipe(circuit) : JSON.parse(partial)))
  .then(
    (w) => console.log(JSON.stringify(w, ['inputs', 'privateTranscript', 'publicTranscriptInputs', 'publicTranscriptOutputs', 'bindingInput', 'communicationsCommitment'], 2)),
    (err) => {
      console.error(err)
      process.exit(1)
    },
  )
