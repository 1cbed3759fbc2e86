'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { resolveOptions, paramsSources } = require('../../lib/options')
const { OPTIONS } = require('../../lib/option-table')

/** Every variable lib/options.js reads (the options' own, and the defaults' XDG_CACHE_HOME), so a test sees only what it sets. */
const ENV = [...OPTIONS.map((option) => option.env), 'XDG_CACHE_HOME']

/** Runs `fn` with exactly `vars` of ENV set, then puts the environment back as it was. */
function withEnv(vars, fn) {
  const saved = Object.fromEntries(ENV.map((name) => [name, process.env[name]]))
  for (const name of ENV) delete process.env[name]
  Object.assign(process.env, vars)
  try {
    return fn()
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
}

const invalidOptions = (pattern) => (err) => err.name === 'ProverError' && err.code === 'INVALID_OPTIONS' && pattern.test(err.message)
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mnp-options-'))
const file = path.join(dir, 'file')
fs.writeFileSync(file, '')
test.after(() => fs.rmSync(dir, { recursive: true, force: true }))

test('resolveOptions with nothing set: defaults under ~/.cache, one proof at a time, everything else undefined or empty', () => {
  withEnv({}, () => {
    const cache = path.join(os.homedir(), '.cache')
    assert.deepEqual(resolveOptions(), {
      circuitDirs: [],
      params: { dirs: [path.join(cache, 'midnight', 'zk-params')], source: undefined, allowUnpinned: false },
      keyCacheDir: path.join(cache, 'midnight-native-prover', 'keys'),
      threads: undefined,
      maxConcurrent: 1,
      maxQueue: undefined,
      timeoutMs: undefined,
      memoryLimitBytes: undefined,
      preloadCircuits: [],
    })
  })
})

test('resolveOptions: explicit options, paths resolved, MiB as bytes', () => {
  withEnv({ PROVER_THREADS: '9' }, () => {
    const config = resolveOptions({
      circuitKeysPath: dir,
      memoryLimit: 1.5,
      threads: 2,
      preloadCircuits: ['a', 'b'],
      paramsPath: [dir, 'rel'],
      maxConcurrent: 3,
      maxQueue: 0,
      timeoutMs: 1000,
      keyCachePath: 'keys',
      paramsSource: 'https://example.test/params',
      allowUnpinnedParams: true,
    })
    assert.deepEqual(config, {
      circuitDirs: [dir],
      params: { dirs: [dir, path.resolve('rel')], source: 'https://example.test/params', allowUnpinned: true },
      keyCacheDir: path.resolve('keys'),
      threads: 2, // the option wins over PROVER_THREADS
      maxConcurrent: 3,
      maxQueue: 0,
      timeoutMs: 1000,
      memoryLimitBytes: 1.5 * 1024 * 1024,
      preloadCircuits: ['a', 'b'],
    })
  })
})

test('resolveOptions: the environment fills what the options leave out', () => {
  const env = {
    PROVER_MEMORY_LIMIT: ' 64 ',
    PROVER_CIRCUIT_KEYS_PATH: `${dir}${path.delimiter}${path.delimiter}${dir}`,
    PROVER_KEY_CACHE: 'env-keys',
    PROVER_THREADS: '4',
    PROVER_MAX_CONCURRENT: '2',
    PROVER_MAX_QUEUE: '7',
    PROVER_TIMEOUT_MS: '500',
    PROVER_PRELOAD_CIRCUITS: ' a , ,b ',
    MIDNIGHT_PARAM_SOURCE: 'http://params.test/',
    PROVER_ALLOW_UNPINNED_PARAMS: '1',
    MIDNIGHT_PP: '/pp',
  }
  withEnv(env, () => {
    assert.deepEqual(resolveOptions({}), {
      circuitDirs: [dir, dir],
      params: { dirs: ['/pp'], source: 'http://params.test/', allowUnpinned: true },
      keyCacheDir: path.resolve('env-keys'),
      threads: 4,
      maxConcurrent: 2,
      maxQueue: 7,
      timeoutMs: 500,
      memoryLimitBytes: 64 * 1024 * 1024,
      preloadCircuits: ['a', 'b'],
    })
  })
  withEnv({ XDG_CACHE_HOME: '/xdg', PROVER_ALLOW_UNPINNED_PARAMS: 'yes', PROVER_THREADS: '' }, () => {
    const config = resolveOptions()
    assert.deepEqual(config.params, { dirs: ['/xdg/midnight/zk-params'], source: undefined, allowUnpinned: false })
    assert.equal(config.keyCacheDir, '/xdg/midnight-native-prover/keys')
    assert.equal(config.threads, undefined) // an empty variable counts as unset
  })
})

test('resolveOptions: every invalid option is INVALID_OPTIONS naming the option', () => {
  const cases = [
    [null, /^options: expected an object$/],
    [[], /^options: expected an object$/],
    ['x', /^options: expected an object$/],
    [{ thread: 1 }, /^options.thread: unknown option \(known: circuitKeysPath, /],
    [{ memoryLimit: 0 }, /^options.memoryLimit: expected a positive number of MiB, got 0$/],
    [{ memoryLimit: Infinity }, /^options.memoryLimit: expected a positive number/],
    [{ memoryLimit: '64' }, /^options.memoryLimit: expected a positive number/],
    [{ circuitKeysPath: 5 }, /^options.circuitKeysPath: expected a directory path or an array of them$/],
    [{ circuitKeysPath: [''] }, /^options.circuitKeysPath: expected a directory path/],
    [{ circuitKeysPath: path.join(dir, 'missing') }, /^options.circuitKeysPath: .*missing does not exist$/],
    [{ circuitKeysPath: file }, /^options.circuitKeysPath: .*file is not a directory$/],
    [{ keyCachePath: '' }, /^options.keyCachePath: expected a directory path$/],
    [{ keyCachePath: 1 }, /^options.keyCachePath: expected a directory path$/],
    [{ threads: 0 }, /^options.threads: expected an integer from 1 to 1024, got 0$/],
    [{ threads: 1025 }, /^options.threads: expected an integer from 1 to 1024/],
    [{ threads: 1.5 }, /^options.threads: expected an integer/],
    [{ maxConcurrent: 0 }, /^options.maxConcurrent: expected an integer from 1 to 1024/],
    [{ maxQueue: -1 }, /^options.maxQueue: expected an integer from 0 to 2147483647, got -1$/],
    [{ timeoutMs: 0 }, /^options.timeoutMs: expected an integer from 1 to 2147483647/],
    [{ timeoutMs: 2 ** 31 }, /^options.timeoutMs: expected an integer from 1 to 2147483647/],
    [{ preloadCircuits: 'arith' }, /^options.preloadCircuits: expected an array of circuit ids$/],
    [{ preloadCircuits: [1] }, /^options.preloadCircuits: expected an array of circuit ids$/],
    [{ paramsPath: [''] }, /^options.paramsPath: expected a directory path or an array of them$/],
    [{ paramsPath: 3 }, /^options.paramsPath: expected a directory path/],
    [{ paramsSource: 'ftp://x' }, /^options.paramsSource: expected an http\(s\) URL, got ftp:\/\/x$/],
    [{ paramsSource: 5 }, /^options.paramsSource: expected an http\(s\) URL/],
    [{ allowUnpinnedParams: 'true' }, /^options.allowUnpinnedParams: expected a boolean$/],
  ]
  withEnv({}, () => {
    for (const [options, pattern] of cases) assert.throws(() => resolveOptions(options), invalidOptions(pattern), JSON.stringify(options))
  })
})

test('resolveOptions: an invalid environment variable is INVALID_OPTIONS naming the variable', () => {
  const cases = [
    ['PROVER_MEMORY_LIMIT', 'lots', /^PROVER_MEMORY_LIMIT: expected a positive number of MiB, got NaN$/],
    ['PROVER_THREADS', 'two', /^PROVER_THREADS: expected an integer from 1 to 1024, got NaN$/],
    ['PROVER_MAX_CONCURRENT', '0', /^PROVER_MAX_CONCURRENT: /],
    ['PROVER_MAX_QUEUE', '-3', /^PROVER_MAX_QUEUE: /],
    ['PROVER_TIMEOUT_MS', '1.5', /^PROVER_TIMEOUT_MS: /],
    ['PROVER_CIRCUIT_KEYS_PATH', path.join(dir, 'nope'), /^PROVER_CIRCUIT_KEYS_PATH: .*nope does not exist$/],
    ['MIDNIGHT_PARAM_SOURCE', 'not a url', /^MIDNIGHT_PARAM_SOURCE: expected an http\(s\) URL/],
  ]
  for (const [name, value, pattern] of cases) {
    withEnv({ [name]: value }, () => assert.throws(() => resolveOptions(), invalidOptions(pattern), name))
  }
})

test('paramsSources alone: directories, source and the unpinned switch, options over env', () => {
  withEnv({ MIDNIGHT_PARAM_SOURCE: 'https://env.test', PROVER_ALLOW_UNPINNED_PARAMS: 'true', MIDNIGHT_PP: '/env-pp' }, () => {
    assert.deepEqual(paramsSources({}), { dirs: ['/env-pp'], source: 'https://env.test', allowUnpinned: true })
    assert.deepEqual(paramsSources({ paramsPath: 'p', paramsSource: 'http://opt.test', allowUnpinnedParams: false }), {
      dirs: [path.resolve('p')],
      source: 'http://opt.test',
      allowUnpinned: false,
    })
  })
  withEnv({}, () => assert.throws(() => paramsSources({ allowUnpinnedParams: 1 }), invalidOptions(/^options.allowUnpinnedParams: expected a boolean$/)))
})
