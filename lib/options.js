'use strict'
// `createProver` options resolved from their table (lib/option-table.js): an explicit option
// wins, then its environment variable, then its default; and the NativeConfig handed to the
// binding, which only converts what it is given.
const { OPTIONS, OPTION } = require('./option-table')
const { invalid } = require('./option-types')

/** Explicit option, else its environment variable (read as its type reads text), else undefined. */
function pick(options, { name, env, type }) {
  if (options[name] !== undefined) return { value: options[name], from: `options.${name}` }
  const raw = process.env[env]
  if (raw === undefined || raw === '') return { value: undefined, from: env }
  return { value: type.read(raw), from: env }
}

/** Where an option's resolved value is kept: its NativeConfig field (`params.dirs`), or its own name. */
const placeOf = (option) => (option.native ?? option.name).split('.')

/** `config` with each of `options` resolved (checked, else defaulted) into its place. */
function resolveInto(config, given, options) {
  for (const option of options) {
    const picked = pick(given, option)
    const value = picked.value === undefined ? option.default?.() : option.type.check(picked)
    const [field, inner] = placeOf(option)
    if (inner === undefined) config[field] = value
    else (config[field] ??= {})[inner] = value
  }
  return config
}

const PARAMS_OPTIONS = OPTIONS.filter((option) => placeOf(option)[0] === 'params')

/**
 * Where parameters for k > 14 come from: directories, an optional source to fetch missing files
 * from (MIDNIGHT_PARAM_SOURCE, as the proof server), and whether unpinned files are accepted.
 */
function paramsSources(options) {
  return resolveInto({}, options, PARAMS_OPTIONS).params
}

/** Validates `createProver` options, filling gaps from the environment, then the defaults. Explicit options win. */
function resolveOptions(options = {}) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalid('options', 'expected an object')
  }
  const unknown = Object.keys(options).filter((k) => !OPTION.has(k))
  if (unknown.length) throw invalid(`options.${unknown[0]}`, `unknown option (known: ${[...OPTION.keys()].join(', ')})`)
  return resolveInto({}, options, OPTIONS)
}

/** The fields of the binding's NativeConfig, in the order of the table. */
const NATIVE_FIELDS = [...new Set(OPTIONS.filter((option) => option.native).map((option) => placeOf(option)[0]))]

/** What `new binding.NativeProver(…)` takes, from resolveOptions's result. */
function nativeConfig(config) {
  return Object.fromEntries(NATIVE_FIELDS.map((field) => [field, config[field]]))
}

module.exports = { resolveOptions, paramsSources, nativeConfig, NATIVE_FIELDS }
