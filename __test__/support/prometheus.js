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

module.exports = { parsePrometheus, sample }
