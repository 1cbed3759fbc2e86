'use strict'
// The HTTP service: the official proof server's routes, status codes and bodies (midnight-ledger
// proof-server/src/endpoints.rs, lib.rs, worker_pool.rs), with this package's prover behind them.
const http = require('node:http')
const crypto = require('node:crypto')
const { createProver } = require('../..')
const { resolveOptions } = require('../options')
const { JobGate } = require('./jobs')
const { proveRequest, checkRequest, kRequest } = require('./engine')
const { derivedMemoryLimitMiB } = require('./cgroup')
const { version } = require('../../package.json')

/** Routes that answer without the API key, so liveness/readiness probes need no secret. */
const OPEN = new Set(['GET /', 'GET /health', 'GET /ready'])

/** What a client should learn from each error code: its own mistakes are 4xx, ours are 5xx. */
const STATUS_BY_CODE = {
  INVALID_ARGUMENT: 400,
  INVALID_WITNESS: 400,
  WITNESS_UNSATISFIED: 400,
  CIRCUIT_NOT_FOUND: 400,
  INVALID_CIRCUIT_ID: 400,
  KEY_CORRUPT: 400,
  INVALID_IR: 400,
  PROVER_OVERLOADED: 429,
  PROVER_CLOSED: 503,
}

class HttpError extends Error {
  constructor(status, message, headers = {}) {
    super(message)
    this.status = status
    this.headers = headers
  }
}

const text = (body, status = 200) => ({ status, body: String(body), type: 'text/plain; charset=utf-8' })
const json = (value, status = 200) => ({
  status,
  type: 'application/json',
  body: JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : String(v)) : v)),
})
const bytes = (body) => ({ status: 200, body, type: 'application/octet-stream' })

/** The proof server's timestamp shape (time's serde-human-readable): `2026-01-02 03:04:05.678 +00:00:00`. */
function timestamp(now = new Date()) {
  return now.toISOString().replace('T', ' ').replace('Z', ' +00:00:00')
}

/** The body, refused with 413 as soon as it passes `limit` bytes (declared or streamed). */
function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const tooLarge = () => new HttpError(413, `request body exceeds the ${limit}-byte limit (--body-limit / PROVER_BODY_LIMIT)`, { Connection: 'close' })
    if (Number(req.headers['content-length']) > limit) return reject(tooLarge())
    const chunks = []
    let size = 0
    req.on('data', (chunk) => {
      size += chunk.length
      if (size > limit) {
        req.removeAllListeners('data')
        req.resume()
        reject(tooLarge())
      } else chunks.push(chunk)
    })
    req.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))))
    req.on('error', reject)
  })
}

function authorized(req, apiKey) {
  const given = Buffer.from(String(req.headers.authorization ?? ''))
  const wanted = Buffer.from(`Bearer ${apiKey}`)
  return given.length === wanted.length && crypto.timingSafeEqual(given, wanted)
}

/** The proof server allows any origin (actix Cors::permissive), so browser dapps can call it. */
function corsHeaders(req) {
  if (!req.headers.origin) return {}
  return {
    'Access-Control-Allow-Origin': req.headers.origin,
    'Access-Control-Allow-Credentials': 'true',
    'Access-Control-Allow-Methods': req.headers['access-control-request-method'] ?? 'GET, POST',
    'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? '*',
    Vary: 'Origin',
  }
}

function errorResponse(err) {
  if (err instanceof HttpError) return { ...text(err.message, err.status), headers: err.headers }
  const status = STATUS_BY_CODE[err.code] ?? 500
  return text(err.code ? `${err.code}: ${err.message}` : String(err.message ?? err), status)
}

class ProofServer {
  #server
  #prover
  #gate
  #config
  #draining = false
  #closed
  #routes
  #answering = 0
  #quiet = []

  constructor(config, prover, workers) {
    this.#config = config
    this.#prover = prover
    this.#gate = new JobGate({ capacity: config.jobCapacity, workers })
    this.#routes = this.#makeRoutes()
    this.#server = http.createServer((req, res) => this.#handle(req, res))
    this.#server.requestTimeout = 0 // a proof may take the whole --job-timeout
  }

