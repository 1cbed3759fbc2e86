'use strict'
const assert = require('node:assert/strict')
// Parses Prometheus text exposition with the reference parser of the official Python client
// (prometheus_client.parser), so the tests check what a real scraper reads.
const { execFileSync } = require('node:child_process')

const SCRIPT = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for family in text_string_to_metric_families(sys.stdin.read()):
    out[family.name] = {"type": family.type, "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in family.samples]}
print(json.dumps(out))
`

/** `{ familyName: { type, samples: [{ name, labels, value }] } }`; throws on text the parser rejects. */
function parsePrometheus(text) {
  return JSON.parse(execFileSync('python3', ['-c', SCRIPT], { input: text, encoding: 'utf8' }))
}

/** The value of the one sample called `name` whose labels include `labels`. */
function sample(families, family, name, labels = {}) {
  const found = families[family].samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  assert.equal(found.length, 1, `${name} ${JSON.stringify(labels)}`)
  return found[0].value
}

/** A prover on the arith and ecc test circuits, with a 512 MiB budget, for the metrics tests. */
async function metricsProver(createProver) {
  const { compactDir, testCircuit } = require('./fixtures')
  const dir = await compactDir({ arith: testCircuit('arith'), ecc: testCircuit('ecc') })
  return createProver({ circuitKeysPath: dir, memoryLimit: 512 })
}

/** The proofs the metrics tests count: arith twice, ecc once, one arith witness that fails. */
async function provedWorkload(prover) {
  const { witness } = require('./fixtures')
  await prover.prove('arith', witness('arith.witness.json'))
  await prover.prove('arith', witness('arith.witness.json'))
  await prover.prove('ecc', witness('ecc.witness.json'))
  await assert.rejects(prover.prove('arith', witness('arith.bad.witness.json')))
}

/** What `provedWorkload` must leave in the parsed families, whoever exposed them. */
function assertWorkloadMetrics(m) {
  // The parser names families without the _total suffix of their counters.
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
  assert.ok(sample(m, 'prover_memory_usage_bytes', 'prover_memory_usage_bytes') > 0)
  assert.equal(sample(m, 'prover_memory_limit_bytes', 'prover_memory_limit_bytes'), 512 * 2 ** 20)
  assert.equal(sample(m, 'prover_active_proofs', 'prover_active_proofs'), 0)
  assert.deepEqual(m.prover_key_load_seconds.samples.map((s) => s.labels.circuit_id).sort(), ['arith', 'ecc'])
}

module.exports = { parsePrometheus, sample, metricsProver, provedWorkload, assertWorkloadMetrics }
