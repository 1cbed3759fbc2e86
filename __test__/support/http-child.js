'use strict'
// `serve` in a child process on 127.0.0.1 (port 0), for tests and scripts that must see a crash
// as the child's exit rather than die with it; plus raw-socket HTTP exchanges for requests that
// fetch cannot send (malformed request lines, lying lengths, bad chunking, half-open sockets).
const net = require('node:net')
const path = require('node:path')
const { spawn } = require('node:child_process')

const CLI = path.resolve(__dirname, '..', '..', 'bin', 'cli.js')
const HOST = '127.0.0.1'

/** A running `serve` child: its url and port, whether it is alive, and the tail of its output. */
class ServeChild {
  #child
  #out = ''
  #exit

  /** Starts `serve --host 127.0.0.1 --port 0 ...args`; resolves once it listens (or rejects if it exits first). */
  static async start(args = [], { env = {}, nodeArgs = [], startMs = 30_000 } = {}) {
    const child = new ServeChild()
    await child.#spawn(args, env, nodeArgs, startMs)
    return child
  }

  async #spawn(args, env, nodeArgs, startMs) {
    this.#child = spawn(process.execPath, [...nodeArgs, CLI, 'serve', '--host', HOST, '--port', '0', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    })
    const keep = (d) => {
      this.#out = (this.#out + d).slice(-20_000)
    }
    this.#child.stdout.on('data', keep)
    this.#child.stderr.on('data', keep)
    this.exited = new Promise((resolve) =>
      this.#child.on('exit', (code, signal) => {
        this.#exit = { code, signal }
        resolve(this.#exit)
      }),
    )
    const deadline = Date.now() + startMs
    let m
    while (!(m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(this.#out))) {
      if (this.#exit) throw new Error(`serve exited before listening (${JSON.stringify(this.#exit)}):\n${this.#out}`)
      if (Date.now() > deadline) throw new Error(`serve did not listen within ${startMs} ms:\n${this.#out}`)
      await new Promise((r) => setTimeout(r, 20))
    }
    this.port = Number(m[1])
    this.url = `http://${HOST}:${this.port}`
  }

  get pid() {
    return this.#child.pid
  }

  get alive() {
    return this.#exit === undefined
  }

  /** How it ended, or undefined while it runs. */
  get exit() {
    return this.#exit
  }

  /** The last `chars` characters it printed (stdout and stderr together). */
  output(chars = 2000) {
    return this.#out.slice(-chars)
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 10_000) {
    if (!this.alive) return this.#exit
    this.#child.kill('SIGTERM')
    const timer = setTimeout(() => this.alive && this.#child.kill('SIGKILL'), graceMs)
    const exit = await this.exited
    clearTimeout(timer)
    return exit
  }
}

/** Each `HTTP/1.x NNN` response in raw bytes read from a socket, with its body when complete. */
function parseResponses(buf) {
  const responses = []
  let at = 0
  while (at < buf.length) {
    const headEnd = buf.indexOf('\r\n\r\n', at)
    if (headEnd < 0) break
    const head = buf.subarray(at, headEnd).toString('latin1')
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head)
    if (!m) break
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0)
    const bodyStart = headEnd + 4
    if (buf.length < bodyStart + length) break
    responses.push({ status: Number(m[1]), head, body: buf.subarray(bodyStart, bodyStart + length).toString('utf8') })
    at = bodyStart + length
  }
  return responses
}

/**
 * Sends `parts` (strings or Buffers, `{ pauseMs }` between them if given) on a new loopback
 * socket, then reads until `responses` complete answers came, the server closed the socket, or
 * `waitMs` passed. `end: true` half-closes after sending. Always destroys the socket.
 * Resolves to `{ statuses, responses, closed, timedOut }`.
 */
function rawExchange(port, parts, { responses: want = 1, waitMs = 3000, end = false, pauseMs = 0 } = {}) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port })
    let buf = Buffer.alloc(0)
    let closed = false
    let done = false
    const finish = (timedOut) => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      const got = parseResponses(buf)
      resolve({ statuses: got.map((r) => r.status), responses: got, closed, timedOut, raw: buf })
    }
    const timer = setTimeout(() => finish(true), waitMs)
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d])
      if (parseResponses(buf).length >= want) finish(false)
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      closed = true
      finish(false)
    })
    socket.on('connect', async () => {
      for (const part of [].concat(parts)) {
        if (done || socket.destroyed) return
        socket.write(part)
        if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs))
      }
      if (end && !socket.destroyed) socket.end()
    })
  })
}

/** Opens a socket and leaves it as it is after sending `data` (nothing, or part of a request). */
function openHalf(port, data) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port }, () => {
      if (data) socket.write(data)
      resolve(socket)
    })
    socket.on('error', reject)
  })
}

/** VmRSS of a process in bytes, from /proc/<pid>/status (undefined once it is gone). */
function rssBytes(pid) {
  try {
    const status = require('node:fs').readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)
    return kb ? Number(kb[1]) * 1024 : undefined
  } catch {
    return undefined
  }
}

module.exports = { ServeChild, rawExchange, openHalf, parseResponses, rssBytes, HOST }
