#!/usr/bin/env node
'use strict'
// midnight-native-prover CLI.
//   keygen <dir> [circuit...]   write <dir>/keys/<id>.prover|.verifier from <dir>/zkir (like `zkir compile-many`)
//   serve [flags]               the official proof server's HTTP protocol, this prover behind it (lib/serve)
//   dev-params <k> --out <dir>  UNSAFE development parameters bls_midnight_2p<k> for k = 15..20
const fs = require('node:fs')
const path = require('node:path')
const { keygen, devParams } = require('..')

const USAGE = `usage: midnight-native-prover keygen <compact-output-dir> [circuit...] [--params <dir>]
       midnight-native-prover serve [flags]   (serve --help lists them)
       midnight-native-prover dev-params <k> --out <dir> [--seed <text>]

  keygen   generate prover and verifier keys for every circuit in <dir>/zkir
           (or only the named ones) into <dir>/keys. k <= 14 needs no files;
           larger k needs bls_midnight_2p<k> in --params (default: $MIDNIGHT_PP,
           $XDG_CACHE_HOME/midnight/zk-params, ~/.cache/midnight/zk-params).

  dev-params
           UNSAFE: write development parameters <dir>/bls_midnight_2p<k> (k = 15..20),
           the same bytes for the same seed. Their secret follows from the seed: anyone
           can forge proofs against them. Provers accept them only with
           allowUnpinnedParams (PROVER_ALLOW_UNPINNED_PARAMS=1), and the ledger never does.`

/** Removes `--name value` from args; returns the value (undefined when absent). */
function takeFlag(args, name) {
  const at = args.indexOf(name)
  return at >= 0 ? args.splice(at, 2)[1] : undefined
}

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
  const paramsPath = takeFlag(args, '--params')
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

async function devParamsCommand(args) {
  const out = takeFlag(args, '--out')
  const seed = takeFlag(args, '--seed')
  const k = Number(args[0])
  if (args.length !== 1 || out === undefined) throw new Error(USAGE)
  console.log(`UNSAFE development parameters, k=${k}${seed === undefined ? '' : `, seed ${JSON.stringify(seed)}`}: never prove anything of value with them`)
  const started = performance.now()
  const file = await devParams(k, seed === undefined ? { out } : { out, seed })
  console.log(`  ${file} (UNSAFE) ${((performance.now() - started) / 1000).toFixed(2)} s`)
  return 0
}

/** Runs until SIGTERM/SIGINT, then stops accepting, finishes in-flight proofs and exits 0. */
async function serveCommand(args) {
  const { resolveServeConfig, USAGE: SERVE_USAGE } = require('../lib/serve/config')
  if (args.includes('--help') || args.includes('-h')) {
    console.log(SERVE_USAGE)
    return 0
  }
  const { makeServe } = require('../lib/serve/server')
  // serve is handed the addon's binding and the package's API over it, as index.js hands lib/api.js the binding.
  const { startServer } = makeServe(require('../binding.js'), require('..'))
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
  if (command === 'dev-params') return devParamsCommand(args)
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
