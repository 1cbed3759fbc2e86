'use strict'
// Issue 9, the API half of the hostile-input suite: every export gets inputs of every wrong type,
// range and size, real serialized preimages, IR, keys and proofs truncated and bit-flipped, and
// kmProviders that answer garbage, throw, reject or never answer (support/hostile-api-cases.js).
// Each case must end in a typed rejection (an Error whose `code` is in errorCodes(), or an
// AbortError), or in success where the input is in fact valid; PROVER_PANIC is never the answer
// to bad input. The cases run in child processes (support/hostile-api-child.js), which announce
// every case before running it: a case that ends the process is reported by name as a crash, and
// the batch goes on in a new child. Finally a fresh child proves and verifies for real.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { fork } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { compactDir, testCircuit, tempDir, builtin } = require('./support/fixtures')

const CHILD = path.join(__dirname, 'support', 'hostile-api-child.js')
const BATCHES = ['options', 'calls', 'preimages', 'ir', 'keys', 'km']
/** No message from a child for this long means the case it runs hangs beyond its own timeout. */
const SILENCE_MS = 45000

let manifestFile
const tally = { cases: 0, crashes: 0, failures: [], ms: 0 }

before(async () => {
  const work = tempDir('hostile-api-')
  const circuits = { arith: testCircuit('arith'), transcript: testCircuit('transcript') }
  const dir = await compactDir(circuits)
  const { jsonIrToBinary } = require('@midnight-ntwrk/zkir-v2')
  const bzkir = {}
  for (const [id, file] of Object.entries(circuits)) {
    bzkir[id] = path.join(work, `${id}.bzkir`)
    fs.writeFileSync(bzkir[id], jsonIrToBinary(fs.readFileSync(file, 'utf8')))
  }
  // Real preimages from the official ledger: a zswap output and a dust spend of ledger-v8
  // transactions, and a zswap sign preimage built with the ledger's proofDataIntoSerializedPreimage.
  const ledger = require('./support/ledger')
  const [output] = await ledger.capturePreimages(ledger.buildZswapOutputTx(1))
  const [dust] = await ledger.capturePreimages(ledger.buildDustSpendTx())
  const sign = ledger.buildSignPreimage()
  const preimages = {}
  for (const [name, call] of Object.entries({ output, dust, sign })) {
    preimages[name] = path.join(work, `${name}.preimage`)
    fs.writeFileSync(preimages[name], call.preimage)
  }
  assert.ok(fs.existsSync(builtin('zswap/output').bzkir))
  manifestFile = path.join(work, 'manifest.json')
  fs.writeFileSync(manifestFile, JSON.stringify({ dir, bzkir, ledger: preimages }))
})

/** The last lines a dead child wrote to stderr that say why (panic, abort, allocation). */
function lastWords(stderr) {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean)
  const telling = lines.filter((l) => /panic|abort|alloc|fatal|error|signal|SIG/i.test(l))
  return (telling.length ? telling : lines).slice(-3).join(' | ').slice(0, 600)
}

/** One child from case `start` on; resolves when it ends, with the case it died in, if any. */
function runChild(batch, start, record) {
  return new Promise((resolve) => {
    const child = fork(CHILD, [batch, String(start)], {
      env: { ...process.env, HOSTILE_MANIFEST: manifestFile },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    })
    let stderr = ''
    let current = null
    let ended = false
    let abandoned
    let setupError = null
    let killedForSilence = false
    let watchdog
    const quiet = () => {
      clearTimeout(watchdog)
      watchdog = setTimeout(() => {
        killedForSilence = true
        child.kill('SIGKILL')
      }, SILENCE_MS)
    }
    quiet()
    // stderr since the running case was announced: what a dying child said last.
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-8000)))
    child.on('message', (m) => {
      quiet()
      if (m.t === 'start') {
        current = m
        stderr = ''
      }
      else if (m.t === 'done') {
        current = null
        record(m)
      } else if (m.t === 'stray') {
        record({ ...m, ok: false, kind: m.event, detail: m.detail, stray: true })
      } else if (m.t === 'abandon') abandoned = m.next
      else if (m.t === 'end') ended = true
      else if (m.t === 'setup-error') setupError = m.detail
    })
    child.on('exit', (code, signal) => {
      clearTimeout(watchdog)
      if (ended) return resolve({})
      if (abandoned !== undefined) return resolve({ next: abandoned })
      const how = killedForSilence ? `no answer for ${SILENCE_MS / 1000} s, killed` : `the process ended (${signal ? `signal ${signal}` : `exit code ${code}`})`
      if (current) {
        record({ ...current, ok: false, kind: killedForSilence ? 'hang' : 'crash', detail: `${how}: ${lastWords(stderr)}` })
        return resolve({ next: current.i + 1 })
      }
      resolve({ broken: setupError || `${how} outside any case: ${lastWords(stderr)}` })
    })
  })
}

/** Runs a whole batch, in as many children as crashes need; returns its verdicts. */
async function runBatch(batch) {
  const verdicts = []
  let start = 0
  for (;;) {
    const { next, broken } = await runChild(batch, start, (v) => verdicts.push(v))
    if (broken) throw new Error(`batch ${batch}: ${broken}`)
    if (next === undefined) return verdicts
    start = next
  }
}

const line = (v) => `[${v.kind}] ${v.export} ← ${v.input}: ${v.detail}`

for (const batch of BATCHES) {
  test(`hostile API inputs: ${batch}`, async (t) => {
    const started = Date.now()
    const verdicts = await runBatch(batch)
    const cases = verdicts.filter((v) => !v.stray)
    const failed = verdicts.filter((v) => !v.ok)
    // An unhandled rejection ends a Node process by default: it counts as ending the process.
    const crashes = failed.filter((v) => v.kind === 'crash' || v.kind === 'unhandledRejection' || v.kind === 'uncaughtException')
    tally.cases += cases.length
    tally.crashes += crashes.length
    tally.failures.push(...failed.map((v) => ({ batch, ...v })))
    tally.ms += Date.now() - started
    t.diagnostic(`${batch}: ${cases.length} cases in ${Date.now() - started} ms, ${crashes.length} ended the process, ${failed.length} failed`)
    // HOSTILE_REPORT=<file>: every verdict as a JSON line, for reading what each case did.
    if (process.env.HOSTILE_REPORT) fs.appendFileSync(process.env.HOSTILE_REPORT, verdicts.map((v) => JSON.stringify({ batch, ...v }) + '\n').join(''))
    assert.ok(cases.length > 0, 'the batch ran cases')
    assert.equal(failed.length, 0, `${failed.length} of ${cases.length} cases failed:\n${failed.map(line).join('\n')}`)
  })
}

test('after the hostile batches, a fresh process proves and verifies for real', async (t) => {
  const verdicts = await runBatch('final')
  assert.equal(verdicts.length, 4, JSON.stringify(verdicts)) // 3 proofs and the control every batch ends with
  const failed = verdicts.filter((v) => !v.ok)
  assert.equal(failed.length, 0, failed.map(line).join('\n'))
  t.diagnostic(verdicts.map((v) => `${v.input}: ${v.ms} ms`).join('; '))
})

after(() => {
  const ended = tally.crashes ? `${tally.crashes} ENDED THE PROCESS` : 'none ended the process'
  console.log(`hostile API inputs: ${tally.cases} cases tried in ${(tally.ms / 1000).toFixed(1)} s; ${ended}; ${tally.failures.length} failed`)
})
