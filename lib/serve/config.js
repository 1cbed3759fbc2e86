'use strict'
// `serve` flags and their environment fallbacks (a flag wins). The names mirror the official proof
// server's where they mean the same (`--port`, `--job-capacity`, `--num-workers`, `--job-timeout`,
// `--verbose`, `--no-fetch-params` and their MIDNIGHT_PROOF_SERVER_* variables); the rest are ours.
// The flags that set prover options come from the option table (lib/option-table.js, `serve`).
// Their values are handed to lib/options.js, which validates them and applies the options' own
// env fallbacks (PROVER_THREADS, PROVER_CIRCUIT_KEYS_PATH, …), so nothing is validated twice.
const { OPTIONS, OPTION } = require('../option-table')
const { invalid, positiveInteger, nonNegativeInteger, asNumber } = require('../option-types')

const MiB = 1024 * 1024
/** Fits a k=18 prover key (~100 MB) with its IR; larger circuits need --body-limit. */
const DEFAULT_BODY_LIMIT = 128 * MiB

/**
 * Flags of prover options, by flag: the option, and the variable serve reads itself when the
 * flag has one of its own (`--num-workers`: MIDNIGHT_PROOF_SERVER_NUM_WORKERS); the others leave
 * their variable, the option's own, to createProver.
 */
const PROVER_FLAGS = {}
for (const option of OPTIONS.filter((o) => o.serve)) {
  const { flag, env } = option.serve
  PROVER_FLAGS[flag] = { env: env ?? option.env, readsEnv: env !== undefined, option }
}

const FLAGS = {
  port: { env: 'MIDNIGHT_PROOF_SERVER_PORT', short: 'p' },
  host: { env: 'PROVER_HOST' },
  'job-capacity': { env: 'MIDNIGHT_PROOF_SERVER_JOB_CAPACITY' },
  'job-timeout': { env: 'MIDNIGHT_PROOF_SERVER_JOB_TIMEOUT' },
  ...PROVER_FLAGS,
  'body-limit': { env: 'PROVER_BODY_LIMIT' },
  'body-budget': { env: 'PROVER_BODY_BUDGET' },
  'headers-timeout': { env: 'PROVER_HEADERS_TIMEOUT' },
  'request-timeout': { env: 'PROVER_REQUEST_TIMEOUT' },
  'keep-alive-timeout': { env: 'PROVER_KEEP_ALIVE_TIMEOUT' },
  'max-connections': { env: 'PROVER_MAX_CONNECTIONS' },
  'result-ttl': { env: 'PROVER_RESULT_TTL' },
  'result-cache-bytes': { env: 'PROVER_RESULT_CACHE_BYTES' },
  verbose: { env: 'MIDNIGHT_PROOF_SERVER_VERBOSE', short: 'v', boolean: true },
  // The proof server fetches parameters at start and serves GET /fetch-params/{k} unless told not
  // to. This engine fetches nothing at start (for proofs it downloads only when
  // MIDNIGHT_PARAM_SOURCE is set), so the flag's one effect here is to remove that route.
  'no-fetch-params': { env: 'MIDNIGHT_PROOF_SERVER_NO_FETCH_PARAMS', boolean: true },
}

/** The variable serve itself reads besides its flags' (it has no flag). */
const API_KEY_ENV = 'PROVER_API_KEY'

const SHORT = Object.fromEntries(Object.entries(FLAGS).filter(([, f]) => f.short).map(([name, f]) => [f.short, name]))

/** `--name value`, `--name=value`, `-p value` and bare boolean flags, into `{ name: string | true }`. */
function parseArgs(argv) {
  const given = {}
  for (let i = 0; i < argv.length; i++) {
    const m = /^(?:--([a-z-]+)|-([a-z]))(?:=(.*))?$/.exec(argv[i])
    const name = m && (m[1] ?? SHORT[m[2]])
    if (!name || !FLAGS[name]) throw invalid(argv[i], `unknown argument (known: ${Object.keys(FLAGS).map((f) => '--' + f).join(', ')})`)
    if (FLAGS[name].boolean) given[name] = m[3] ?? true
    else if (m[3] !== undefined) given[name] = m[3]
    else if (i + 1 < argv.length) given[name] = argv[++i]
    else throw invalid(`--${name}`, 'expects a value')
  }
  return given
}

