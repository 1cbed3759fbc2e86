'use strict'
// The binding reports a failed proof's error as its code and message; the public event carries
// it as a ProverError. Every other shape JS receives comes from Rust as it is (src/binding/shapes.rs).
const { ProverError } = require('./errors')

/** A NativeProofEvent as the payload of the Prover's events. */
function toEvent(e) {
  const event = { proofId: e.proofId, circuitId: e.circuitId, waitedMs: e.waitedMs }
  if (e.durationMs != null) event.durationMs = e.durationMs
  if (e.peakBytes != null) event.peakBytes = e.peakBytes
  if (e.errorCode != null) event.error = new ProverError(e.errorCode, e.errorMessage)
  return event
}

module.exports = { toEvent }
