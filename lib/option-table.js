'use strict'
// Every `createProver` option, defined once. Each entry holds:
//   name     the option (`createProver({ name })`, index.d.ts `ProverOptions`);
//   env      the environment variable used when the option is not given (an empty one counts as unset);
//   type     its kind of value (lib/option-types.js): how the variable's text is read, what is
//            valid (INVALID_OPTIONS naming the option or variable otherwise), its TypeScript type;
//   default  what an option given neither way resolves to: a function, called each time, or
//            absent when nothing is passed on (the option is off, or see `native`);
//   native   where the resolved value goes in the binding's NativeConfig (`params.dirs`: the
//            `dirs` field of its `params` object), or absent for options the JS layer handles;
//   serve    the `serve` flag that sets it, with the flag's own variable when that differs from
//            `env` or must be read by serve itself (lib/serve/config.js);
//   doc      its documentation, exactly as index.d.ts has it.
// lib/options.js resolves options from this table and builds the NativeConfig, lib/serve/config.js
// makes serve's prover flags from it, and __test__/unit/option-table.test.js checks the places
// that cannot derive from it: index.d.ts, the Rust NativeConfig and ProverConfig, serve's usage
// text, the README's option table.
//
// Two defaults are the service crate's, not the binding's (which only converts): `threads` absent
// means service::scheduler::default_threads() (the CPUs this process may use), `maxQueue` absent
// means unbounded (crates/service/src/prover/mod.rs `ProverConfig`).
const os = require('node:os')
const path = require('node:path')
const { MAX_TIMEOUT_MS } = require('./stop')
const { integer, mebibytes, directories, existingDirectories, directory, circuitIds, httpUrl, boolean } = require('./option-types')

/** Where the proof server keeps parameters without MIDNIGHT_PP: $XDG_CACHE_HOME/midnight/zk-params, ~/.cache/midnight/zk-params. */
function defaultParamsDir() {
  if (process.env.XDG_CACHE_HOME) return path.join(process.env.XDG_CACHE_HOME, 'midnight', 'zk-params')
  return path.join(os.homedir(), '.cache', 'midnight', 'zk-params')
}

/** Where built-in circuits' prover keys are derived to: $XDG_CACHE_HOME or ~/.cache, then midnight-native-prover/keys. */
function defaultKeyCacheDir() {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache')
  return path.join(base, 'midnight-native-prover', 'keys')
}