  #makeRoutes() {
    return {
      'GET /': () => json({ status: 'ok', timestamp: timestamp() }),
      'GET /health': () => json({ status: 'ok', timestamp: timestamp() }),
      'GET /ready': () => this.#ready(),
      'GET /version': () => text(version),
      'GET /proof-versions': () => text('["V2"]'),
      'GET /metrics': async () => ({ ...text(await this.#prover.metrics()), type: 'text/plain; version=0.0.4; charset=utf-8' }),
      'GET /status': async () => json({ ...(await this.#prover.getStatus()), server: this.#jobCounts() }),
      'POST /k': async (req) => text(kRequest(await this.#body(req))),
      'POST /prove': async (req) => bytes(await this.#job(req, proveRequest)),
      'POST /check': async (req) => bytes(await this.#job(req, checkRequest)),
    }
  }

  #jobCounts() {
    return { jobsProcessing: this.#gate.processing, jobsPending: this.#gate.pending, jobCapacity: this.#gate.capacity }
  }

  #ready() {
    const busy = this.#draining || this.#gate.full
    return json({ status: busy ? 'busy' : 'ok', ...this.#jobCounts(), timestamp: timestamp() }, busy ? 503 : 200)
  }

  #body(req) {
    return readBody(req, this.#config.bodyLimit)
  }

  /** Reads and decodes the body, then runs its work as an admitted job: 429 ("Job Queue full") when at capacity. */
  async #job(req, decode) {
    const work = decode(this.#prover, await this.#body(req))
    if (this.#draining) throw new HttpError(503, 'shutting down', { Connection: 'close' })
    const job = this.#gate.admit(work)
    if (!job) throw new HttpError(429, 'Job Queue full')
    return job
  }

  async #handle(req, res) {
    // Counted until the response is written, so a draining server never cuts one short.
    this.#answering++
    res.once('close', () => {
      if (--this.#answering === 0) this.#quiet.splice(0).forEach((resolve) => resolve())
    })
    const started = performance.now()
    const route = `${req.method} ${new URL(req.url, 'http://x').pathname}`
    let reply
    try {
      reply = await this.#respond(req, route)
    } catch (err) {
      reply = errorResponse(err)
    }
    const headers = { 'Content-Type': reply.type, ...corsHeaders(req), ...reply.headers }
    if (this.#draining) headers.Connection = 'close'
    res.writeHead(reply.status, headers)
    res.end(reply.body)
    if (this.#config.verbose) {
      console.log(`${req.socket.remoteAddress} "${route}" ${reply.status}; took ${((performance.now() - started) / 1000).toFixed(3)}s`)
    }
  }

  async #respond(req, route) {
    if (req.method === 'OPTIONS') return { ...text(''), status: 200 }
    const handler = this.#routes[route]
    if (!handler) return text('', 404)
    if (this.#config.apiKey && !OPEN.has(route) && !authorized(req, this.#config.apiKey)) {
      throw new HttpError(401, 'missing or wrong API key (Authorization: Bearer <PROVER_API_KEY>)', { 'WWW-Authenticate': 'Bearer' })
    }
    return handler(req)
  }

  listen() {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(this.#config.port, this.#config.host, () => {
        this.#server.off('error', reject)
        resolve(this)
      })
    })
  }

  /** `http://host:port` the server listens on. */
  get url() {
    const { address, port } = this.#server.address()
    return `http://${address.includes(':') ? `[${address}]` : address}:${port}`
  }

  /** Stops accepting, lets every admitted job finish and answer, then closes the prover. */
  close() {
    if (!this.#closed) {
      this.#draining = true
      const stopped = new Promise((resolve) => this.#server.close(resolve))
      this.#server.closeIdleConnections()
      const answered = this.#answering === 0 ? Promise.resolve() : new Promise((resolve) => this.#quiet.push(resolve))
      this.#closed = answered
        .then(() => this.#prover.close())
        .then(() => {
          this.#server.closeAllConnections()
          return stopped
        })
    }
    return this.#closed
  }
}

/** Starts the service from a resolved config (lib/serve/config.js). */
async function startServer(config, { cgroupRoot } = {}) {
  const proverOptions = { ...config.prover }
  if (!config.memoryLimitGiven) {
    const derived = derivedMemoryLimitMiB(cgroupRoot)
    if (derived !== undefined) proverOptions.memoryLimit = derived
  }
  const workers = resolveOptions(proverOptions).maxConcurrent ?? 1
  const prover = await createProver(proverOptions)
  const server = new ProofServer({ ...config, prover: proverOptions }, prover, workers)
  try {
    return await server.listen()
  } catch (err) {
    await prover.close()
    throw err
  }
}

module.exports = { startServer, ProofServer }
