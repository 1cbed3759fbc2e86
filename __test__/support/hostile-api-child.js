'use strict'
// Runs one batch of hostile-api-cases.js in this (child) process, from case `start` on, and
// reports over IPC. Every case is announced, and the announcement delivered, before it runs, so a
// case that ends the process is known by name to the parent, which restarts after it.
//   argv: <batch> <start>; env HOSTILE_MANIFEST: the JSON file the parent prepared.
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const api = require('../..')
const { batches, show } = require('./hostile-api-cases')

const send = (msg) => new Promise((resolve) => process.send(msg, resolve))
const read = (file) => new Uint8Array(fs.readFileSync(file))
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
/** How long a case may take before it counts as hung (a pending case waits `PENDING_MS`). */
const CASE_MS = 15000
const PENDING_MS = 300

function context(manifest) {
  const material = (id, bzkir) => ({
    proverKey: read(path.join(manifest.dir, 'keys', `${id}.prover`)),
    verifierKey: read(path.join(manifest.dir, 'keys', `${id}.verifier`)),
    ir: read(bzkir),
  })
  const ctx = {
    dir: manifest.dir,
    ledger: manifest.ledger,
    cleanup: [],
    arithBzkir: read(manifest.bzkir.arith),
    arithMaterial: material('arith', manifest.bzkir.arith),
    transcriptMaterial: material('transcript', manifest.bzkir.transcript),
  }
  let shared
  /** The batch's prover on the test circuits' directory, closed when the batch ends. */
  ctx.prover = () =>
    (shared ??= api.createProver({ circuitKeysPath: manifest.dir }).then((p) => {
      ctx.cleanup.unshift(() => p.close())
      return p
    }))
  return ctx
}

function describeError(err) {
  if (!(err instanceof Error)) return `a non-Error ${show(err)}`
  const code = typeof err.code === 'string' ? ` ${err.code}` : ''
  return `${err.name}${code}: ${String(err.message).slice(0, 400)}`
}

/** Settles the case: what the export did, within CASE_MS (or PENDING_MS when pending is right). */
async function outcome(c, ctx) {
  let value
  try {
    value = c.run(ctx)
  } catch (error) {
    return { kind: 'threw', error }
  }
  if (!value || typeof value.then !== 'function') return { kind: 'returned', value }
  const wait = c.expect.pending ? PENDING_MS : c.expect.timeout ?? CASE_MS
  let timer
  const result = await Promise.race([
    value.then((v) => ({ kind: 'resolved', value: v }), (error) => ({ kind: 'rejected', error })),
    new Promise((resolve) => (timer = setTimeout(() => resolve({ kind: 'pending' }), wait))),
  ])
  clearTimeout(timer)
  return result
}

/**
 * The verdict on one case: `ok`, or a failure `kind` (hang, sync-throw, untyped, panic, wrong-code,
 * wrong-message, unexpected-success, unexpected-rejection, wrong-result) with its detail.
 */
