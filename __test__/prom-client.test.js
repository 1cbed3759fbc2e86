'use strict'
// registerProverMetrics: the prover's metrics inside a real prom-client Registry, scraped with
// registry.metrics() and read back with the official Python client's parser.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const client = require('prom-client')
const { createProver, registerProverMetrics } = require('..')
const { ROOT } = require('./support/fixtures')
const { parsePrometheus, sample, metricsProver, provedWorkload, assertWorkloadMetrics } = require('./support/prometheus')

test('prom-client: a registry scrape includes the prover metrics beside the app own, with labels and a correct histogram', async () => {
  const prover = await metricsProver(createProver)
  const registry = new client.Registry()
  const requests = new client.Counter({ name: 'app_requests_total', help: 'requests', registers: [registry] })
  requests.inc(3)
  const unregister = registerProverMetrics(prover, registry)
  await provedWorkload(prover)

  const m = parsePrometheus(await registry.metrics())
  assert.equal(sample(m, 'app_requests', 'app_requests_total'), 3, 'the app metric is still there')
  assertWorkloadMetrics(m)
  // The same samples as the prover's own exposition (gauges that move aside).
  const own = parsePrometheus(await prover.metrics())
  for (const family of ['proof_generation_duration_seconds', 'proofs_generated', 'prover_key_load_seconds']) {
    assert.deepEqual(m[family], own[family], family)
  }
  // OpenMetrics registries name counter lines themselves; ours must not end up `_total_total`.
  const open = new client.Registry(client.Registry.OPENMETRICS_CONTENT_TYPE)
  registerProverMetrics(prover, open)
  const openText = await open.metrics()
  assert.match(openText, /^proofs_generated_total\{circuit_id="arith",status="success"\} 2$/m)
  assert.doesNotMatch(openText, /_total_total/)

  unregister()
  assert.doesNotMatch(await registry.metrics(), /proof_generation_duration_seconds/)
  assert.throws(() => registerProverMetrics(prover, {}), TypeError)
  await prover.close()
})

test('the package never loads prom-client by itself', () => {
  const loaded = execFileSync(process.execPath, ['-e', `
    const { registerProverMetrics } = require(${JSON.stringify(ROOT)})
    console.log(Object.keys(require.cache).some((f) => f.includes('/prom-client/')), typeof registerProverMetrics)
  `], { encoding: 'utf8' })
  assert.equal(loaded.trim(), 'false function')
})
