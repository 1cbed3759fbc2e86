#!/usr/bin/env node
'use strict'
// midnight-native-prover CLI.
//   keygen <dir> [circuit...]   write <dir>/keys/<id>.prover|.verifier from <dir>/zkir (like `zkir compile-many`)
//   serve [flags]               the official proof server's HTTP protocol, this prover behind it (lib/serve)
const fs = require('node:fs')
const path = require('node:path')
const { keygen } = require('..')

const USAGE = `usage: midnight-native-prover keygen <compact-output-dir> [circuit...] [--params <dir>]
       midnight-native-prover serve [flags]   (serve --help lists them)

  keygen   generate prover and verifier keys for every circuit in <dir>/zkir
           (or only the named ones) into <dir>/keys. k <= 14 needs no files;
           larger k needs bls_midnight_2p<k> in --params (default: $MIDNIGHT_PP,
           $XDG_CACHE_HOME/midnight/zk-params, ~/.cache/midnight/zk-params).`

/** Circuit ids in a zkir/ directory; a .bzkir is preferred over the .zkir of the same id. */
function circuitSources(zkirDir) {
  const byId = new Map()
  for (const name of fs.readdirSync(zkirDir).sort()) {
    const m = /^(.*)\.(b?zkir)$/.exec(name)
    if (m && (m[2] === 'bzkir' || !byId.has(m[1]))) byId.set(m[1], path.join(zkirDir, name))
  }
  return byId
}

async function keygenCommand(args) {
  const paramsAt = args.indexOf('--params')
  const paramsPath = paramsAt >= 0 ? args.splice(paramsAt, 2)[1] : undefined
  const [dir, ...only] = args
  if (!dir) throw new Error(USAGE)
  const sources = circuitSources(path.join(dir, 'zkir'))
  const ids = only.length ? only : [...sources.keys()]
  fs.mkdirSync(path.join(dir, 'keys'), { recursive: true })
  let failed = 0
  for (const id of ids) {
    const source = sources.get(id)
    if (!source) {
      console.error(`  ${id}: no zkir/${id}.bzkir or .zkir`)
      failed++
      continue
    }
    const started = performance.now()
    try {
      const keys = await keygen(fs.readFileSync(source), paramsPath === undefined ? {} : { paramsPath })
      fs.writeFileSync(path.join(dir, 'keys', `${id}.prover`), keys.proverKey)
      fs.writeFileSync(path.join(dir, 'keys', `${id}.verifier`), keys.verifierKey)
      console.log(`  ${id} (k=${keys.k}) ${((performance.now() - started) / 1000).toFixed(2)} s`)
    } catch (err) {
      console.error(`  ${id}: ${err.code ?? 'ERROR'} ${err.message}`)
      failed++
    }
  }
  console.log(`${ids.length - failed} of ${ids.length} circuits written to ${path.join(dir, 'keys')}`)
  return failed ? 1 : 0
}

/** Runs until SIGTERM/SIGINT, then stops accepting, finishes in-flight proofs and exits 0. */
async function serveCommand(args) {
  const { resolveServeConfig, USAGE: SERVE_USAGE } = require('../lib/serve/config')
  if (args.includes('--help') || args.includes('-h')) {
    console.log(SERVE_USAGE)
    return 0
  }
  const { startServer } = require('../lib/serve/server')
  const config = resolveServeConfig(args)
  const server = await startServer(config)
  console.log(`midnight-native-prover serve listening on ${server.url}${config.apiKey ? ' (API key required)' : ''}`)
  return new Promise((resolve) => {
    const stop = (signal) => {
      console.log(`${signal}: no new requests; finishing in-flight proofs`)
      server.close().then(() => resolve(0), (err) => {
        console.error(err.message)
        resolve(1)
      })
    }
    process.once('SIGTERM', stop)
    process.once('SIGINT', stop)
  })
}

async function main(argv) {
  const [command, ...args] = argv
  if (command === 'keygen') return keygenCommand(args)
  if (command === 'serve') return serveCommand(args)
  console.error(USAGE)
  return command === undefined || command === '--help' ? 0 : 2
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err.message)
    process.exit(2)
  },
)