/** The flag's raw text, else its environment variable's, with where it came from. */
function source(given, name, env = process.env) {
  if (given[name] !== undefined) return { raw: given[name], from: `--${name}` }
  const raw = env[FLAGS[name].env]
  return raw === undefined || raw === '' ? { raw: undefined, from: FLAGS[name].env } : { raw, from: FLAGS[name].env }
}

const number = ({ raw, from }) => ({ value: raw === undefined ? undefined : asNumber(String(raw)), from })

function boolean({ raw, from }) {
  if (raw === undefined || raw === true) return raw === true
  const text = String(raw).trim().toLowerCase()
  if (['1', 'true', 'yes', 'on'].includes(text)) return true
  if (['0', 'false', 'no', 'off', ''].includes(text)) return false
  throw invalid(from, `expected true or false, got ${raw}`)
}

function seconds({ value, from }, fallback = 600) {
  if (value === undefined) return fallback
  if (!(Number.isFinite(value) && value > 0 && value * 1000 <= 2 ** 31 - 1)) throw invalid(from, `expected a positive number of seconds, got ${value}`)
  return value
}

const ms = (s) => Math.ceil(s * 1000)

/**
 * The `createProver` options the prover flags give, read as their variables are. A flag with a
 * variable of its own is read here, flag then variable, and checked naming where it came from;
 * the others pass the flag alone (createProver checks it, and reads their variable itself).
 */
function proverOptions(given, at) {
  const options = {}
  for (const [flag, { readsEnv, option }] of Object.entries(PROVER_FLAGS)) {
    const { raw, from } = readsEnv ? at(flag) : { raw: given[flag], from: `--${flag}` }
    if (raw === undefined) continue
    const value = option.type.read(String(raw))
    if (readsEnv) option.type.check({ value, from })
    options[option.name] = value
  }
  return options
}

/**
 * Everything `serve` needs: listening address, admission limits, auth, and the `createProver`
 * options (validated later by createProver; only the ones given here override the env).
 */
function resolveServeConfig(argv = [], env = process.env) {
  const given = parseArgs(argv)
  const at = (name) => source(given, name, env)
  const prover = proverOptions(given, at)
  const jobTimeout = seconds(number(at('job-timeout')))
  return {
    port: nonNegativeInteger(number(at('port')), 65535) ?? 6300,
    host: at('host').raw ?? '127.0.0.1',
    jobCapacity: nonNegativeInteger(number(at('job-capacity')), 2 ** 31 - 1) ?? 0,
    bodyLimit: positiveInteger(number(at('body-limit')), 2 ** 32) ?? DEFAULT_BODY_LIMIT,
    // Undefined: sized from the memory limit once it is known (lib/serve/body.js).
    bodyBudget: positiveInteger(number(at('body-budget')), 2 ** 40),
    verbose: boolean(at('verbose')),
    // Per job, from admission; timed by the job gate (lib/serve/jobs.js), not the prover.
    jobTimeoutMs: ms(jobTimeout),
    // Slow clients: a connection that has not sent its headers, or its whole request, in time is
    // answered 408 and closed; an idle keep-alive connection is closed; past maxConnections new
    // connections are dropped at once.
    headersTimeoutMs: ms(seconds(number(at('headers-timeout')), 20)),
    requestTimeoutMs: ms(seconds(number(at('request-timeout')), 300)),
    keepAliveTimeoutMs: ms(seconds(number(at('keep-alive-timeout')), 5)),
    maxConnections: positiveInteger(number(at('max-connections')), 2 ** 20) ?? 4096,
    // Equal requests share one job, and a finished answer is kept this long for retries (0: off).
    resultTtlMs: ms(nonNegativeInteger(number(at('result-ttl')), 3600) ?? 30),
    resultCacheBytes: nonNegativeInteger(number(at('result-cache-bytes')), 2 ** 32) ?? 16 * MiB,
    apiKey: env[API_KEY_ENV] || undefined,
    // Whether PROVER_MEMORY_LIMIT or --memory-limit set it; if not, serve derives it from the cgroup.
    memoryLimitGiven: at(OPTION.get('memoryLimit').serve.flag).raw !== undefined,
    prover,
    // As in the proof server, --no-fetch-params removes GET /fetch-params/{k} (it answers 404).
    fetchParams: !boolean(at('no-fetch-params')),
  }
}

