/**
 * midnight-native-prover: proves Midnight ZKIR v2 circuits natively, inside the Node process, on
 * a Rust thread pool of its own. Proving memory lives outside the V8 heap.
 *
 * @packageDocumentation
 */

import { EventEmitter } from 'node:events'
import type { GeneratedKeys, ProofResult, ProverStatus } from './binding'

/**
 * The shapes the addon returns are defined once, in Rust (src/binding/shapes.rs), and generated
 * into binding.d.ts with their documentation; they are re-exported here as they are.
 */
export type {
  CacheStatus,
  CircuitStatus,
  GeneratedKeys,
  MemoryBudget,
  MemoryClaim,
  MemoryStatus,
  MsmStatus,
  MsmVector,
  ProofResult,
  ProverStatus,
  TasksStatus,
} from './binding'

/** Every code a {@link ProverError} can carry. */
export type ProverErrorCode =
  | 'INVALID_OPTIONS'
  | 'INVALID_ARGUMENT'
  | 'CIRCUIT_NOT_FOUND'
  | 'INVALID_CIRCUIT_ID'
  | 'INVALID_WITNESS'
  | 'WITNESS_UNSATISFIED'
  | 'KEY_CORRUPT'
  | 'INVALID_IR'
  | 'PARAMS_NOT_FOUND'
  | 'PROOF_FAILED'
  | 'PROVER_CLOSED'
  | 'PROVER_PANIC'
  | 'PROVER_OVERLOADED'
  | 'PROOF_TIMEOUT'
  | 'KEY_MISMATCH'
  | 'KEY_CACHE_UNWRITABLE'
  | 'PARAMS_MISMATCH'
  | 'MEMORY_LIMIT_EXCEEDED'

/** The error every rejection of this package is (except aborts, see {@link AbortError}). */
export declare class ProverError extends Error {
  readonly name: 'ProverError'
  /** Stable machine-readable reason; the message is for people. */
  readonly code: ProverErrorCode
}

/** Rejection of an aborted proof: the standard AbortError shape (`code` is `'ABORT_ERR'`). */
export declare class AbortError extends Error {
  readonly name: 'AbortError'
  readonly code: 'ABORT_ERR'
}

/**
 * A BLS12-381 scalar field element: a bigint, a non-negative safe integer, a decimal string or a
 * `0x`-prefixed hex string (big-endian, natural notation). Negative values mean field negation.
 * Values outside the field reject with `INVALID_WITNESS`.
 */
export type FieldElement = bigint | number | string

/** A circuit's inputs and transcripts, as the Compact runtime produces them for a call. */
export interface Witness {
  /** The circuit's inputs; their number must be the circuit's `num_inputs`. */
  inputs: FieldElement[]
  /** Values consumed by `private_input` instructions, in order. */
  privateTranscript?: FieldElement[]
  /** The public transcript's statement inputs (checked against the circuit's declared public inputs). */
  publicTranscriptInputs?: FieldElement[]
  /** Values consumed by `public_input` instructions, in order. */
  publicTranscriptOutputs?: FieldElement[]
  /** Arbitrary value bound into the proof (default 0). */
  bindingInput?: FieldElement
  /**
   * `[commitment, randomness]` for circuits with a communications commitment; the commitment is
   * Poseidon(randomness, ...inputs, ...outputs).
   */
  communicationsCommitment?: [FieldElement, FieldElement]
}

