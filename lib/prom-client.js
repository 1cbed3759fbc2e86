'use strict'
// The prover's metrics inside an existing prom-client Registry.
//
// prom-client asks each registered metric for `await metric.get()` ({ name, help, type, values })
// when it renders `registry.metrics()`; its own Counter and Histogram are such objects. Ours
// answer from the prover's native exposition, parsed once per scrape, so the registry prints
// exactly what `prover.metrics()` prints. Nothing here loads prom-client: the registry comes
// from the caller, so the package works the same without it.

/** The families `prover.metrics()` exposes, with their Prometheus types. */
const FAMILIES = {
  proof_generation_duration_seconds: 'histogram',
  proofs_generated_total: 'counter',
  prover_memory_usage_bytes: 'gauge',
  prover_memory_limit_bytes: 'gauge',
  prover_queue_depth: 'gauge',
  prover_active_proofs: 'gauge',
  prover_key_load_seconds: 'gauge',
}

const SAMPLE = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})? (\S+)$/
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g
const UNESCAPE = { '\\\\': '\\', '\\"': '"', '\\n': '\n' }

const parseValue = (text) => (text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text))

function parseLabels(text = '') {
  const labels = {}
  for (const [, name, value] of text.matchAll(LABEL)) labels[name] = value.replace(/\\[\\"n]/g, (e) => UNESCAPE[e])
  return labels
}

/** Our own exposition text as `{ family: { help, samples: [{ name, labels, value }] } }`. */
function parseExposition(text) {
  const families = {}
  let current
  for (const line of text.split('\n')) {
    const help = /^# HELP (\S+) (.*)$/.exec(line)
    if (help) {
      current = families[help[1]] = { help: help[2], samples: [] }
      continue
    }
    const sample = !line.startsWith('#') && SAMPLE.exec(line)
    if (sample && current) current.samples.push({ name: sample[1], labels: parseLabels(sample[2]), value: parseValue(sample[3]) })
  }
  return families
}

/**
 * Registers the prover's metrics on a prom-client `Registry` (e.g. `require('prom-client').register`),
 * so `await registry.metrics()` includes them beside the application's own. Returns a function
 * that removes them again (call it before the prover is closed and dropped).
 */
function registerProverMetrics(prover, registry) {
  if (!prover || typeof prover.metrics !== 'function') throw new TypeError('registerProverMetrics: expected a Prover')
  if (!registry || typeof registry.registerMetric !== 'function') throw new TypeError('registerProverMetrics: expected a prom-client Registry')
  // Every family's get() of one scrape shares a single native render.
  let scrape
  const current = () => {
    if (!scrape) {
      scrape = prover.metrics().then(parseExposition)
      setImmediate(() => (scrape = undefined))
    }
    return scrape
  }
  const metrics = Object.entries(FAMILIES).map(([name, type]) => ({
    name,
    type,
    help: name,
    aggregator: type === 'histogram' || type === 'counter' ? 'sum' : 'max',
    async get() {
      const family = (await current())[name] ?? { help: this.help, samples: [] }
      // Counter lines keep prom-client's default name so OpenMetrics registries can add `_total`.
      const values = family.samples.map((s) => (type === 'counter' ? { labels: s.labels, value: s.value } : { metricName: s.name, labels: s.labels, value: s.value }))
      return { name: this.name, help: family.help, type, values, aggregator: this.aggregator }
    },
    /** The prover's counters cannot be reset; `registry.resetMetrics()` leaves them as they are. */
    reset() {},
  }))
  for (const metric of metrics) registry.registerMetric(metric)
  return () => {
    for (const metric of metrics) registry.removeSingleMetric(metric.name)
  }
}

module.exports = { registerProverMetrics, parseExposition }
