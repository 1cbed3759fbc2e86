'use strict'
// The HTTP service: the official proof server's routes, status codes and bodies (midnight-ledger
// proof-server/src/endpoints.rs, lib.rs, worker_pool.rs), with this package's prover behind them.
const http = require('node:http')
const crypto = require('node:crypto')
const { resolveOptions } = require('../options')
const { JobGate } = require('./jobs')
const { HttpError } = require('./http-error')
const { BodyBudget, defaultBodyBudget, readBody } = require('./body')
const { SharedResults } = require('./shared-results')
const { serverMetrics } = require('./exposition')
const { makeEngine } = require('./engine')
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
  KEY_MISMATCH: 400,
  INVALID_IR: 400,
  PROVER_OVERLOADED: 429,
  PROVER_CLOSED: 503,
}

/** The largest k the proof server serves parameters for (`GET /fetch-params/{k}`). */
const MAX_PARAMS_K = 25
/** Parameters for k up to this are in the SRS compiled into the addon: nothing to fetch. */
const EMBEDDED_PARAMS_K = 14
/** The prover's own timeout is the longest setTimeout allows: the gate times jobs (lib/serve/jobs.js). */
const NO_PROVER_TIMEOUT_MS = 2 ** 31 - 1

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

// RFC 9112 §3.2 request targets, checked before anything routes on them. Node's parser lets
// through targets that are not URLs (`//[`, `//%zz`, `http://[::1`); they get 400, never a throw.
const PATH_CHARS = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/
const QUERY_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*$/
const BAD_ESCAPE = /%(?![0-9A-Fa-f]{2})/

const malformed = (target) => new HttpError(400, `malformed request target ${JSON.stringify(String(target).slice(0, 80))}`, { Connection: 'close' })

/**
 * The path a request targets (origin-form `/path?query`, absolute-form `http://host/path`, or
 * `*` for OPTIONS), or an HttpError 400 for anything else. Never throws anything but HttpError.
 */
function targetPath(method, target) {
  if (typeof target !== 'string' || target.length === 0) throw malformed(target)
  if (target === '*' && method === 'OPTIONS') return '*'
  let path = target
  let query = ''
  if (/^https?:\/\//i.test(target)) {
    let url
    try {
      url = new URL(target)
    } catch {
      throw malformed(target)
    }
    path = url.pathname
    query = url.search.slice(1)
  } else if (target.startsWith('/')) {
    const q = target.indexOf('?')
    if (q >= 0) [path, query] = [target.slice(0, q), target.slice(q + 1)]
  } else {
    throw malformed(target)
  }
  if (!PATH_CHARS.test(path) || !QUERY_CHARS.test(query) || BAD_ESCAPE.test(path) || BAD_ESCAPE.test(query)) throw malformed(target)
  return path
}

function authorized(req, apiKey) {
  const given = Buffer.from(String(req.headers.authorization ?? ''))
  const wanted = Buffer.from(`Bearer ${apiKey}`)
  return given.length === wanted.length && crypto.timingSafeEqual(given, wanted)
}

/** A request header value that may be echoed in a response header (visible ASCII, spaces, tabs). */
const echoable = (value) => (typeof value === 'string' && /^[\t\x20-\x7e]*$/.test(value) ? value : undefined)

/** The proof server allows any origin (actix Cors::permissive), so browser dapps can call it. */
function corsHeaders(req) {
  const origin = echoable(req.headers.origin)
  if (!origin) return {}
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Allow-Credentials': 'true',
    'Access-Control-Allow-Methods': echoable(req.headers['access-control-request-method']) ?? 'GET, POST',
    'Access-Control-Allow-Headers': echoable(req.headers['access-control-request-headers']) ?? '*',
    Vary: 'Origin',
  }
}

/** What a connection that fails to parse (Node's 'clientError') is answered, by parser error code. */
const CLIENT_ERROR_STATUS = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'request line or headers exceed the server\'s header size limit'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Payload Too Large', 'chunk extensions too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'the request was not received in time'],
}