const USAGE = `usage: midnight-native-prover serve [flags]

  Serves the official proof server's HTTP protocol (POST /prove /check /k, GET /health /ready
  /version /proof-versions /fetch-params/{k}) plus GET /metrics and /status. Each flag falls back
  to its env variable.

  --port, -p      MIDNIGHT_PROOF_SERVER_PORT          port (default 6300)
  --host          PROVER_HOST                         address to bind (default 127.0.0.1)
  --job-capacity  MIDNIGHT_PROOF_SERVER_JOB_CAPACITY  jobs allowed to wait; beyond it 429 (0 = unlimited)
  --job-timeout   MIDNIGHT_PROOF_SERVER_JOB_TIMEOUT   seconds per job from admission (default 600); a proof
                                                      still running then is answered 500 but keeps its slot
  --num-workers   MIDNIGHT_PROOF_SERVER_NUM_WORKERS   proofs in flight (default 1, or PROVER_MAX_CONCURRENT)
  --memory-limit  PROVER_MEMORY_LIMIT                 MiB (default: 85% of the cgroup memory limit)
  --threads       PROVER_THREADS                      proving threads (default: available CPUs)
  --keys          PROVER_CIRCUIT_KEYS_PATH            ':'-separated Compact output directories
  --preload       PROVER_PRELOAD_CIRCUITS             comma list of circuit ids to load at start
  --params        MIDNIGHT_PP                         directory with bls_midnight_2p<k> for k > 14
  --key-cache     PROVER_KEY_CACHE                    where built-in circuits' prover keys are derived to
  --body-limit    PROVER_BODY_LIMIT                   largest request body in bytes (default 128 MiB)
  --body-budget   PROVER_BODY_BUDGET                  bytes of request bodies in flight across connections;
                                                      a request beyond it is answered 503 before its body is
                                                      read (default: a quarter of the memory limit, within
                                                      one and two body limits)
  --headers-timeout    PROVER_HEADERS_TIMEOUT         seconds to send the headers (default 20), else 408
  --request-timeout    PROVER_REQUEST_TIMEOUT         seconds to send the whole request (default 300), else 408
  --keep-alive-timeout PROVER_KEEP_ALIVE_TIMEOUT      seconds an idle connection stays open (default 5)
  --max-connections    PROVER_MAX_CONNECTIONS         open connections (default 4096); more are dropped at once
  --result-ttl         PROVER_RESULT_TTL              seconds a finished /prove or /check answer is kept for a
                                                      retry with the same body (default 30; 0 = no sharing)
  --result-cache-bytes PROVER_RESULT_CACHE_BYTES      bytes of answers kept (default 16 MiB, at most 256 answers)
  --verbose, -v   MIDNIGHT_PROOF_SERVER_VERBOSE       log every request
  --no-fetch-params                                   no GET /fetch-params/{k} route (404), as in the proof
                  MIDNIGHT_PROOF_SERVER_NO_FETCH_PARAMS  server (proofs fetch parameters only when
                                                      MIDNIGHT_PARAM_SOURCE is set, with or without it)
                  PROVER_API_KEY                      require "Authorization: Bearer <key>"
                                                      (GET /, /health and /ready stay open for probes)`

module.exports = { resolveServeConfig, DEFAULT_BODY_LIMIT, USAGE, FLAGS, API_KEY_ENV }