/** In this order in the unknown-option message. */
const OPTIONS = [
  {
    name: 'circuitKeysPath',
    env: 'PROVER_CIRCUIT_KEYS_PATH',
    type: existingDirectories,
    default: () => [],
    native: 'circuitDirs',
    serve: { flag: 'keys' },
    doc: [
      "Compact compiler output directories (`keys/<id>.prover`, `keys/<id>.verifier`,",
      "`zkir/<id>.bzkir` or `.zkir`), searched in order. The ledger's built-in circuits",
      "({@link BuiltinCircuit}) need no directory.",
      "Env: `PROVER_CIRCUIT_KEYS_PATH` (several joined with `:`).",
    ],
  },
  {
    name: 'memoryLimit',
    env: 'PROVER_MEMORY_LIMIT',
    type: mebibytes,
    native: 'memoryLimitBytes',
    serve: { flag: 'memory-limit' },
    doc: [
      "Native memory budget in MiB: loaded circuits (keys and parameters) plus a reservation for",
      "every running proof. A proof reserves its estimated peak (measured peaks of its circuit once",
      "known) before it starts, and waits in FIFO order while it does not fit; one that cannot fit",
      "even alone rejects with `MEMORY_LIMIT_EXCEEDED`. Env: `PROVER_MEMORY_LIMIT`. Default: none",
      "(reservations are still shown by `getStatus()`).",
    ],
  },
  {
    name: 'threads',
    env: 'PROVER_THREADS',
    type: integer(1, 1024),
    // Absent: the service picks scheduler::default_threads().
    native: 'threads',
    serve: { flag: 'threads' },
    doc: [
      "Threads of the prover's pool. Env: `PROVER_THREADS`. Default: the CPUs this process may use",
      "(CPU affinity and cgroup quota included).",
    ],
  },
  {
    name: 'preloadCircuits',
    env: 'PROVER_PRELOAD_CIRCUITS',
    type: circuitIds,
    default: () => [],
    serve: { flag: 'preload' },
    doc: [
      "Circuits to load before `createProver` resolves. Env: `PROVER_PRELOAD_CIRCUITS` (comma list).",
      "A circuit that fails to load rejects `createProver` with that error.",
    ],
  },
  {
    name: 'paramsPath',
    env: 'MIDNIGHT_PP',
    type: directories,
    default: () => [defaultParamsDir()],
    native: 'params.dirs',
    // serve reads MIDNIGHT_PP itself: its /fetch-params/{k} route fetches into that directory.
    serve: { flag: 'params', env: 'MIDNIGHT_PP' },
    doc: [
      "Directories holding `bls_midnight_2p<k>` for circuits with k > 14 (k ≤ 14 needs no files).",
      "Default: `$MIDNIGHT_PP`, else `$XDG_CACHE_HOME/midnight/zk-params`, else",
      "`~/.cache/midnight/zk-params` — where the official proof server keeps them.",
    ],
  },
  {
    name: 'maxConcurrent',
    env: 'PROVER_MAX_CONCURRENT',
    type: integer(1, 1024),
    default: () => 1,
    native: 'maxConcurrent',
    // The proof server's name for it.
    serve: { flag: 'num-workers', env: 'MIDNIGHT_PROOF_SERVER_NUM_WORKERS' },
    doc: ["Proofs run at once; the rest wait in FIFO order. Env: `PROVER_MAX_CONCURRENT`. Default 1."],
  },
  {
    name: 'maxQueue',
    env: 'PROVER_MAX_QUEUE',
    type: integer(0, 2 ** 31 - 1),
    // Absent: the service leaves it unbounded.
    native: 'maxQueue',
    doc: [
      "Proofs that may wait for their turn; one more makes `prove` reject at once with",
      "`PROVER_OVERLOADED` (a service answers 429). Env: `PROVER_MAX_QUEUE`. Default: unbounded.",
    ],
  },
  {
    name: 'timeoutMs',
    env: 'PROVER_TIMEOUT_MS',
    type: integer(1, MAX_TIMEOUT_MS),
    doc: [
      "Default time limit of a proof in ms, from the `prove` call; on expiry it rejects with",
      "`PROOF_TIMEOUT` and leaves the queue if it has not started. Env: `PROVER_TIMEOUT_MS`.",
      "Default: none.",
    ],
  },
  {
    name: 'keyCachePath',
    env: 'PROVER_KEY_CACHE',
    type: directory,
    default: defaultKeyCacheDir,
    native: 'keyCacheDir',
    serve: { flag: 'key-cache' },
    doc: [
      "Where built-in circuits' prover keys are derived to on first use and found again later.",
      "A cached key is used only while its SHA-256 is the official one; otherwise it is derived",
      "again. The MSM engine also keeps its fixed-base SRS tables here (`msm-fixed-*.bin`, 60 MiB",
      "for k = 14), written once and mapped read-only by every prover process that uses the",
      "directory; a file that fails its checks is rebuilt. Env: `PROVER_KEY_CACHE`. Default: `$XDG_CACHE_HOME/midnight-native-prover/keys`,",
      "else `~/.cache/midnight-native-prover/keys`.",
    ],
  },
  {
    name: 'paramsSource',
    env: 'MIDNIGHT_PARAM_SOURCE',
    type: httpUrl,
    native: 'params.source',
    doc: [
      "Base URL to fetch a missing `bls_midnight_2p<k>` from (`<source>/bls_midnight_2p<k>`) into",
      "the first `paramsPath` directory, written atomically and checked against Midnight's pinned",
      "SHA-256. Env: `MIDNIGHT_PARAM_SOURCE` (as the proof server). Default: no fetching.",
    ],
  },
  {
    name: 'allowUnpinnedParams',
    env: 'PROVER_ALLOW_UNPINNED_PARAMS',
    type: boolean,
    default: () => false,
    native: 'params.allowUnpinned',
    doc: [
      "Accept `bls_midnight_2p<k>` files that do not hash to Midnight's pins (development",
      "parameters, see {@link devParams}). Env: `PROVER_ALLOW_UNPINNED_PARAMS=1`. Default false:",
      "such files reject with `PARAMS_MISMATCH`. Accepted files must still have the size and k of",
      "Midnight's layout (a labelled file's checksum must match too), else `PARAMS_MISMATCH`; their",
      "proofs verify with their own setup, never with Midnight's.",
    ],
  },
]

/** The options by name (a Map: no inherited names such as `constructor`). */
const OPTION = new Map(OPTIONS.map((option) => [option.name, option]))

module.exports = { OPTIONS, OPTION }
