#!/usr/bin/env node
'use strict'
// .ci/container: runs the image given as argv[2] the way docs/deploy.md does, with
// --cpus 1 --memory 1g on the host's network, and checks what a user of the container relies on:
//   - it derives its threads (1) and memory budget from the cgroup, as /status shows;
//   - the official midnight-js HTTP client proves a ledger-v8 transaction through it (the
//     zswap output prover key derived inside the container on first use), and the ledger's
//     wellFormed accepts the transaction;
//   - a burst beyond its capacity gets 429/503, never a dropped connection, and docker inspect
//     shows OOMKilled: false;
//   - a flood of 24 connections announcing 100 MiB /prove bodies (2.4 GB, more than twice the
//     cgroup's memory) is answered without growing the server by more than its body budget (256
//     MiB) and 64 MiB, /health answered throughout, and a proof after it is still served;
//   - `docker stop` lets the proof in flight finish (200) and the process exit 0;
// and prints the image's size.
const { execFileSync } = require('node:child_process')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const net = require('node:net')
const path = require('node:path')

const root = path.join(__dirname, '..')
const L = require('@midnight-ntwrk/ledger-v8')
const ledger = require(path.join(root, '__test__/support/ledger'))
const { post, text, emptyConfigProvider } = require(path.join(root, '__test__/support/serve'))

const image = process.argv[2]
const name = `mnp-ci-${process.pid}`
const port = 16300 + (process.pid % 1000)
const url = `http://127.0.0.1:${port}`
const CAPACITY = 2
const docker = (...args) => execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()
const log = (m) => console.log(`container-check: ${m}`)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function healthy(deadlineMs) {
  const until = Date.now() + deadlineMs
  while (Date.now() < until) {
    try {
      if ((await fetch(`${url}/health`)).ok) return
    } catch {}
    await sleep(500)
  }
  throw new Error(`no /health within ${deadlineMs} ms:\n${docker('logs', name)}`)
}

async function provePayload() {
  const [{ preimage, overwriteBindingInput }] = await ledger.capturePreimages(ledger.buildZswapOutputTx(1))
  return L.createProvingPayload(preimage, overwriteBindingInput)
}

/** The server's resident memory now and at its peak, from the host's /proc (PID 1 in the container). */
function rss(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)[1]) * 1024
  return { now: kib('VmRSS'), peak: kib('VmHWM') }
}

/**
 * `n` connections each announce a `bytes`-long /prove body and send it as fast as the server
 * takes it. Resolves with each one's status line ('' when the server closed it unanswered).
 */
function flood(n, bytes) {
  const { port: p } = new URL(url)
  const chunk = Buffer.alloc(1 << 20, 0x5a)
  return Promise.all(Array.from({ length: n }, () => new Promise((resolve) => {
    const socket = net.connect(Number(p), '127.0.0.1')
    let answer = ''
    let sent = 0
    const pump = () => {
      while (sent < bytes && !socket.destroyed) {
        const n = Math.min(chunk.length, bytes - sent)
        sent += n
        if (!socket.write(chunk.subarray(0, n))) return // resumed on 'drain'
      }
    }
    socket.on('connect', () => {
      socket.write(`POST /prove HTTP/1.1\r\nHost: x\r\nContent-Length: ${bytes}\r\nConnection: close\r\n\r\n`)
      pump()
    })
    socket.on('drain', pump)
    socket.on('data', (d) => (answer += d))
    socket.on('error', () => {})
    socket.on('close', () => resolve(answer.split('\r\n')[0]))
  })))
}

/** Runs `during` while sampling the server's RSS and /health's latency every 20 ms. */
async function watched(pid, during) {
  const before = rss(pid).now
  let peak = before
  const latencies = []
  let done = false
  const probe = (async () => {
    while (!done) {
      const t = performance.now()
      const ok = await fetch(`${url}/health`).then((r) => r.ok, () => false)
      latencies.push(ok ? performance.now() - t : Infinity)
      peak = Math.max(peak, rss(pid).now)
      await sleep(20)
    }
  })()
  const result = await during()
  done = true
  await probe
  latencies.sort((a, b) => a - b)
  return { result, grewBy: peak - before, p99: latencies[Math.floor(latencies.length * 0.99)], probes: latencies.length }
}