/** Options of {@link createProver}. Each has an environment fallback; an explicit option wins. */
export interface ProverOptions {
  /**
   * Compact compiler output directories (`keys/<id>.prover`, `keys/<id>.verifier`,
   * `zkir/<id>.bzkir` or `.zkir`), searched in order. The ledger's built-in circuits
   * ({@link BuiltinCircuit}) need no directory.
   * Env: `PROVER_CIRCUIT_KEYS_PATH` (several joined with `:`).
   */
  circuitKeysPath?: string | string[]
  /**
   * Where built-in circuits' prover keys are derived to on first use and found again later.
   * A cached key is used only while its SHA-256 is the official one; otherwise it is derived
   * again. The MSM engine also keeps its fixed-base SRS tables here (`msm-fixed-*.bin`, 60 MiB
   * for k = 14), written once and mapped read-only by every prover process that uses the
   * directory; a file that fails its checks is rebuilt. Env: `PROVER_KEY_CACHE`. Default: `$XDG_CACHE_HOME/midnight-native-prover/keys`,
   * else `~/.cache/midnight-native-prover/keys`.
   */
  keyCachePath?: string
  /**
   * Native memory budget in MiB: loaded circuits (keys and parameters) plus a reservation for
   * every running proof. A proof reserves its estimated peak (measured peaks of its circuit once
   * known) before it starts, and waits in FIFO order while it does not fit; one that cannot fit
   * even alone rejects with `MEMORY_LIMIT_EXCEEDED`. Env: `PROVER_MEMORY_LIMIT`. Default: none
   * (reservations are still shown by `getStatus()`).
   */
  memoryLimit?: number
  /**
   * Threads of the prover's pool. Env: `PROVER_THREADS`. Default: the CPUs this process may use
   * (CPU affinity and cgroup quota included).
   */
  threads?: number
  /** Proofs run at once; the rest wait in FIFO order. Env: `PROVER_MAX_CONCURRENT`. Default 1. */
  maxConcurrent?: number
  /**
   * Proofs that may wait for their turn; one more makes `prove` reject at once with
   * `PROVER_OVERLOADED` (a service answers 429). Env: `PROVER_MAX_QUEUE`. Default: unbounded.
   */
  maxQueue?: number
  /**
   * Default time limit of a proof in ms, from the `prove` call; on expiry it rejects with
   * `PROOF_TIMEOUT` and leaves the queue if it has not started. Env: `PROVER_TIMEOUT_MS`.
   * Default: none.
   */
  timeoutMs?: number
  /**
   * Circuits to load before `createProver` resolves. Env: `PROVER_PRELOAD_CIRCUITS` (comma list).
   * A circuit that fails to load rejects `createProver` with that error.
   */
  preloadCircuits?: string[]
  /**
   * Directories holding `bls_midnight_2p<k>` for circuits with k > 14 (k ≤ 14 needs no files).
   * Default: `$MIDNIGHT_PP`, else `$XDG_CACHE_HOME/midnight/zk-params`, else
   * `~/.cache/midnight/zk-params` — where the official proof server keeps them.
   */
  paramsPath?: string | string[]
  /**
   * Base URL to fetch a missing `bls_midnight_2p<k>` from (`<source>/bls_midnight_2p<k>`) into
   * the first `paramsPath` directory, written atomically and checked against Midnight's pinned
   * SHA-256. Env: `MIDNIGHT_PARAM_SOURCE` (as the proof server). Default: no fetching.
   */
  paramsSource?: string
  /**
   * Accept `bls_midnight_2p<k>` files that do not hash to Midnight's pins (development
   * parameters, see {@link devParams}). Env: `PROVER_ALLOW_UNPINNED_PARAMS=1`. Default false:
   * such files reject with `PARAMS_MISMATCH`. Accepted files must still have the size and k of
   * Midnight's layout (a labelled file's checksum must match too), else `PARAMS_MISMATCH`; their
   * proofs verify with their own setup, never with Midnight's.
   */
  allowUnpinnedParams?: boolean
}

/**
 * Key locations the prover resolves with no files from the user: the ledger's own circuits.
 * IR and verifier keys are compiled in (from midnight-zswap / midnight-ledger 8.1.3); prover
 * keys are derived on first use into {@link ProverOptions.keyCachePath}. `midnight/zswap/spend`
 * has k = 15 and needs `bls_midnight_2p15` (see {@link ProverOptions.paramsPath}).
 */
export type BuiltinCircuit = 'midnight/zswap/output' | 'midnight/zswap/sign' | 'midnight/zswap/spend' | 'midnight/dust/spend'

/**
 * The ledger's `ProvingProvider`, as `Transaction.prove` and midnight-js's `createProofProvider`
 * take it: `@midnight-ntwrk/ledger-v8`'s (check, prove) and `@midnightntwrk/ledger-v9`'s, which
 * adds `lookupKey`.
 *
 * A key location is a circuit id from `circuitKeysPath`, a {@link BuiltinCircuit}, or
 * midnight-js 5's `contract:<address>/<circuit>?vk=<sha256>`: the circuit of that name in
 * `circuitKeysPath` whose `keys/<circuit>.verifier` file hashes to `vk` (the address is not
 * used; the grammar is the proof server's). No such verifier key: `KEY_MISMATCH`, and nothing
 * is proved. A location starting `contract:` that does not follow the grammar:
 * `INVALID_CIRCUIT_ID`.
 */
