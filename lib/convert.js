'use strict'
// The binding's native shapes turned into the public ones (index.d.ts). Kept apart so that each
// conversion the binding stops needing is deleted here and at its one call site.
const { ProverError } = require('./errors')
const { asBytes } = require('./bytes')

/** A NativeProof as the public ProofResult (proof bytes as a plain Uint8Array). */
function toProofResult(p) {
  return {
    circuitId: p.circuitId,
    proof: asBytes(p.proof),
    publicInputs: p.publicInputs,
    k: p.k,
    provingTimeMs: p.provingTimeMs,
  }
}

/** A NativeProofEvent as the payload of the Prover's events. */
function toEvent(e) {
  const event = { proofId: e.proofId, circuitId: e.circuitId, waitedMs: e.waitedMs }
  if (e.durationMs != null) event.durationMs = e.durationMs
  if (e.peakBytes != null) event.peakBytes = e.peakBytes
  if (e.errorCode != null) event.error = new ProverError(e.errorCode, e.errorMessage)
  return event
}

/** A memory claim (reservation or waiter) as getStatus() lists it. */
const toClaim = (c) => ({ circuitId: c.circuitId, bytes: c.bytes })

/** A NativeStatus as the public ProverStatus. */
function toStatus(s) {
  const keyBytes = s.circuits.reduce((sum, c) => sum + c.proverKeyBytes, 0)
  return {
    loadedCircuits: s.circuits.map((c) => c.id),
    circuits: s.circuits.map((c) => ({
      id: c.id,
      k: c.k,
      rows: c.rows,
      proverKeyBytes: c.proverKeyBytes,
      loadMs: c.loadMs,
      peakProofBytes: c.peakProofBytes,
      columns: c.columns,
      loadBytes: c.loadBytes,
      reserveBytes: c.reserveBytes,
    })),
    availableCircuits: s.availableCircuits,
    paramsK: s.paramsK,
    activeProofs: s.activeProofs,
    queuedProofs: s.queuedProofs,
    threads: s.threads,
    liveThreads: s.liveThreads,
    memory: {
      nativeBytes: s.nativeBytes,
      proverKeyBytes: keyBytes,
      rssBytes: s.rssBytes,
      limitBytes: s.memoryLimitBytes ?? null,
      peakNativeBytes: s.peakNativeBytes,
      budget: {
        limitBytes: s.memoryLimitBytes ?? null,
        heldBytes: s.heldBytes,
        reservedBytes: s.reservedBytes,
        reservations: s.reservations.map(toClaim),
        waiting: s.waitingForMemory.map(toClaim),
      },
    },
    cache: { limitBytes: s.cacheLimitBytes, maxCircuits: s.maxLoadedCircuits, evicted: s.circuitsEvicted },
    tasks: { threads: s.taskThreads, maxThreads: s.maxTaskThreads, queued: s.queuedTasks, maxQueued: s.maxQueuedTasks },
    msm: { tables: s.msmTables, tableBytes: s.msmTableBytes, mappedBytes: s.msmMappedBytes, maxTables: s.maxMsmTables },
    proofsCompleted: s.proofsCompleted,
    proofsFailed: s.proofsFailed,
    keysDerived: s.keysDerived,
    uptimeMs: s.uptimeMs,
  }
}

module.exports = { toProofResult, toEvent, toClaim, toStatus }