async function main() {
  docker('run', '-d', '--name', name, '--network', 'host', '--cpus', '1', '--memory', '1g',
    '-e', `MIDNIGHT_PROOF_SERVER_PORT=${port}`, '-e', `MIDNIGHT_PROOF_SERVER_JOB_CAPACITY=${CAPACITY}`, image)
  try {
    await healthy(60_000)
    const status = await (await fetch(`${url}/status`)).json()
    log(`/status: ${JSON.stringify({ threads: status.threads, memory: status.memory?.budget ?? status.memory })}`)
    assert.equal(status.threads, 1, 'one thread from --cpus 1')
    const limit = status.memory.budget.limitBytes
    assert.ok(limit > 256 * 2 ** 20 && limit < 2 ** 30, `a budget under the cgroup's 1 GiB: ${limit}`)

    const client = {
      ...(await import('@midnight-ntwrk/midnight-js-http-client-proof-provider')),
      ...(await import('@midnight-ntwrk/midnight-js-types')),
    }
    let started = Date.now()
    const proven = await client.httpClientProofProvider(url, emptyConfigProvider(client)).proveTx(ledger.buildZswapOutputTx(2))
    ledger.wellFormed(proven)
    log(`the official client's 2-output transaction: proved and well formed in ${((Date.now() - started) / 1000).toFixed(1)} s (key derived in the container)`)

    const burst = await Promise.all(Array.from({ length: 8 }, () => provePayload()))
    started = Date.now()
    const answers = await Promise.all(burst.map((body) => post(`${url}/prove`, body)))
    const codes = answers.map((a) => a.status)
    log(`burst of ${burst.length} against capacity ${CAPACITY}: ${codes.join(' ')} in ${((Date.now() - started) / 1000).toFixed(1)} s`)
    assert.ok(codes.every((c) => [200, 429, 503].includes(c)), codes.join(' '))
    assert.ok(codes.includes(200) && codes.some((c) => c !== 200), 'some proved, some refused')

    const pid = Number(docker('inspect', '--format', '{{.State.Pid}}', name))
    const MiB = 2 ** 20
    const flooded = await watched(pid, () => flood(24, 100 * MiB))
    const statuses = flooded.result.map((line) => line.split(' ')[1] ?? 'closed')
    const counts = statuses.reduce((c, s) => ({ ...c, [s]: (c[s] ?? 0) + 1 }), {})
    log(`24 bodies of 100 MiB: ${JSON.stringify(counts)}; the server grew by ${(flooded.grewBy / MiB).toFixed(0)} MiB (peak RSS ${(rss(pid).peak / MiB).toFixed(0)} MiB); /health p99 ${flooded.p99.toFixed(0)} ms over ${flooded.probes} probes`)
    assert.ok(statuses.every((s) => ['400', '413', '429', '503'].includes(s)), `every flooded request answered: ${statuses.join(' ')}`)
    // What the server may hold of these bodies is its body budget; beyond it, 64 MiB of buffers.
    const budget = (await (await fetch(`${url}/status`)).json()).server.body.limitBytes
    assert.ok(flooded.grewBy <= budget + 64 * MiB, `grew by ${flooded.grewBy} bytes, with a body budget of ${budget}`)
    assert.ok(Number.isFinite(flooded.p99) && flooded.p99 < 2000, `/health p99 ${flooded.p99} ms`)
    const after = await post(`${url}/prove`, await provePayload())
    assert.equal(after.status, 200, 'a proof after the flood')

    const inFlight = post(`${url}/prove`, await provePayload())
    await sleep(1000)
    const stopped = Date.now()
    docker('stop', '-t', '120', name)
    const last = await inFlight
    assert.equal(last.status, 200, `the proof in flight at docker stop: ${last.status} ${text(last.bytes).slice(0, 200)}`)
    const state = JSON.parse(docker('inspect', '--format', '{{json .State}}', name))
    log(`docker stop: the proof in flight answered ${last.status}; exit ${state.ExitCode}, OOMKilled ${state.OOMKilled}, after ${((Date.now() - stopped) / 1000).toFixed(1)} s`)
    assert.equal(state.OOMKilled, false)
    assert.equal(state.ExitCode, 0)
    const size = Number(docker('image', 'inspect', '--format', '{{.Size}}', image))
    log(`image ${image}: ${(size / 2 ** 20).toFixed(0)} MiB`)
  } catch (err) {
    try {
      console.error(docker('logs', '--tail', '50', name))
    } catch {}
    throw err
  } finally {
    try {
      docker('rm', '-f', name)
    } catch {}
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