export interface ProvingProvider {
  /** Runs the circuit named by `keyLocation` on a serialized `ProofPreimage` without proving. */
  check(serializedPreimage: Uint8Array, keyLocation: string): Promise<(bigint | undefined)[]>
  /** Proves a serialized `ProofPreimage`; resolves to the tagged `proof[v5]` bytes. */
  prove(serializedPreimage: Uint8Array, keyLocation: string, overwriteBindingInput?: bigint): Promise<Uint8Array>
  /**
   * The key material the provider would prove `keyLocation` with, or `undefined` when the
   * location names no circuit it knows (ledger v9 asks for it).
   */
  lookupKey(keyLocation: string): Promise<ProvingKeyMaterial | undefined>
}

/** A circuit's key material, as `@midnight-ntwrk/zkir-v2` and midnight-js hand it around. */
export interface ProvingKeyMaterial {
  /** `.prover` file bytes. */
  proverKey: Uint8Array
  /** `.verifier` file bytes. */
  verifierKey: Uint8Array
  /** `.bzkir` bytes. */
  ir: Uint8Array
}

/** Where key material comes from: the `kmProvider` of `@midnight-ntwrk/zkir-v2`'s `provingProvider`. */
export interface KeyMaterialProvider {
  /** Key material for a key location, or `undefined` when there is none (`CIRCUIT_NOT_FOUND`). */
  lookupKey(keyLocation: string): Promise<ProvingKeyMaterial | undefined>
  /**
   * `bls_midnight_2p<k>`. Called only for k > 14 when no such file is in
   * {@link ProverOptions.paramsPath} (k ≤ 14 comes from the embedded SRS); the bytes must hash to
   * Midnight's pin (`PARAMS_MISMATCH` otherwise, unless {@link ProverOptions.allowUnpinnedParams}).
   */
  getParams(k: number): Promise<Uint8Array>
}

/** Options every async operation takes. */
export interface AbortOptions {
  /**
   * Aborting rejects the returned promise at once with an {@link AbortError}. Native work that
   * already started runs to its end and its result is dropped; a queued proof never starts.
   */
  signal?: AbortSignal
}

/** Options of {@link Prover.prove}. */
export interface ProveOptions extends AbortOptions {
  /** Time limit of this proof in ms (overrides {@link ProverOptions.timeoutMs}); expiry rejects `PROOF_TIMEOUT`. */
  timeoutMs?: number
  /** Replaces the witness's binding input (as the ledger's `overwriteBindingInput`). */
  bindingInput?: FieldElement
}

/** Payload of a prover's lifecycle events, for logging. */
export interface ProofEvent {
  /** Numbers the proofs of one prover, in submission order. */
  proofId: number
  circuitId: string
  /** From submission to start (`started`, `finished`, `failed`). */
  waitedMs?: number
  /** Running time (`finished`, `failed`). */
  durationMs?: number
  /**
   * Native heap the proof needed at its peak (`finished`, `failed`): exact when proofs run one
   * at a time, approximate (the whole heap's peak above its start) when they overlap.
   */
  peakBytes?: number
  /** Why it failed (`failed`). */
  error?: ProverError
}

/**
 * A prover bound to a set of circuit directories. Create it with {@link createProver}.
 *
 * Events, for logging: `queued` when `prove` accepts a proof; `started`, then `finished` or
 * `failed`, for every proof that runs. A proof refused, aborted or timed out before it started
 * emits only `queued`; its promise tells the rest. Events may arrive just before or after the
 * proof's promise settles.
 */
