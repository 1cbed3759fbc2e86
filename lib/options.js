'use strict'
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { ProverError } = require('./errors')

const KNOWN = ['circuitKeysPath', 'memoryLimit', 'threads', 'preloadCircuits', 'paramsPath', 'maxConcurrent', 'maxQueue', 'timeoutMs', 'keyCachePath', 'paramsSource', 'allowUnpinnedParams']

function invalid(name, message) {
  return new ProverError('INVALID_OPTIONS', `${name}: ${message}`)
}

/** Explicit option, else the environment variable (parsed), else undefined. */
function pick(options, name, envName, parseEnv) {
  if (options[name] !== undefined) return { value: options[name], from: `options.${name}` }
  const raw = process.env[envName]
  if (raw === undefined || raw === '') return { value: undefined, from: envName }
  return { value: parseEnv(raw), from: envName }
}

const asList = (raw) => raw.split(',').map((s) => s.trim()).filter(Boolean)
const asNumber = (raw) => Number(raw.trim())

function positiveInteger({ value, from }, max) {
  if (value === undefined) return undefined
  if (!Number.isInteger(value) || value < 1 || value > max) throw invalid(from, `expected an integer from 1 to ${max}, got ${String(value)}`)
  return value
}

function nonNegativeInteger({ value, from }, max) {
  if (value === undefined) return undefined
  if (!Number.isInteger(value) || value < 0 || value > max) throw invalid(from, `expected an integer from 0 to ${max}, got ${String(value)}`)
  return value
}

function directories({ value, from }) {
  if (value === undefined) return []
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || list.some((p) => typeof p !== 'string' || p === '')) {
    throw invalid(from, 'expected a directory path or an array of them')
  }
  return list.map((p) => {
    const abs = path.resolve(p)
    let stat
    try {
      stat = fs.statSync(abs)
    } catch {
      throw invalid(from, `${abs} does not exist`)
    }
    if (!stat.isDirectory()) throw invalid(from, `${abs} is not a directory`)
    return abs
  })
}

/** Where the proof server keeps parameters: $MIDNIGHT_PP, $XDG_CACHE_HOME/midnight/zk-params, ~/.cache/midnight/zk-params. */
function defaultParamsDir() {
  const env = process.env
  if (env.MIDNIGHT_PP) return env.MIDNIGHT_PP
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, 'midnight', 'zk-params')
  return path.join(os.homedir(), '.cache', 'midnight', 'zk-params')
}

/** Where built-in circuits' prover keys are derived to: $XDG_CACHE_HOME or ~/.cache, then midnight-native-prover/keys. */
function defaultKeyCacheDir() {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache')
  return path.join(base, 'midnight-native-prover', 'keys')
}

function keyCacheDir({ value, from }) {
  if (value === undefined) return defaultKeyCacheDir()
  if (typeof value !== 'string' || value === '') throw invalid(from, 'expected a directory path')
  return path.resolve(value)
}

function paramsDirs(options) {
  if (options.paramsPath === undefined) return [defaultParamsDir()]
  const list = typeof options.paramsPath === 'string' ? [options.paramsPath] : options.paramsPath
  if (!Array.isArray(list) || list.some((p) => typeof p !== 'string' || p === '')) {
    throw invalid('options.paramsPath', 'expected a directory path or an array of them')
  }
  return list.map((p) => path.resolve(p))
}

/**
 * Where parameters for k > 14 come from: directories, an optional source to fetch missing files
 * from (MIDNIGHT_PARAM_SOURCE, as the proof server), and whether unpinned files are accepted.
 */
function paramsSources(options) {
  const source = pick(options, 'paramsSource', 'MIDNIGHT_PARAM_SOURCE', (raw) => raw)
  if (source.value !== undefined && !(typeof source.value === 'string' && /^https?:\/\/\S+$/.test(source.value))) {
    throw invalid(source.from, `expected an http(s) URL, got ${String(source.value)}`)
  }
  const unpinned = pick(options, 'allowUnpinnedParams', 'PROVER_ALLOW_UNPINNED_PARAMS', (raw) => raw === '1' || raw === 'true')
  if (unpinned.value !== undefined && typeof unpinned.value !== 'boolean') throw invalid(unpinned.from, 'expected a boolean')
  return { dirs: paramsDirs(options), source: source.value, allowUnpinned: unpinned.value === true }
}

function circuitIds({ value, from }) {
  if (value === undefined) return []
  if (!Array.isArray(value) || value.some((id) => typeof id !== 'string')) throw invalid(from, 'expected an array of circuit ids')
  return value
}

/** Validates `createProver` options, filling gaps from the environment. Explicit options win. */
function resolveOptions(options = {}) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalid('options', 'expected an object')
  }
  const unknown = Object.keys(options).filter((k) => !KNOWN.includes(k))
  if (unknown.length) throw invalid(`options.${unknown[0]}`, `unknown option (known: ${KNOWN.join(', ')})`)
  const memory = pick(options, 'memoryLimit', 'PROVER_MEMORY_LIMIT', asNumber)
  if (memory.value !== undefined && !(typeof memory.value === 'number' && memory.value > 0 && Number.isFinite(memory.value))) {
    throw invalid(memory.from, `expected a positive number of MiB, got ${String(memory.value)}`)
  }
  const keyPaths = pick(options, 'circuitKeysPath', 'PROVER_CIRCUIT_KEYS_PATH', (raw) => raw.split(path.delimiter).filter(Boolean))
  return {
    circuitDirs: directories(keyPaths),
    params: paramsSources(options),
    keyCacheDir: keyCacheDir(pick(options, 'keyCachePath', 'PROVER_KEY_CACHE', (raw) => raw)),
    threads: positiveInteger(pick(options, 'threads', 'PROVER_THREADS', asNumber), 1024),
    maxConcurrent: positiveInteger(pick(options, 'maxConcurrent', 'PROVER_MAX_CONCURRENT', asNumber), 1024),
    maxQueue: nonNegativeInteger(pick(options, 'maxQueue', 'PROVER_MAX_QUEUE', asNumber), 2 ** 31 - 1),
    timeoutMs: positiveInteger(pick(options, 'timeoutMs', 'PROVER_TIMEOUT_MS', asNumber), 2 ** 31 - 1),
    memoryLimitBytes: memory.value === undefined ? undefined : Math.floor(memory.value * 1024 * 1024),
    preloadCircuits: circuitIds(pick(options, 'preloadCircuits', 'PROVER_PRELOAD_CIRCUITS', asList)),
  }
}

module.exports = { resolveOptions, paramsSources, invalid, positiveInteger, nonNegativeInteger, asList, asNumber }