/** A complete HTTP/1.1 response, written on a raw socket whose parser has failed. */
function rawResponse(status, reason, body) {
  const text = `${body}\n`
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`
}

function errorResponse(err) {
  if (err instanceof HttpError) return { ...text(err.message, err.status), headers: err.headers }
  const status = err?.httpStatus ?? STATUS_BY_CODE[err?.code] ?? 500
  return text(err?.code ? `${err.code}: ${err.message}` : String(err?.message ?? err), status)
}

class ProofServer {
  #server
  #prover
  #engine
  #fetchParams
  #gate
  #config
  #draining = false
  #closed
  #routes
  #bodies
  #results
  /** /prove and /check requests answered before their body was read, by reason. */
  #refused = { queue_full: 0, shutting_down: 0, max_connections: 0 }
  #connections = 0
  #answering = 0
  #quiet = []
  /** `GET /fetch-params/{k}` in progress, by k: concurrent requests for one k share one fetch. */
  #fetching = new Map()
  /** Sockets a response is being written on: a parse error there must not write into it. */
  #writing = new WeakSet()
  /** Per socket, the requests whose answer is not out yet (more than one when pipelined). */
  #unanswered = new WeakMap()
  /** Per socket, a parse error's answer that waits for those answers to go out first. */
  #afterAnswers = new WeakMap()

  /**
   * `engine` answers /prove, /check and /k (lib/serve/engine.js `makeEngine`) and `fetchParams`
   * serves /fetch-params/{k}; both are passed in so a fake binding can stand behind the routes.
   */
  constructor(config, prover, { workers, engine, fetchParams }) {
    this.#config = config
    this.#prover = prover
    this.#engine = engine
    this.#fetchParams = fetchParams
    this.#gate = new JobGate({ capacity: config.jobCapacity, workers, timeoutMs: config.jobTimeoutMs })
    this.#bodies = new BodyBudget(config.bodyBudget ?? defaultBodyBudget(config.bodyLimit))
    this.#results = new SharedResults({ ttlMs: config.resultTtlMs ?? 30_000, maxBytes: config.resultCacheBytes ?? 16 * 1024 * 1024 })
    this.#routes = this.#makeRoutes()
    // requestTimeout bounds only the receiving of a request (headers and body), not the proof
    // that follows, so a client that never finishes its body cannot hold a connection forever.
    // The timeouts are checked every second, not every 30 s, so a slowloris is let go in time.
    const timeouts = { headersTimeout: config.headersTimeoutMs ?? 20_000, requestTimeout: config.requestTimeoutMs ?? 300_000 }
    this.#server = http.createServer({ ...timeouts, connectionsCheckingInterval: 1000 }, (req, res) => {
      this.#handle(req, res).catch((err) => this.#lastResort(res, err))
    })
    this.#server.keepAliveTimeout = config.keepAliveTimeoutMs ?? 5000
    this.#server.maxConnections = config.maxConnections ?? 4096
    this.#server.on('drop', () => this.#refused.max_connections++)
    this.#server.on('connection', (socket) => {
      this.#connections++
      socket.once('close', () => this.#connections--)
    })
    this.#server.on('clientError', (err, socket) => this.#clientError(err, socket))
    // An accept failure (EMFILE under a flood of connections) must not end the process.
    this.#server.on('error', (err) => console.error(`serve: ${err.code ?? ''} ${err.message}`))
  }

  /**
   * A connection Node could not parse (bad request line, header overflow, bad chunking, a lying
   * length at EOF, …) is answered 400 (431 for oversized headers) and closed, unless a response
   * has already begun on it (writing then would corrupt that response), when it is just closed.
   * A request of it still being handled finds its body cut short and its socket gone.
   */
  #clientError(err, socket) {
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || !socket.writable) return socket.destroy()
    const [status, reason, what] = CLIENT_ERROR_STATUS[err.code] ?? [400, 'Bad Request', `malformed request (${err.code ?? 'parse error'}: ${err.reason ?? err.message})`]
    if (this.#config.verbose) console.log(`${socket.remoteAddress} unparsable request (${err.code}) ${status}`)
    const answer = () => {
      try {
        if (socket.writable && !this.#writing.has(socket)) {
          socket.end(rawResponse(status, reason, what))
          // Closed once the answer is out, or soon in any case: nothing more is read from it.
          setTimeout(() => socket.destroy(), 2000).unref()
          return
        }
      } catch {
        // nothing more can be said on this socket
      }
      socket.destroy()
    }
    // Earlier pipelined requests that arrived whole are answered first, then this error. (One
    // still incomplete is the broken one itself, e.g. bad chunking: it is answered now.)
    const open = [...(this.#unanswered.get(socket) ?? [])]
    if (open.length && open.every((req) => req.complete)) {
      socket.pause()
      this.#afterAnswers.set(socket, answer)
    } else answer()
  }

  /** Only reached if answering itself failed: close the exchange without a throw escaping. */
  #lastResort(res, err) {
    try {
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' })
        res.end(`internal error: ${err?.message ?? err}`)
      } else res.destroy()
    } catch {
      res.socket?.destroy()
    }
  }

  #makeRoutes() {
    return {
      'GET /': () => json({ status: 'ok', timestamp: timestamp() }),
      'GET /health': () => json({ status: 'ok', timestamp: timestamp() }),
      'GET /ready': () => this.#ready(),
      'GET /version': () => text(version),
      'GET /proof-versions': () => text('["V2"]'),
      'GET /metrics': async () => ({ ...text((await this.#prover.metrics()) + serverMetrics(this.#state())), type: 'text/plain; version=0.0.4; charset=utf-8' }),
      'GET /status': async () => json({ ...(await this.#prover.getStatus()), server: { ...this.#jobCounts(), ...this.#state() } }),
      'POST /k': async (req, hold) => text(await this.#engine.kRequest(await this.#body(req, hold))),
      'POST /prove': async (req, hold) => bytes(await this.#job(req, hold, this.#engine.proveRequest, '/prove')),
      'POST /check': async (req, hold) => bytes(await this.#job(req, hold, this.#engine.checkRequest, '/check')),
    }
  }

  /**
   * `GET /fetch-params/{k}` as the proof server has it: `k` must read as a u8 (else 404, as
   * actix's path extractor answers), k > 25 is 400 `k=… out of range`, and otherwise
   * bls_midnight_2p{k} is made present (fetchParams; the embedded SRS covers k <= 14) and the
   * answer is `success`.
   */
  async #fetchParamsRoute(segment) {
    if (!/^\+?[0-9]{1,3}$/.test(segment) || Number(segment) > 255) return text('', 404)
    const k = Number(segment)
    if (k > MAX_PARAMS_K) throw new HttpError(400, `k=${k} out of range`)
    if (k > EMBEDDED_PARAMS_K) {
      let fetching = this.#fetching.get(k)
      if (!fetching) {
        const { paramsPath } = this.#config.prover
        fetching = this.#fetchParams(k, paramsPath === undefined ? {} : { paramsPath }).finally(() => this.#fetching.delete(k))
        this.#fetching.set(k, fetching)
      }
      await fetching
    }
    return text('success')
  }

  #jobCounts() {
    return { jobsProcessing: this.#gate.processing, jobsPending: this.#gate.pending, jobCapacity: this.#gate.capacity }
  }

  #ready() {
    const busy = this.#draining || this.#gate.full
    return json({ status: busy ? 'busy' : 'ok', ...this.#jobCounts(), timestamp: timestamp() }, busy ? 503 : 200)
  }

  #body(req, hold) {
    return readBody(req, this.#config.bodyLimit, hold)
  }

  /** What /status and /metrics show of the server itself, beside the job counts. */
  #state() {
    return { connections: this.#connections, body: this.#bodies.status(), refused: { body_budget: this.#bodies.refused, ...this.#refused }, results: this.#results.status() }
  }

  /** 503 while shutting down and 429 while the queue is full, with the connection closed. */
  #admissible(when) {
    const refuse = (reason, err) => {
      this.#refused[reason]++
      throw err
    }
    if (this.#draining) refuse('shutting_down', new HttpError(503, 'shutting down', { Connection: 'close' }))
    if (this.#gate.full) refuse('queue_full', new HttpError(429, 'Job Queue full', when === 'before' ? { Connection: 'close' } : {}))
  }

  /**
   * Runs the body's work as an admitted job. A request the gate would refuse is refused before
   * its body is read (the body may be 100 MiB), and asked again once it is decoded.
   */
  async #job(req, hold, decode, route) {
    this.#admissible('before')
    const body = await this.#body(req, hold)
    // An equal request in flight or just answered (a client's retry) shares its job.
    return this.#results.run(SharedResults.key(route, body), () => {
      const work = decode(this.#prover, body)
      this.#admissible('after')
      return this.#gate.admit(work)
    })
  }

  /**
   * Answers one request. Every failure, whatever throws it, becomes a status and a text body:
   * the target is parsed inside the guarded path, and request or response stream errors (a
   * client that goes away mid-body) are handled rather than left to crash the process.
   */
  async #handle(req, res) {
    // Counted until the response is written, so a draining server never cuts one short.
    this.#answering++
    const socket = req.socket
    const open = this.#unanswered.get(socket) ?? new Set()
    this.#unanswered.set(socket, open.add(req))
    const answered = () => {
      this.#writing.delete(socket)
      if (!open.delete(req)) return
      const then = this.#afterAnswers.get(socket)
      if (open.size === 0 && then) {
        this.#afterAnswers.delete(socket)
        then()
      }
    }
    res.once('finish', answered)
    const hold = this.#bodies.hold()
    res.once('close', () => {
      hold.release()
      answered()
      if (--this.#answering === 0) this.#quiet.splice(0).forEach((resolve) => resolve())
    })
    req.on('error', () => {}) // a body cut short: readBody rejects on 'close', nothing else reads it
    res.on('error', () => {}) // writing to a client that has gone: nothing to tell it
    const started = performance.now()
    let route = `${req.method} ${JSON.stringify(String(req.url).slice(0, 80))}` // until it parses
    let reply
    try {
      route = `${req.method} ${targetPath(req.method, req.url)}`
      reply = await this.#respond(req, route, hold)
    } catch (err) {
      reply = errorResponse(err)
    }
    if (res.destroyed || res.writableEnded) return
    const headers = { 'Content-Type': reply.type, ...corsHeaders(req), ...reply.headers }
    if (this.#draining) headers.Connection = 'close'
    this.#writing.add(socket)
    res.writeHead(reply.status, headers)
    res.end(reply.body)
    if (this.#config.verbose) {
      console.log(`${socket.remoteAddress} "${route}" ${reply.status}; took ${((performance.now() - started) / 1000).toFixed(3)}s`)
    }
  }

  /** The route's handler, or a parameterised route's (`/fetch-params/{k}`). */
  #route(route) {
    const handler = this.#routes[route]
    if (handler) return { handler, name: route }
    const m = /^GET \/fetch-params\/([^/]*)$/.exec(route)
    if (m && this.#config.fetchParams !== false) return { handler: () => this.#fetchParamsRoute(m[1]), name: 'GET /fetch-params/{k}' }
    return undefined
  }

  async #respond(req, route, hold) {
    if (req.method === 'OPTIONS') return { ...text(''), status: 200 }
    const found = this.#route(route)
    if (!found) return text('', 404)
    if (this.#config.apiKey && !OPEN.has(found.name) && !authorized(req, this.#config.apiKey)) {
      throw new HttpError(401, 'missing or wrong API key (Authorization: Bearer <PROVER_API_KEY>)', { 'WWW-Authenticate': 'Bearer' })
    }
    return found.handler(req, hold)
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
  // Loaded here, not with this module: ProofServer itself runs on whatever it is given.
  const { createProver, fetchParams } = require('../..')
  const engine = makeEngine(require('../../binding.js'))
  const proverOptions = { ...config.prover }
  if (!config.memoryLimitGiven) {
    const derived = derivedMemoryLimitMiB(cgroupRoot)
    if (derived !== undefined) proverOptions.memoryLimit = derived
  }
  // Jobs are timed by the gate (config.jobTimeoutMs), which keeps a timed-out proof's slot until
  // its native work ends; the prover's own timeout (or PROVER_TIMEOUT_MS) must not cut in first.
  proverOptions.timeoutMs = NO_PROVER_TIMEOUT_MS
  const resolved = resolveOptions(proverOptions)
  const workers = resolved.maxConcurrent ?? 1
  // Sized from the memory limit however it was given (flag, env or cgroup).
  const bodyBudget = config.bodyBudget ?? defaultBodyBudget(config.bodyLimit, resolved.memoryLimitBytes)
  const prover = await createProver(proverOptions)
  const server = new ProofServer({ ...config, bodyBudget, prover: proverOptions }, prover, { workers, engine, fetchParams })
  try {
    return await server.listen()
  } catch (err) {
    await prover.close()
    throw err
  }
}

module.exports = { startServer, ProofServer }
