'use strict'
// A retry never costs a second proof. midnight-js's HTTP client retries a /prove after its
// timeout (up to 3 times, on 500 and 503 too), and under load the first attempt is usually still
// running then. Requests with the same route and body bytes (by SHA-256) share one job: a request
// arriving while an equal one is in flight waits for that job's answer, and a finished answer is
// kept for a short TTL so a retry that comes just after it gets it at once.
//
// Sharing is safe: the same bytes ask for a proof of the same statement, and a proof reveals
// nothing of its witness. Only successes are kept. The cache is bounded by entries, bytes and
// time, lives in memory only, and is off with a TTL of 0.
const crypto = require('node:crypto')

const MAX_ENTRIES = 256

class SharedResults {
  #inFlight = new Map()
  /** Finished answers by key, oldest first. */
  #done = new Map()
  #bytes = 0
  /** Requests answered from a finished result, and requests that joined one in flight. */
  hits = 0
  joined = 0

  /** `ttlMs` 0 turns both the cache and the sharing off. */
  constructor({ ttlMs, maxBytes }) {
    this.ttlMs = ttlMs
    this.maxBytes = maxBytes
  }

  static key(route, body) {
    return `${route} ${crypto.createHash('sha256').update(body).digest('hex')}`
  }

  /** The answer for `key`: a fresh finished one, the one in flight, or `start()`'s (which may throw). */
  run(key, start) {
    if (this.ttlMs === 0) return start()
    const done = this.#done.get(key)
    if (done) {
      this.hits++
      return Promise.resolve(done.bytes)
    }
    const flying = this.#inFlight.get(key)
    if (flying) {
      this.joined++
      return flying
    }
    const answer = start()
    this.#inFlight.set(key, answer)
    answer.then((bytes) => this.#keep(key, bytes), () => {}).finally(() => this.#inFlight.delete(key))
    return answer
  }

  #keep(key, bytes) {
    if (!(bytes instanceof Uint8Array) || bytes.length > this.maxBytes) return
    const timer = setTimeout(() => this.#drop(key), this.ttlMs).unref()
    this.#done.set(key, { bytes, timer })
    this.#bytes += bytes.length
    for (const oldest of this.#done.keys()) {
      if (this.#done.size <= MAX_ENTRIES && this.#bytes <= this.maxBytes) break
      this.#drop(oldest)
    }
  }

  #drop(key) {
    const entry = this.#done.get(key)
    if (!entry) return
    clearTimeout(entry.timer)
    this.#done.delete(key)
    this.#bytes -= entry.bytes.length
  }

  status() {
    return { entries: this.#done.size, bytes: this.#bytes, inFlight: this.#inFlight.size, hits: this.hits, joined: this.joined, ttlMs: this.ttlMs, maxBytes: this.maxBytes, maxEntries: MAX_ENTRIES }
  }
}

module.exports = { SharedResults }
