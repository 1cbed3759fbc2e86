'use strict'
// A real preimage for the ledger's built-in zswap spend circuit ('midnight/zswap/spend', k = 15),
// made offline by @midnight-ntwrk/ledger-v8 8.1.0 the way a wallet makes one:
//  1. an output of a fresh shielded coin to our own keys (ZswapOutput.new), in an offer;
//  2. ZswapLocalState.apply(keys, offer): the wallet finds the output is its own (it decrypts the
//     output's ciphertext), adds the coin commitment to its copy of the commitment Merkle tree
//     (index 0) and holds the coin as spendable (state.coins, with its mt_index);
//  3. state.spend(keys, coin, 0): the unproven ZswapInput, with the coin's Merkle path in that tree;
//  4. tx.prove(provider) on a transaction holding the input: the ledger serializes the spend's
//     ProofPreimage and hands it to the provider, which records it (capturePreimages, whose
//     provider returns a dummy proof instead of proving).
// No ledger state and no network: the coin's tree exists only in the local state, and the
// transaction (an unbalanced input-only offer) is only built to be asked for its preimage.
// The preimage passes the circuit's check: zkir-v2's `check` with the IR alone (an empty prover
// key; see support/zkir-peer.js). Coin nonce and spend randomness are fresh on every call.
const crypto = require('node:crypto')
const { ledger: L, capturePreimages, DEFAULT_NETWORK_ID } = require('./ledger')

const SPEND = 'midnight/zswap/spend'

/**
 * An unproven transaction whose guaranteed offer spends a coin of `value` (default 1000) of the
 * shielded token, owned by keys from `seed` (32 bytes, default random); with `output: true` it
 * also makes an output of a fresh coin of the same value (one spend and one output, as a
 * shielded transfer has).
 */
function buildSpendTx({ value = 1000n, seed = crypto.randomBytes(32), output = false } = {}) {
  const keys = L.ZswapSecretKeys.fromSeed(seed)
  const coin = L.createShieldedCoinInfo(L.shieldedToken().raw, BigInt(value))
  const received = L.ZswapOutput.new(coin, 0, keys.coinPublicKey, keys.encryptionPublicKey)
  const state = new L.ZswapLocalState().apply(keys, L.ZswapOffer.fromOutput(received))
  const [held] = state.coins
  if (!held || held.nonce !== coin.nonce) throw new Error('the local state did not receive the output')
  const [, input] = state.spend(keys, held, 0)
  let offer = L.ZswapOffer.fromInput(input, coin.type, coin.value)
  if (output) {
    const fresh = L.createShieldedCoinInfo(coin.type, coin.value)
    offer = offer.merge(L.ZswapOffer.fromOutput(L.ZswapOutput.new(fresh, 0, keys.coinPublicKey, keys.encryptionPublicKey), fresh.type, fresh.value))
  }
  return L.Transaction.fromParts(DEFAULT_NETWORK_ID, offer)
}

/**
 * `{ preimage, keyLocation: 'midnight/zswap/spend', overwriteBindingInput: undefined }` for a spend
 * made by `buildSpendTx(options)`.
 */
async function zswapSpendPreimage(options) {
  const calls = await capturePreimages(buildSpendTx(options))
  if (calls.length !== 1 || calls[0].keyLocation !== SPEND) {
    throw new Error(`expected one proof of ${SPEND}, the ledger asked for [${calls.map((c) => c.keyLocation)}]`)
  }
  const { preimage, keyLocation, overwriteBindingInput } = calls[0]
  return { preimage, keyLocation, overwriteBindingInput }
}

module.exports = { zswapSpendPreimage, buildSpendTx, SPEND }
