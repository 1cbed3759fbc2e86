'use strict'
// registerProverMetrics: the prover's metrics inside a real prom-client Registry, scraped with
// registry.metrics() and read back with the official Python client's parser.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const client = require('prom-client')
const { createProver, registerProverMetrics } = require('..')
const { ROOT, compactDir, testCircuit, witness } = require('./support/fixtures')
const { parsePrometheus, sample } = require('./support/prometheus')

test('prom-client: a registry scrape includes the prover metrics beside the app own, with labels and a correct histogram', async () => {
  const dir = await compactDir({ arith: testCircuit('arith'), ecc: testCircuit('ecc') })
  const prover = await createProver({ circuitKeysPath: dir, memoryLimit: 512 })
  const registry = new client.Registry()
  const requests = new client.Counter({ name: 'app_requests_total', help: 'requests', registers: [registry] })
  requests.inc(3)
  const unregister = registerProverMetrics(prover, registry)
  await prover.prove('arith', witness('arith.witness.json'))
  await prover.prove('arith', witness('arith.witness.json'))
  await prover.prove('ecc', witness('ecc.witness.json'))
  await assert.rejects(prover.prove('arith', witness('arith.bad.witness.json')))

  const m = parsePrometheus(await registry.metrics())
  assert.equal(sample(m, 'app_requests', 'app_requests_total'), 3, 'the app metric is still there')
  assert.equal(m.proof_generation_duration_seconds.type, 'histogram')
  assert.equal(m.proofs_generated.type, 'counter')
  const h = 'proof_generation_duration_seconds'
  assert.equal(sample(m, h, `${h}_count`, { circuit_id: 'arith' }), 2)
  assert.equal(sample(m, h, `${h}_bucket`, { circuit_id: 'arith', le: '+Inf' }), 2)
  const bounds = ['0.05', '0.1', '0.25', '0.5', '1', '5', '10', '15', '30', '60']
  const counts = bounds.map((le) => sample(m, h, `${h}_bucket`, { circuit_id: 'arith', le }))
  assert.deepEqual(counts, [...counts].sort((a, b) => a - b), 'buckets are cumulative')
  assert.equal(counts.at(-1), 2)
  assert.ok(sample(m, h, `${h}_sum`, { circuit_id: 'arith' }) > 0)
  assert.equal(sample(m, h, `${h}_count`, { circuit_id: 'ecc' }), 1)
  const total = (circuit_id, status) => sample(m, 'proofs_generated', 'proofs_generated_total', { circuit_id, status })
  assert.equal(total('arith', 'success'), 2)
  assert.equal(total('arith', 'failure'), 1)
  assert.equal(total('ecc', 'success'), 1)
  assert.equal(sample(m, 'prover_memory_limit_bytes', 'prover_memory_limit_bytes'), 512 * 2 ** 20)
  assert.ok(sample(m, 'prover_memory_usage_bytes', 'prover_memory_usage_bytes') > 0)
  assert.equal(sample(m, 'prover_active_proofs', 'prover_active_proofs'), 0)
  assert.deepEqual(m.prover_key_load_seconds.samples.map((s) => s.labels.circuit_id).sort(), ['arith', 'ecc'])

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
