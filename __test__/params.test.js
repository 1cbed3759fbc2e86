'use strict'
// Parameters beyond the embedded SRS: files must hash to Midnight's pinned SHA-256 (the list in
// midnight-base-crypto's data provider), missing ones may be fetched from a configured source
// (here a local HTTP server on loopback) and are written atomically.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')
const { fetchParams, keygen, params } = require('..')
const { ARTTT, tempDir } = require('./support/fixtures')

let server
let base
const requests = []
const served = new Map()

before(async () => {
  served.set('/bls_midnight_2p13', Buffer.from(params(13)))
  served.set('/bls_midnight_2p12', Buffer.from(params(12)).fill(7, 100, 200)) // right size, wrong bytes
  server = http.createServer((req, res) => {
    requests.push(req.url)
    const body = served.get(req.url)
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/octet-stream' }).end(body)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${server.address().port}`
})
after(() => server.close())

test('a missing parameters file is fetched from the source, checked against the pin, and written', async () => {
  const dir = tempDir('params-')
  const file = await fetchParams(13, { paramsPath: dir, paramsSource: base })
  assert.equal(file, path.join(dir, 'bls_midnight_2p13'))
  assert.ok(fs.readFileSync(file).equals(served.get('/bls_midnight_2p13')), 'the official 2p13 (our downsized SRS hashes to the pin)')
  const before = requests.length
  assert.equal(await fetchParams(13, { paramsPath: dir, paramsSource: base }), file)
  assert.equal(requests.length, before, 'a genuine file on disk is not fetched again')
})

test('fetched bytes that do not hash to the pin are refused and leave no file behind', async () => {
  const dir = tempDir('params-')
  await assert.rejects(fetchParams(12, { paramsPath: dir, paramsSource: base }), (err) => {
    assert.equal(err.code, 'PARAMS_NOT_FOUND')
    assert.match(err.message, /pinned SHA-256/)
    return true
  })
  assert.ok(requests.filter((u) => u === '/bls_midnight_2p12').length >= 1)
  assert.deepEqual(fs.readdirSync(dir), [], 'no partial or temporary file')
})

test('without a source, a missing file is PARAMS_NOT_FOUND and nothing is fetched', async () => {
  const before = requests.length
  await assert.rejects(fetchParams(13, { paramsPath: tempDir('params-') }), { code: 'PARAMS_NOT_FOUND' })
  assert.equal(requests.length, before)
})

test('a k=15 circuit with altered parameters on disk is PARAMS_MISMATCH, and with unpinned params allowed still is when their size is not a k=15 file\'s', async () => {
  const dir = tempDir('params-')
  fs.writeFileSync(path.join(dir, 'bls_midnight_2p15'), Buffer.alloc(4096, 1))
  const ir = fs.readFileSync(path.join(ARTTT, 'zkir', 'approve.bzkir')) // k = 15
  await assert.rejects(keygen(ir, { paramsPath: dir }), (err) => {
    assert.equal(err.code, 'PARAMS_MISMATCH')
    assert.match(err.message, /bls_midnight_2p15/)
    return true
  })
  await assert.rejects(keygen(ir, { paramsPath: dir, allowUnpinnedParams: true }), (err) => {
    assert.equal(err.code, 'PARAMS_MISMATCH')
    assert.match(err.message, /is 4096 bytes; parameters for k=15 are \d+ bytes/)
    return true
  })
})

test('a params source that is not a URL is INVALID_OPTIONS', async () => {
  await assert.rejects(fetchParams(13, { paramsPath: tempDir('params-'), paramsSource: 'ftp:/nowhere' }), { code: 'INVALID_OPTIONS' })
})

test("a kmProvider's getParams is asked only for k > 14, and its bytes must hash to the pin", async () => {
  const { createProver } = require('..')
  const log = []
  const approve = (file) => new Uint8Array(fs.readFileSync(path.join(ARTTT, file)))
  const km = {
    lookupKey: async () => ({ proverKey: new Uint8Array(0), verifierKey: approve('keys/approve.verifier'), ir: approve('zkir/approve.bzkir') }),
    getParams: async (k) => {
      log.push(k)
      return Buffer.alloc(4096, 1)
    },
  }
  const prover = await createProver({ paramsPath: tempDir('params-') })
  try {
    await assert.rejects(prover.provingProvider(km).prove(new Uint8Array(8), 'approve'), { code: 'PARAMS_MISMATCH' })
    assert.deepEqual(log, [15], 'asked once, for k = 15')
  } finally {
    await prover.close()
  }
})