async function judge(c, o, codes, ctx) {
  const e = c.expect
  const fail = (kind, detail) => ({ ok: false, kind, detail })
  if (o.kind === 'pending') return e.pending ? { ok: true, detail: 'still pending (as allowed)' } : fail('hang', `not settled within ${e.timeout ?? CASE_MS} ms`)
  if (o.kind === 'threw' && !e.sync) return fail('sync-throw', `threw synchronously instead of rejecting: ${describeError(o.error)}`)
  if (o.kind === 'returned' && !e.sync) return fail('wrong-result', `returned ${show(o.value)} instead of a promise`)
  if (o.kind === 'resolved' || o.kind === 'returned') {
    if (!e.success) return fail('unexpected-success', `${o.kind} ${show(o.value)}`)
    if (typeof e.success === 'function') {
      try {
        await e.success(o.value, ctx)
      } catch (err) {
        return fail('wrong-result', `${o.kind}, but ${describeError(err)}`)
      }
    }
    return { ok: true, detail: `${o.kind} ${show(o.value)}` }
  }
  const err = o.error
  if (e.typeError && err instanceof TypeError && err.code === undefined) return { ok: true, detail: describeError(err) }
  if (!(err instanceof Error)) return fail('untyped', `rejected with ${describeError(err)}`)
  if (typeof err.code !== 'string') return fail('untyped', `no code: ${describeError(err)}`)
  if (err.code === 'ABORT_ERR') {
    if (err.name !== 'AbortError') return fail('untyped', `ABORT_ERR on a ${err.name}`)
  } else if (!codes.includes(err.code)) {
    return fail('untyped', `code not in errorCodes(): ${describeError(err)}`)
  }
  if (err.code === 'PROVER_PANIC') return fail('panic', describeError(err))
  if (!e.codes) return fail('unexpected-rejection', `the input is valid, but: ${describeError(err)}`)
  if (!e.codes.includes(err.code)) return fail('wrong-code', `expected ${e.codes.join(' | ')}, got ${describeError(err)}`)
  if (e.message && !e.message.test(err.message)) return fail('wrong-message', `message does not match ${e.message}: ${describeError(err)}`)
  if (!err.message) return fail('wrong-message', `empty message: ${describeError(err)}`)
  return { ok: true, detail: describeError(err) }
}

let current = null
// Not a fix for anything: a library promise nobody handles, or an exception thrown from a native
// callback, would end a real application, so it is reported against the case that was running.
for (const event of ['unhandledRejection', 'uncaughtException']) {
  process.on(event, (err) => {
    process.send({ t: 'stray', event, i: current?.i, export: current?.export, input: current?.input, detail: describeError(err) })
  })
}

async function main() {
  const [name, startArg] = process.argv.slice(2)
  const batch = batches[name]
  assert.ok(batch, `no batch ${name}`)
  const ctx = context(JSON.parse(fs.readFileSync(process.env.HOSTILE_MANIFEST, 'utf8')))
  const codes = api.errorCodes()
  await batch.setup(ctx)
  const cases = batch.cases(ctx)
  // Whatever came before, this process still proves and verifies.
  cases.push({
    export: 'prover.prove',
    input: 'arith, its good witness, after the whole batch in this process (control)',
    run: async () => {
      const p = await ctx.prover()
      const r = await p.prove('arith', JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'circuits', 'arith.witness.json'), 'utf8')))
      return p.verify('arith', r.proof, r.publicInputs)
    },
    expect: { success: (ok) => assert.equal(ok, true) },
  })
  await send({ t: 'plan', total: cases.length })
  for (let i = Number(startArg) || 0; i < cases.length; i++) {
    const c = cases[i]
    current = { i, export: c.export, input: c.input }
    await send({ t: 'start', ...current })
    const started = Date.now()
    const verdict = await judge(c, await outcome(c, ctx), codes, ctx)
    // Native work the call started may settle after it; a stray rejection then lands in this case.
    if (c.expect.grace) await delay(c.expect.grace)
    await send({ t: 'done', i, export: c.export, input: c.input, ms: Date.now() - started, ...verdict })
    if (verdict.kind === 'hang') {
      // Its native work may still be running: go on in a fresh process so it skews nothing.
      await send({ t: 'abandon', next: i + 1 })
      process.exit(0)
    }
  }
  current = null
  for (const step of ctx.cleanup) {
    const done = await Promise.race([Promise.resolve(step()).then(() => true), delay(CASE_MS).then(() => false)])
    if (!done) await send({ t: 'stray', event: 'cleanup', export: 'prover.close', input: "the batch's provers, at its end", detail: `a cleanup step (closing a prover or a server) did not finish within ${CASE_MS} ms` })
  }
  await send({ t: 'end' })
  // A short grace period for the IPC channel; provers are closed, nothing else should matter.
  await delay(10)
  process.exit(0)
}

main().catch(async (err) => {
  await send({ t: 'setup-error', detail: err && err.stack ? err.stack : String(err) }).catch(() => {})
  process.exit(1)
})
