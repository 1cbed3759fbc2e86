'use strict'
// prover.metrics(): Prometheus text exposition with the guide's names, read back with a real
// Prometheus text-format parser.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { createProver } = require('..')
const { compactDir, testCircuit, witness } = require('./support/fixtures')
const { parsePrometheus, sample } = require('./support/prometheus')

test('metrics count proofs per circuit and outcome, time them in a histogram, and expose gauges', async () => {
  const dir = await compactDir({ arith: testCircuit('arith'), ecc: testCircuit('ecc') })
  const prover = await createProver({ circuitKeysPath: dir, memoryLimit: 512 })
  await prover.prove('arith', witness('arith.witness.json'))
  await prover.prove('arith', witness('arith.witness.json'))
  await prover.prove('ecc', witness('ecc.witness.json'))
  await assert.rejects(prover.prove('arith', witness('arith.bad.witness.json')))
  await assert.rejects(prover.prove('no_such_circuit', witness('arith.witness.json')))

  const m = parsePrometheus(await prover.metrics())
  // The parser names families without the _total suffix of their counters.
  assert.equal(m.proof_generation_duration_seconds.type, 'histogram')
  assert.equal(m.proofs_generated.type, 'counter')
  const h = 'proof_generation_duration_seconds'
  assert.equal(sample(m, h, `${h}_count`, { circuit_id: 'arith' }), 2)
  assert.equal(sample(m, h, `${h}_bucket`, { circuit_id: 'arith', le: '+Inf' }), 2)
  const bounds = ['0.05', '0.1', '0.25', '0.5', '1', '5', '10', '15', '30', '60']
  const counts = bounds.map((le) => sample(m, h, `${h}_bucket`, { circuit_id: 'arith', le }))
  assert.deepEqual(counts, [...counts].sort((a, b) => a - b), 'buckets are cumulative')
  assert.ok(sample(m, h, `${h}_sum`, { circuit_id: 'arith' }) > 0)
  assert.equal(sample(m, h, `${h}_count`, { circuit_id: 'ecc' }), 1)

  const total = (circuit_id, status) => sample(m, 'proofs_generated', 'proofs_generated_total', { circuit_id, status })
  assert.equal(total('arith', 'success'), 2)
  assert.equal(total('arith', 'failure'), 1)
  assert.equal(total('ecc', 'success'), 1)
  assert.equal(total('unknown', 'failure'), 1, 'ids that name no circuit share one label value')

  assert.ok(sample(m, 'prover_memory_usage_bytes', 'prover_memory_usage_bytes') > 0)
  assert.equal(sample(m, 'prover_memory_limit_bytes', 'prover_memory_limit_bytes'), 512 * 1024 * 1024)
  assert.equal(sample(m, 'prover_queue_depth', 'prover_queue_depth'), 0)
  assert.equal(sample(m, 'prover_active_proofs', 'prover_active_proofs'), 0)
  const loaded = m.prover_key_load_seconds.samples.map((s) => s.labels.circuit_id).sort()
  assert.deepEqual(loaded, ['arith', 'ecc'])
  await prover.close()
})
