'use strict'
// prover.metrics(): Prometheus text exposition with the guide's names, read back with a real
// Prometheus text-format parser.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { createProver } = require('..')
const { witness } = require('./support/fixtures')
const { parsePrometheus, sample, metricsProver, provedWorkload, assertWorkloadMetrics } = require('./support/prometheus')

test('metrics count proofs per circuit and outcome, time them in a histogram, and expose gauges', async () => {
  const prover = await metricsProver(createProver)
  await provedWorkload(prover)
  await assert.rejects(prover.prove('no_such_circuit', witness('arith.witness.json')))

  const m = parsePrometheus(await prover.metrics())
  assertWorkloadMetrics(m)
  const total = (circuit_id, status) => sample(m, 'proofs_generated', 'proofs_generated_total', { circuit_id, status })
  assert.equal(total('unknown', 'failure'), 1, 'ids that name no circuit share one label value')
  assert.equal(sample(m, 'prover_queue_depth', 'prover_queue_depth'), 0)
  // The MSM engine's SRS tables of the k just proved: the gauge and getStatus() agree.
  const { msm } = await prover.getStatus()
  assert.ok(msm.tables >= 2 && msm.tables <= msm.maxTables && msm.maxTables === 64, JSON.stringify(msm))
  assert.ok(msm.tableBytes > 0 && msm.mappedBytes <= msm.tableBytes, JSON.stringify(msm))
  assert.ok(msm.commitments > 0 && msm.largestCommitment >= 2 ** 5, `the engine counts the commitments it made: ${JSON.stringify(msm)}`)
  assert.equal(sample(m, 'prover_msm_table_bytes', 'prover_msm_table_bytes'), msm.tableBytes)
  await prover.close()
})
