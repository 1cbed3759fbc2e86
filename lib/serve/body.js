'use strict'
// Request bodies: read under a per-request limit (`--body-limit`, 413) and under one budget for
// the bytes of every body being received or held, across all connections (`--body-budget`).
//
// A body counts against the budget from the moment its request is taken until its answer is
// out: by its declared Content-Length before any of it is read, or chunk by chunk when it
// declares none. A request whose body does not fit is answered 503 with Retry-After at once and
// its connection is closed, so a flood of large or slow bodies costs the server their headers,
// not their bytes.
const { HttpError } = require('./http-error')

/**
 * The budget when `--body-budget` is not given: a quarter of the memory limit, within one and two
 * largest bodies; two largest bodies when there is no memory limit.
 */
function defaultBodyBudget(bodyLimit, memoryLimitBytes) {
  const quarter = memoryLimitBytes === undefined ? Infinity : memoryLimitBytes / 4
  return Math.floor(Math.max(bodyLimit, Math.min(quarter, 2 * bodyLimit)))
}

/** Bytes of request bodies in flight, bounded by `limit`. */
class BodyBudget {
  #inFlight = 0
  /** Requests answered 503 because their body did not fit. */
  refused = 0

  constructor(limit) {
    this.limit = limit
  }

  /** A request's share: it grows as its body is announced or arrives, and is given back once. */
  hold() {
    let held = 0
    return {
      grow: (bytes) => {
        if (this.#inFlight + bytes > this.limit) {
          this.refused++
          return false
        }
        this.#inFlight += bytes
        held += bytes
        return true
      },
      get bytes() {
        return held
      },
      limit: this.limit,
      release: () => {
        this.#inFlight -= held
        held = 0
      },
    }
  }

  status() {
    return { inFlightBytes: this.#inFlight, limitBytes: this.limit, refused: this.refused }
  }
}

const closing = { Connection: 'close' }
const overBudget = (limit) => new HttpError(503, `request bodies in flight would exceed the ${limit}-byte budget (--body-budget / PROVER_BODY_BUDGET); retry later`, { ...closing, 'Retry-After': '1' })

/**
 * The body, refused with 413 as soon as it passes `limit` bytes (declared or streamed) and with
 * 503 as soon as `hold` cannot grow to cover it. A refused body is not read further.
 */
function readBody(req, limit, hold) {
  return new Promise((resolve, reject) => {
    const tooLarge = () => new HttpError(413, `request body exceeds the ${limit}-byte limit (--body-limit / PROVER_BODY_LIMIT)`, closing)
    const declared = Number(req.headers['content-length'])
    if (declared > limit) return reject(tooLarge())
    if (declared > 0 && !hold.grow(declared)) return reject(overBudget(hold.limit))
    // A declared body is read into one buffer of its size (pages are touched only as bytes
    // arrive), so the largest body costs its size once, not twice at the concatenation.
    const whole = declared > 0 ? Buffer.allocUnsafeSlow(declared) : undefined
    const chunks = []
    let size = 0
    // Past the limit the rest is read and dropped (as before the budget: clients get their 413);
    // past the budget nothing more is read, and the connection closes after the 503.
    const stop = (err, drain) => {
      req.removeAllListeners('data')
      if (drain) req.resume()
      else req.pause()
      reject(err)
    }
    req.on('data', (chunk) => {
      size += chunk.length
      if (size > limit) stop(tooLarge(), true)
      else if (size > hold.bytes && !hold.grow(size - hold.bytes)) stop(overBudget(hold.limit), false)
      else if (whole && size <= declared) chunk.copy(whole, size - chunk.length)
      else chunks.push(chunk)
    })
    req.on('end', () => {
      const body = whole ? whole.subarray(0, size) : Buffer.concat(chunks)
      resolve(new Uint8Array(body.buffer, body.byteOffset, body.length))
    })
    // The connection ended or broke before the body did: no answer can reach the client, but
    // the handler must still finish (a promise that never settles would hold its count forever).
    const cut = () => reject(new HttpError(400, 'request body cut short', closing))
    req.on('error', cut)
    req.on('close', () => {
      if (!req.complete) cut()
    })
  })
}

module.exports = { BodyBudget, defaultBodyBudget, readBody }