export declare class Prover extends EventEmitter {
  private constructor()
  on(event: 'queued' | 'started' | 'finished' | 'failed', listener: (event: ProofEvent) => void): this
  once(event: 'queued' | 'started' | 'finished' | 'failed', listener: (event: ProofEvent) => void): this
  /**
   * Proves a circuit. `witness` is a {@link Witness} object or the ledger's tagged-serialized
   * `ProofPreimage` bytes. Rejects with `CIRCUIT_NOT_FOUND`, `INVALID_CIRCUIT_ID`,
   * `INVALID_WITNESS`, `WITNESS_UNSATISFIED` (the message names the failed constraint),
   * `KEY_CORRUPT`, `PARAMS_NOT_FOUND`, `PROVER_CLOSED`, `PROVER_PANIC`, `PROVER_OVERLOADED`,
   * `PROOF_TIMEOUT`, `MEMORY_LIMIT_EXCEEDED` (it cannot fit under `memoryLimit` even alone) or
   * an {@link AbortError}. A proof that is aborted or times out while queued or waiting for
   * memory leaves at once; one already running finishes in the background, its result dropped,
   * and its memory reservation is freed when it ends.
   *
   * A call with the same circuit id, binding input and preimage bytes as one still in flight
   * (a retry) shares that proof instead of starting another, and gets its own copy of the
   * result; the shared proof is withdrawn only once every caller has aborted or timed out.
   */
  prove(circuitId: string, witness: Witness | Uint8Array, options?: ProveOptions): Promise<ProofResult>
  /**
   * Runs the circuit on the witness without proving (same result as `@midnight-ntwrk/zkir-v2`'s
   * `check`): for each public-input block, `undefined` if it is taken, else the number of zeros
   * padding the skipped block.
   */
  check(circuitId: string, witness: Witness | Uint8Array, options?: AbortOptions): Promise<(bigint | undefined)[]>
  /**
   * Verifies a proof with the circuit's verifier key and Midnight's verifier parameters.
   * Resolves `false` for a proof that does not verify, including malformed proof bytes.
   */
  verify(circuitId: string, proof: Uint8Array, publicInputs: FieldElement[], options?: AbortOptions): Promise<boolean>
  /**
   * The files this prover proves `keyLocation` with (see {@link ProvingProvider}): a
   * built-in's official files (its prover key derived into `keyCachePath` first), or a circuit's
   * files from `circuitKeysPath`. `undefined` when the location names no circuit; rejects
   * `KEY_MISMATCH` for a `contract:` location whose `vk` no verifier key matches, and
   * `INVALID_CIRCUIT_ID` for a malformed one. Loads nothing into memory.
   */
  lookupKey(keyLocation: string, options?: AbortOptions): Promise<ProvingKeyMaterial | undefined>
  /**
   * The ledger's {@link ProvingProvider}, resolving key locations through this prover: circuit
   * ids from `circuitKeysPath` and the {@link BuiltinCircuit}s. Hand it to `tx.prove(provider,
   * costModel)` or midnight-js's `createProofProvider`. All proofs a transaction needs are
   * queued at once and scheduled by this prover.
   */
  asProvingProvider(): ProvingProvider
  /**
   * A {@link ProvingProvider} over key material from `kmProvider`, on this prover's threads.
   * Material is cached by content: handing in equal bytes again (even fresh copies) does not load
   * the circuit again. `kmProvider` is awaited on the event loop; no native thread waits for it.
   */
  provingProvider(kmProvider: KeyMaterialProvider): ProvingProvider
  /** Loads circuits (keys and parameters) now rather than at their first proof. */
  preload(circuitIds: string[], options?: AbortOptions): Promise<void>
  /** A snapshot of loaded circuits, queue, threads, memory and counters. */
  getStatus(): Promise<ProverStatus>
  /**
   * Prometheus text exposition (format 0.0.4): `proof_generation_duration_seconds` (histogram by
   * `circuit_id`; buckets 0.05, 0.1, 0.25, 0.5, 1, 5, 10, 15, 30, 60 s), `proofs_generated_total`
   * (counter by `circuit_id` and `status` = success | failure; ids naming no circuit count as
   * `unknown`), `prover_memory_usage_bytes`, `prover_memory_limit_bytes` (when set),
   * `prover_queue_depth`, `prover_active_proofs`, `prover_key_load_seconds` (by `circuit_id`).
   */
  metrics(): Promise<string>
  /** Waits for submitted work to finish, then frees the circuits; later calls reject `PROVER_CLOSED`. */
  close(): Promise<void>
}

/** Creates a prover; rejects `INVALID_OPTIONS` naming the bad option, or a preload's error. */
export declare function createProver(options?: ProverOptions): Promise<Prover>

/**
 * Drop-in for `@midnight-ntwrk/zkir-v2`'s `provingProvider(kmProvider)`: the same signature, proving
 * natively on one prover per process, created on first use from the environment's settings
 * (`PROVER_THREADS`, …). Throws `INVALID_ARGUMENT` when `kmProvider` has no `lookupKey`.
 */
