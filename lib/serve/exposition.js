'use strict'
// The server's own Prometheus series, written after the prover's: connections, request bodies
// in flight, requests refused without proving, and shared results. Every label set is fixed.

/** One metric: its HELP and TYPE lines, then its samples (`[labels, value]` or a bare value). */
function metric(name, type, help, samples) {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`]
  for (const sample of Array.isArray(samples) ? samples : [['', samples]]) lines.push(`${name}${sample[0]} ${sample[1]}`)
  return lines
}

/** `state`: `{ connections, body: BodyBudget#status(), refused: { reason: n }, results: SharedResults#status() }`. */
function serverMetrics({ connections, body, refused, results }) {
  return [
    ...metric('prover_http_connections', 'gauge', 'Open HTTP connections (--max-connections bounds them).', connections),
    ...metric('prover_request_body_bytes', 'gauge', 'Bytes of request bodies being received or held, across connections.', body.inFlightBytes),
    ...metric('prover_request_body_limit_bytes', 'gauge', 'The budget of request body bytes in flight (--body-budget).', body.limitBytes),
    ...metric('prover_requests_refused_total', 'counter', 'Requests refused without proving: body_budget, queue_full or shutting_down at admission, max_connections at accept.',
      Object.entries(refused).map(([reason, n]) => [`{reason="${reason}"}`, n])),
    ...metric('prover_shared_results_total', 'counter', 'Requests answered by an equal request\'s job: cached (finished) or joined (in flight).',
      [['{how="cached"}', results.hits], ['{how="joined"}', results.joined]]),
    ...metric('prover_shared_results_entries', 'gauge', 'Finished answers kept for retries (--result-ttl).', results.entries),
    ...metric('prover_shared_results_bytes', 'gauge', 'Bytes of finished answers kept for retries.', results.bytes),
    '',
  ].join('\n')
}

module.exports = { serverMetrics }
