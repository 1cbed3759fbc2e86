'use strict'
// The `serve` service: the proof server's routes (lib/serve/routes.js) on the HTTP plumbing
// (lib/serve/http.js), over a prover. Like lib/api.js, it is given what it runs on: the package
// root passes the binding and its own createProver and fetchParams to makeServe (bin/cli.js),
// the unit tests a fake binding to ProofServer.
const { HttpService } = require('./http')
const { ProofRoutes } = require('./routes')
const { makeEngine } = require('./engine')
const { defaultBodyBudget } = require('./body')
const { derivedMemoryLimitMiB } = require('./cgroup')
const { resolveOptions } = require('../options')
const { MAX_TIMEOUT_MS } = require('../stop')

class ProofServer {
  #http
  #routes
  #prover

  /**
   * `config` is lib/serve/config.js's; `engine` answers /prove, /check and /k (lib/serve/engine.js
   * `makeEngine`) and `fetchParams` serves /fetch-params/{k}.
   */
  constructor(config, prover, { workers, engine, fetchParams }) {
    this.#prover = prover
    this.#http = new HttpService(config)
    this.#routes = new ProofRoutes(config, prover, { workers, engine, fetchParams, http: this.#http })
  }

  async listen() {
    await this.#http.listen(this.#routes)
    return this
  }

  /** `http://host:port` the server listens on. */
  get url() {
    return this.#http.url
  }

  /** Stops accepting, lets every admitted job finish and answer, then closes the prover. */
  close() {
    return this.#http.close(() => this.#prover.close())
  }
}

/**
 * `serve` over `binding` (binding.js) and the package's API over it (`createProver`,
 * `fetchParams`: what index.js exports): `{ startServer }`.
 */
function makeServe(binding, { createProver, fetchParams }) {
  const engine = makeEngine(binding)

  /** Starts the service from a resolved config (lib/serve/config.js). */
  async function startServer(config, { cgroupRoot } = {}) {
    const proverOptions = { ...config.prover }
    if (!config.memoryLimitGiven) {
      const derived = derivedMemoryLimitMiB(cgroupRoot)
      if (derived !== undefined) proverOptions.memoryLimit = derived
    }
    // Jobs are timed by the gate (config.jobTimeoutMs), which keeps a timed-out proof's slot until
    // its native work ends; the prover's own timeout (or PROVER_TIMEOUT_MS) must not cut in first.
    proverOptions.timeoutMs = MAX_TIMEOUT_MS
    const resolved = resolveOptions(proverOptions)
    // Sized from the memory limit however it was given (flag, env or cgroup).
    const bodyBudget = config.bodyBudget ?? defaultBodyBudget(config.bodyLimit, resolved.memoryLimitBytes)
    const prover = await createProver(proverOptions)
    const server = new ProofServer({ ...config, bodyBudget, prover: proverOptions }, prover, { workers: resolved.maxConcurrent, engine, fetchParams })
    try {
      return await server.listen()
    } catch (err) {
      await prover.close()
      throw err
    }
  }

  return { startServer }
}

module.exports = { makeServe, ProofServer }
