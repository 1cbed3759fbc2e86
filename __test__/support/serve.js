'use strict'
// Helpers for the `serve` tests: start the service in-process on a free loopback port, and speak
// its wire formats through the ledger's own payload builders.
const { resolveServeConfig } = require('../../lib/serve/config')
const { makeServe } = require('../../lib/serve/server')
const api = require('../..')
const { witness } = require('./fixtures')

/** The service over the built addon and the package's API, wired as bin/cli.js wires it. */
const { startServer } = makeServe(require('../../binding.js'), api)
const { serializePreimage } = api

/**
 * A server from CLI-style flags, on 127.0.0.1 and a port of the OS's choosing. Tests of the
 * queue send equal bodies, which would share one job: sharing is off unless `--result-ttl` is
 * given (the tests of sharing give it).
 */
function serveWith(args, env = {}) {
  const sharing = args.includes('--result-ttl') ? [] : ['--result-ttl', '0']
  return startServer(resolveServeConfig(['--port', '0', ...sharing, ...args], { ...env }))
}

/** The arith test circuit's good witness as a serialized preimage whose key location is `arith`. */
const arithPreimage = (location = 'arith') => serializePreimage(location, witness('arith.witness.json'))

/** A `/prove` body (createProvingPayload) for a test circuit's good witness. */
const provingPayload = (circuit) => require('@midnight-ntwrk/ledger-v8').createProvingPayload(serializePreimage(circuit, witness(`${circuit}.witness.json`)), undefined)

async function post(url, body, headers = {}, signal = undefined) {
  const res = await fetch(url, { method: 'POST', body, headers, signal })
  return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()), headers: res.headers }
}

const text = (bytes) => Buffer.from(bytes).toString('utf8')

/** A `/prove` response (tagged ProofVersioned) as the `proof[v5]` bytes `prover.verify` takes. */
function unversioned(response) {
  const head = Buffer.from('midnight:proof-versioned:\x01', 'latin1')
  if (!Buffer.from(response.subarray(0, head.length)).equals(head)) throw new Error(`not a ProofVersioned: ${text(response.subarray(0, 40))}`)
  return new Uint8Array(Buffer.concat([Buffer.from('midnight:proof[v5]:'), response.subarray(head.length)]))
}

/**
 * A midnight-js ZKConfigProvider (of `client`, the ESM midnight-js-types module) that has no
 * keys: midnight-js then sends no key material and the server resolves the key by location.
 */
function emptyConfigProvider(client) {
  class Empty extends client.ZKConfigProvider {
    async getZKIR(id) {
      throw new Error(`no ${id}`)
    }
    getProverKey = this.getZKIR
    getVerifierKey = this.getZKIR
  }
  return new Empty()
}

module.exports = { startServer, serveWith, arithPreimage, provingPayload, post, text, unversioned, emptyConfigProvider }
