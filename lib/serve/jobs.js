'use strict'
// Admission for /prove and /check, counted the way the proof server counts: `workers` jobs are
// processing, the rest are pending, and a job is refused (429) once `capacity` jobs are pending
// (capacity 0 = unlimited). Counting here rather than in the engine keeps both routes (the
// prover's own circuits and client-supplied key material) under one limit.

class JobGate {
  #workers
  #inFlight = 0

  constructor({ capacity, workers }) {
    this.capacity = capacity
    this.#workers = workers
  }

  get processing() {
    return Math.min(this.#inFlight, this.#workers)
  }

  get pending() {
    return Math.max(0, this.#inFlight - this.#workers)
  }

  /** Full when the next job would have to wait and `capacity` jobs are already waiting. */
  get full() {
    return this.capacity !== 0 && this.pending >= this.capacity
  }

  get inFlight() {
    return this.#inFlight
  }

  /** Runs `work` as an admitted job, or returns undefined (nothing started) when full. */
  admit(work) {
    if (this.full) return undefined
    this.#inFlight++
    return Promise.resolve()
      .then(work)
      .finally(() => this.#inFlight--)
  }
}

module.exports = { JobGate }