export declare function provingProvider(kmProvider: KeyMaterialProvider): ProvingProvider

/**
 * Generates prover and verifier keys for ZKIR v2 given as `.zkir` JSON (string or bytes) or
 * `.bzkir` bytes. Rejects `INVALID_IR`, or `PARAMS_NOT_FOUND` for k > 14 without parameters.
 */
export declare function keygen(ir: string | Uint8Array, options?: KeygenOptions): Promise<GeneratedKeys>

/** Options of {@link keygen} and {@link fetchParams}: where parameters for k > 14 come from. */
export interface KeygenOptions extends AbortOptions {
  /** Where `bls_midnight_2p<k>` is for k > 14; the same default as {@link ProverOptions.paramsPath}. */
  paramsPath?: string | string[]
  /** See {@link ProverOptions.paramsSource}. */
  paramsSource?: string
  /** See {@link ProverOptions.allowUnpinnedParams}. */
  allowUnpinnedParams?: boolean
}

/**
 * Makes `bls_midnight_2p<k>` present in the first `paramsPath` directory (fetching it from
 * `paramsSource` when missing, atomically) and checks it against Midnight's pinned SHA-256;
 * resolves to its path. Rejects `PARAMS_MISMATCH` for a file on disk with other bytes, and
 * `PARAMS_NOT_FOUND` when it is missing and cannot be fetched with the pinned hash.
 */
export declare function fetchParams(k: number, options?: KeygenOptions): Promise<string>

/** Options of {@link devParams}. */
export interface DevParamsOptions extends AbortOptions {
  /** The directory to write `bls_midnight_2p<k>` to (created if missing). Never Midnight's own params cache. */
  out: string
  /** Any text; the same seed gives the same file. Default: one fixed seed. */
  seed?: string
}

/**
 * **UNSAFE** development parameters for k = 15..20: a KZG setup whose secret follows from
 * `seed`, so anyone can forge proofs against it. For tests and benchmarks of circuits past
 * k = 14 when Midnight's `bls_midnight_2p<k>` is out of reach. Written as
 * `out/bls_midnight_2p<k>` in Midnight's layout (Midnight's tools read it) followed by a
 * trailer that labels it unsafe and carries its checksum; resolves to the path. Provers accept
 * it only with {@link ProverOptions.allowUnpinnedParams}, prove and verify with its own
 * verifier side (a proof made with it never verifies against Midnight's parameters, nor the
 * reverse), and report `params: 'development'` per circuit in `getStatus()`. The ledger rejects
 * its proofs. Rejects `INVALID_ARGUMENT` for another k. Generating takes seconds at k = 15
 * and about 4 minutes at k = 20 (2 cores).
 */
export declare function devParams(k: number, options: DevParamsOptions): Promise<string>

/**
 * The `bls_midnight_2p<k>` parameters file for k ≤ 14, made from the Midnight SRS compiled into
 * the addon: exactly what `@midnight-ntwrk/zkir-v2`'s `getParams(k)` must return.
 */
export declare function params(k: number): Uint8Array

/**
 * A {@link Witness} as the ledger's tagged-serialized `ProofPreimage` for `keyLocation`: the
 * bytes `@midnight-ntwrk/zkir-v2` and the proof server take. Throws `INVALID_WITNESS`.
 */
export declare function serializePreimage(keyLocation: string, witness: Witness): Uint8Array

/**
 * A prom-client `Registry` (or anything with its `registerMetric` / `removeSingleMetric`).
 * Declared structurally so this package's types do not need prom-client installed.
 */
export interface PromClientRegistry {
  registerMetric(metric: unknown): void
  removeSingleMetric(name: string): void
}

/**
 * Registers the prover's metrics (the families of {@link Prover.metrics}) on an existing
 * prom-client registry, e.g. `require('prom-client').register`, so `await registry.metrics()`
 * includes them with their labels and histogram buckets. Each scrape reads the prover once.
 * Works with Prometheus and OpenMetrics registries. The package never loads prom-client itself.
 * Throws `TypeError` for a missing prover or registry, and prom-client's error if the names are
 * already registered (one prover per registry). Returns a function that unregisters them.
 */
export declare function registerProverMetrics(prover: Prover, registry: PromClientRegistry): () => void

/** The codes the native addon can produce. */
export declare function errorCodes(): string[]
