'use strict'
// The routes of `serve`: the official proof server's paths, status codes and bodies (midnight-ledger
// proof-server/src/endpoints.rs, lib.rs, worker_pool.rs), plus /metrics and /status, with this
// package's prover behind them. The HTTP plumbing they run on is lib/serve/http.js.
const crypto = require('node:crypto')
const { JobGate } = require('./jobs')
const { HttpError } = require('./http-error')
const { readBody } = require('./body')
const { SharedResults } = require('./shared-results')
const { serverMetrics } = require('./exposition')
const { text } = require('./http')
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

function authorized(req, apiKey) {
  const given = Buffer.from(String(req.headers.authorization ?? ''))
  const wanted = Buffer.from(`Bearer ${apiKey}`)
  return given.length === wanted.length && crypto.timingSafeEqual(given, wanted)
}

/** The proof server's routes over a prover, as the `routes` of an HttpService. */
class ProofRoutes {
  #prover
  #engine
  #fetchParams
  #gate
  #config
  #http
  #handlers
  #results
  /** /prove and /check requests refused at admission, by reason. */
  #refused = { queue_full: 0, shutting_down: 0 }
  /** `GET /fetch-params/{k}` in progress, by k: concurrent requests for one k share one fetch. */
  #fetching = new Map()

  /**
   * `engine` answers /prove, /check and /k (lib/serve/engine.js `makeEngine`), `fetchParams`
   * serves /fetch-params/{k}, and `http` (an HttpService: `draining`, `status()`) is what the
   * routes are served on.
   */
  constructor(config, prover, { workers, engine, fetchParams, http }) {
    this.#config = config
    this.#prover = prover
    this.#engine = engine
    this.#fetchParams = fetchParams
    this.#http = http
    this.#gate = new JobGate({ capacity: config.jobCapacity, workers, timeoutMs: config.jobTimeoutMs })
    this.#results = new SharedResults({ ttlMs: config.resultTtlMs ?? 30_000, maxBytes: config.resultCacheBytes ?? 16 * 1024 * 1024 })
    this.#handlers = {
      'GET /': () => json({ status: 'ok', timestamp: timestamp() }),
      'GET /health': () => json({ status: 'ok', timestamp: timestamp() }),
      'GET /ready': () => this.#ready(),
      'GET /version': () => text(version),
      'GET /proof-versions': () => text('["V2"]'),
      'GET /metrics': async () => ({ ...text((await this.#prover.metrics()) + serverMetrics(this.#state())), type: 'text/plain; version=0.0.4; charset=utf-8' }),
      'GET /status': async () => json({ ...(await this.#prover.getStatus()), server: { ...this.#jobCounts(), ...this.#state() } }),
      'POST /k': async (req, hold) => text(Buffer.from(await this.#job(req, hold, this.#engine.kRequest, '/k')).toString()),
      'POST /prove': async (req, hold) => bytes(await this.#job(req, hold, this.#engine.proveRequest, '/prove')),
      'POST /check': async (req, hold) => bytes(await this.#job(req, hold, this.#engine.checkRequest, '/check')),
    }
  }

  /** The status a failure with a prover error code is answered with (undefined: 500). */
  statusOf(err) {
    return STATUS_BY_CODE[err?.code]
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
    const busy = this.#http.draining || this.#gate.full
    return json({ status: busy ? 'busy' : 'ok', ...this.#jobCounts(), timestamp: timestamp() }, busy ? 503 : 200)
  }

  #body(req, hold) {
    return readBody(req, this.#config.bodyLimit, hold)
  }

  /** What /status and /metrics show of the server itself, beside the job counts. */
  #state() {
    const { connections, body, dropped } = this.#http.status()
    return { connections, body, refused: { body_budget: body.refused, ...this.#refused, max_connections: dropped }, results: this.#results.status() }
  }

  /** 503 while shutting down and 429 while the queue is full, with the connection closed. */
  #admissible(when) {
    const refuse = (reason, err) => {
      this.#refused[reason]++
      throw err
    }
    if (this.#http.draining) refuse('shutting_down', new HttpError(503, 'shutting down', { Connection: 'close' }))
    if (this.#gate.full) refuse('queue_full', new HttpError(429, 'Job Queue full', when === 'before' ? { Connection: 'close' } : {}))
  }

  /**
   * Runs the body's work as an admitted job (/prove, /check, /k). A request the gate would refuse
   * is refused before its body is read (the body may be 100 MiB), and asked again once it is
   * decoded.
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

  /** The route's handler, or a parameterised route's (`/fetch-params/{k}`). */
  #route(route) {
    const handler = this.#handlers[route]
    if (handler) return { handler, name: route }
    const m = /^GET \/fetch-params\/([^/]*)$/.exec(route)
    if (m && this.#config.fetchParams !== false) return { handler: () => this.#fetchParamsRoute(m[1]), name: 'GET /fetch-params/{k}' }
    return undefined
  }

  /** The answer to `route` (`METHOD /path`): 404 for no route, 401 without the API key where one is needed. */
  async respond(req, route, hold) {
    const found = this.#route(route)
    if (!found) return text('', 404)
    if (this.#config.apiKey && !OPEN.has(found.name) && !authorized(req, this.#config.apiKey)) {
      throw new HttpError(401, 'missing or wrong API key (Authorization: Bearer <PROVER_API_KEY>)', { 'WWW-Authenticate': 'Bearer' })
    }
    return found.handler(req, hold)
  }
}

module.exports = { ProofRoutes }
