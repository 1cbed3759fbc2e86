'use strict'
// The HTTP plumbing of `serve`, whatever the routes: listening, connections and their timeouts,
// request targets, the budget of request bodies in flight, CORS headers, answers to requests
// Node cannot parse, and a shutdown that lets every request being answered finish.
// lib/serve/routes.js decides what each request is answered.
const http = require('node:http')
const { HttpError } = require('./http-error')
const { BodyBudget, defaultBodyBudget } = require('./body')

/** A text answer (the shape every handler returns: status, body, Content-Type, optional headers). */
const text = (body, status = 200) => ({ status, body: String(body), type: 'text/plain; charset=utf-8' })

// RFC 9112 §3.2 request targets, checked before anything routes on them. Node's parser lets
// through targets that are not URLs (`//[`, `//%zz`, `http://[::1`); they get 400, never a throw.
const PATH_CHARS = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/
const QUERY_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*$/
const BAD_ESCAPE = /%(?![0-9A-Fa-f]{2})/

const malformed = (target) => new HttpError(400, `malformed request target ${JSON.stringify(String(target).slice(0, 80))}`, { Connection: 'close' })

/**
 * A connection answered and closed before its request body ended keeps reading, and dropping,
 * what the client still sends, for this long after the answer and our FIN. Closing with unread
 * bytes sends a reset, and a reset erases the answer at a client that has not read it yet
 * (RFC 9112 §9.6): its 503 or 413 would never be seen. Bounded by time alone, as nginx's
 * lingering close is: a client that read its answer stops sending, and connections are counted.
 */
const LINGER_MS = 2000

function linger(req, socket) {
  req.removeAllListeners('data')
  req.resume() // flowing with no reader: the rest of the body is dropped as it arrives
  // Node ends a `Connection: close` exchange with destroySoon(): FIN, then destroy at once.
  socket.destroySoon = function destroyLater() {
    if (this.writable) this.end()
    const timer = setTimeout(() => this.destroy(), LINGER_MS)
    this.once('close', () => clearTimeout(timer))
  }
}

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

/**
 * An HTTP server that, once listening, answers each request with what
 * `routes.respond(req, route, hold)` returns (`route` is `METHOD /path`, `hold` the request's
 * share of the body budget). A failure is answered by its HttpError status, its `httpStatus`,
 * `routes.statusOf(err)`, or 500, with a text body.
 */
class HttpService {
  #server
  #routes
  #config
  #draining = false
  #closed
  #bodies
  /** Connections dropped at accept because maxConnections were open. */
  #dropped = 0
  #connections = 0
  #answering = 0
  #quiet = []
  /** Sockets a response is being written on: a parse error there must not write into it. */
  #writing = new WeakSet()
  /** Per socket, the requests whose answer is not out yet (more than one when pipelined). */
  #unanswered = new WeakMap()
  /** Per socket, a parse error's answer that waits for those answers to go out first. */
  #afterAnswers = new WeakMap()

  /**
   * `config`: lib/serve/config.js's (port, host, timeouts, maxConnections, bodyLimit,
   * bodyBudget, verbose).
   */
  constructor(config) {
    this.#config = config
    this.#bodies = new BodyBudget(config.bodyBudget ?? defaultBodyBudget(config.bodyLimit))
    // requestTimeout bounds only the receiving of a request (headers and body), not the proof
    // that follows, so a client that never finishes its body cannot hold a connection forever.
    // The timeouts are checked every second, not every 30 s, so a slowloris is let go in time.
    const timeouts = { headersTimeout: config.headersTimeoutMs ?? 20_000, requestTimeout: config.requestTimeoutMs ?? 300_000 }
    this.#server = http.createServer({ ...timeouts, connectionsCheckingInterval: 1000 }, (req, res) => {
      this.#handle(req, res).catch((err) => this.#lastResort(res, err))
    })
    this.#server.keepAliveTimeout = config.keepAliveTimeoutMs ?? 5000
    this.#server.maxConnections = config.maxConnections ?? 4096
    this.#server.on('drop', () => this.#dropped++)
    this.#server.on('connection', (socket) => {
      this.#connections++
      socket.once('close', () => this.#connections--)
    })
    this.#server.on('clientError', (err, socket) => this.#clientError(err, socket))
    // An accept failure (EMFILE under a flood of connections) must not end the process.
    this.#server.on('error', (err) => console.error(`serve: ${err.code ?? ''} ${err.message}`))
  }

  /** True once close() was called: no new work is admitted, and every answer closes its connection. */
  get draining() {
    return this.#draining
  }

  /** Open connections, the body budget (BodyBudget#status()), and connections dropped at accept. */
  status() {
    return { connections: this.#connections, body: this.#bodies.status(), dropped: this.#dropped }
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

  #errorResponse(err) {
    if (err instanceof HttpError) return { ...text(err.message, err.status), headers: err.headers }
    const status = err?.httpStatus ?? this.#routes.statusOf(err) ?? 500
    return text(err?.code ? `${err.code}: ${err.message}` : String(err?.message ?? err), status)
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
      // A CORS preflight: the headers below are its answer.
      reply = req.method === 'OPTIONS' ? text('') : await this.#routes.respond(req, route, hold)
    } catch (err) {
      reply = this.#errorResponse(err)
    }
    if (res.destroyed || res.writableEnded) return
    const headers = { 'Content-Type': reply.type, ...corsHeaders(req), ...reply.headers }
    if (this.#draining) headers.Connection = 'close'
    if (headers.Connection === 'close' && !req.complete) linger(req, socket)
    this.#writing.add(socket)
    res.writeHead(reply.status, headers)
    res.end(reply.body)
    if (this.#config.verbose) {
      console.log(`${socket.remoteAddress} "${route}" ${reply.status}; took ${((performance.now() - started) / 1000).toFixed(3)}s`)
    }
  }

  /** Resolves once listening on the config's port and host, answering with `routes`. */
  listen(routes) {
    this.#routes = routes
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(this.#config.port, this.#config.host, () => {
        this.#server.off('error', reject)
        resolve()
      })
    })
  }

  /** `http://host:port` the server listens on. */
  get url() {
    const { address, port } = this.#server.address()
    return `http://${address.includes(':') ? `[${address}]` : address}:${port}`
  }

  /**
   * Stops accepting and starts draining; once every request being answered is answered, runs
   * `afterAnswers` (closing what served them), then closes every connection. The same promise
   * on every call.
   */
  close(afterAnswers = async () => {}) {
    if (!this.#closed) {
      this.#draining = true
      const stopped = new Promise((resolve) => this.#server.close(resolve))
      this.#server.closeIdleConnections()
      const answered = this.#answering === 0 ? Promise.resolve() : new Promise((resolve) => this.#quiet.push(resolve))
      this.#closed = answered
        .then(afterAnswers)
        .then(() => {
          this.#server.closeAllConnections()
          return stopped
        })
    }
    return this.#closed
  }
}

module.exports = { HttpService, text }
