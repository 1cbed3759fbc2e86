'use strict'
// Admission for /prove, /check and /k, counted the way the proof server counts: `workers` jobs are
// processing, the rest are pending, and a job is refused (429) once `capacity` jobs are pending
// (capacity 0 = unlimited). Counting here rather than in the engine keeps both routes (the
// prover's own circuits and client-supplied key material) under one limit.
//
// The gate holds the pending jobs itself and hands the prover at most `workers` at a time (the
// prover runs as many: its maxConcurrent), so it always knows which jobs have native work behind
// them. That keeps the counts true across `--job-timeout`:
//   - a job still pending when its time is up leaves the queue at once and frees its place
//     (nothing was started for it);
//   - a job processing when its time is up is answered PROOF_TIMEOUT at once, but keeps its
//     worker slot until its work settles, since the native proof goes on until it ends.
// So the prover never has more than `workers` jobs from this gate, and /ready and /status never
// report a slot as free while a proof still occupies it.
const { ProverError } = require('../errors')

class JobGate {
  #workers
  #timeoutMs
  #running = 0
  /** Admitted jobs not handed to the prover yet, in arrival order. */
  #waiting = []
  /** Jobs answered PROOF_TIMEOUT whose work has not settled yet (they still hold a slot). */
  #overdue = 0

  /** `timeoutMs` counts from admission, as the proof server's job TTL does; undefined = none. */
  constructor({ capacity, workers, timeoutMs }) {
    this.capacity = capacity
    this.#workers = workers
    this.#timeoutMs = timeoutMs
  }

  get processing() {
    return this.#running
  }

  get pending() {
    return this.#waiting.length
  }

  /** Jobs whose answer (PROOF_TIMEOUT) is out while their proof still runs. */
  get overdue() {
    return this.#overdue
  }

  /** Full when the next job would have to wait and `capacity` jobs are already waiting. */
  get full() {
    return this.capacity !== 0 && this.#running >= this.#workers && this.#waiting.length >= this.capacity
  }

  get inFlight() {
    return this.#running + this.#waiting.length
  }

  /**
   * Runs `work` as an admitted job, or returns undefined (nothing started) when full. The
   * promise settles with the work's outcome, or rejects with PROOF_TIMEOUT when the time is up.
   */
  admit(work) {
    if (this.full) return undefined
    return new Promise((resolve, reject) => {
      const job = { work, resolve, reject, timer: undefined, answered: false }
      if (this.#timeoutMs !== undefined) job.timer = setTimeout(() => this.#expire(job), this.#timeoutMs)
      this.#waiting.push(job)
      this.#pump()
    })
  }

  #pump() {
    while (this.#running < this.#workers && this.#waiting.length) this.#start(this.#waiting.shift())
  }

  #start(job) {
    this.#running++
    let work
    try {
      work = Promise.resolve(job.work())
    } catch (err) {
      work = Promise.reject(err)
    }
    work.then(
      (value) => this.#answer(job, () => job.resolve(value)),
      (err) => this.#answer(job, () => job.reject(err)),
    ).finally(() => {
      if (job.answered === 'timeout') this.#overdue--
      this.#running--
      this.#pump()
    })
  }

  #answer(job, settle) {
    if (job.answered) return
    job.answered = true
    clearTimeout(job.timer)
    settle()
  }

  #expire(job) {
    if (job.answered) return
    job.answered = 'timeout'
    const at = this.#waiting.indexOf(job)
    if (at >= 0) this.#waiting.splice(at, 1) // never started: its place is free now
    else this.#overdue++ // started: its slot stays taken until the work settles
    job.reject(new ProverError('PROOF_TIMEOUT', `no result within ${this.#timeoutMs} ms`))
  }
}

module.exports = { JobGate }
