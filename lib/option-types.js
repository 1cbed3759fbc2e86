'use strict'
// The kinds of value an option can hold (lib/option-table.js gives each option one): how the
// text of its environment variable or `serve` flag is read (`read`), what value is valid and
// what it becomes (`check`, which throws INVALID_OPTIONS naming where the value came from), and
// its TypeScript type in index.d.ts (`ts`).
const fs = require('node:fs')
const path = require('node:path')
const { ProverError } = require('./errors')

function invalid(name, message) {
  return new ProverError('INVALID_OPTIONS', `${name}: ${message}`)
}

const asList = (raw) => raw.split(',').map((s) => s.trim()).filter(Boolean)
const asNumber = (raw) => Number(raw.trim())
const asText = (raw) => raw

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

/** An integer from `min` (0 or 1) to `max`. */
const integer = (min, max) => ({
  ts: 'number',
  read: asNumber,
  check: (given) => (min === 0 ? nonNegativeInteger : positiveInteger)(given, max),
})

/** A positive number of MiB, as bytes. */
const mebibytes = {
  ts: 'number',
  read: asNumber,
  check({ value, from }) {
    if (!(typeof value === 'number' && value > 0 && Number.isFinite(value))) throw invalid(from, `expected a positive number of MiB, got ${String(value)}`)
    return Math.floor(value * 1024 * 1024)
  },
}

/** One directory path or several (need not exist yet), as absolute paths. */
const directories = {
  ts: 'string | string[]',
  read: asText,
  check({ value, from }) {
    const list = typeof value === 'string' ? [value] : value
    if (!Array.isArray(list) || list.some((p) => typeof p !== 'string' || p === '')) {
      throw invalid(from, 'expected a directory path or an array of them')
    }
    return list.map((p) => path.resolve(p))
  },
}

/** Directories that must exist; their variable joins several with the path delimiter (`:`). */
const existingDirectories = {
  ts: 'string | string[]',
  read: (raw) => raw.split(path.delimiter).filter(Boolean),
  check(given) {
    return directories.check(given).map((abs) => {
      let stat
      try {
        stat = fs.statSync(abs)
      } catch {
        throw invalid(given.from, `${abs} does not exist`)
      }
      if (!stat.isDirectory()) throw invalid(given.from, `${abs} is not a directory`)
      return abs
    })
  },
}

/** One directory path, as an absolute path. */
const directory = {
  ts: 'string',
  read: asText,
  check({ value, from }) {
    if (typeof value !== 'string' || value === '') throw invalid(from, 'expected a directory path')
    return path.resolve(value)
  },
}

/** Circuit ids; their variable is a comma list. */
const circuitIds = {
  ts: 'string[]',
  read: asList,
  check({ value, from }) {
    if (!Array.isArray(value) || value.some((id) => typeof id !== 'string')) throw invalid(from, 'expected an array of circuit ids')
    return value
  },
}

/** An http(s) URL. */
const httpUrl = {
  ts: 'string',
  read: asText,
  check({ value, from }) {
    if (!(typeof value === 'string' && /^https?:\/\/\S+$/.test(value))) throw invalid(from, `expected an http(s) URL, got ${String(value)}`)
    return value
  },
}

/** A boolean; its variable is true when `1` or `true`. */
const boolean = {
  ts: 'boolean',
  read: (raw) => raw === '1' || raw === 'true',
  check({ value, from }) {
    if (typeof value !== 'boolean') throw invalid(from, 'expected a boolean')
    return value
  },
}

module.exports = {
  invalid,
  asList,
  asNumber,
  positiveInteger,
  nonNegativeInteger,
  integer,
  mebibytes,
  directories,
  existingDirectories,
  directory,
  circuitIds,
  httpUrl,
  boolean,
}
