'use strict'
// Proving speed of two (or more) builds of the addon in one run, e.g. blst's `portable` build
// (runtime CPU detection, what the prebuilt packages ship) against the default build (ISA chosen
// from the build host):
//
//   node bench/portable.js A.node B.node [--rounds 4] [--proofs 3]
//
// Each round runs one child process per build, in alternating order, and each child proves
// bench_k13 (a synthetic k=13 circuit) and midnight/zswap/sign (the ledger's k=13 circuit, from a
// preimage built with the official ledger client) --proofs times after a warm-up proof. The loader
// is pointed at each file with NAPI_RS_NATIVE_LIBRARY_PATH. Prints the median wall time and the
// median CPU time (user + system, all threads) per build and circuit; on a machine shared with
// other work the CPU time is the steadier of the two.
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const root = path.join(__dirname, '..')

async function child() {
  const { createProver, keygen } = require(root)
  const { buildSignPreimage } = require(path.join(root, '__test__', 'support', 'ledger.js'))
  const [dir, n] = [process.env.BENCH_DIR, Number(process.env.BENCH_PROOFS)]
  const circuits = path.join(root, '__test__', 'circuits')
  if (!fs.existsSync(path.join(dir, 'keys', 'bench_k13.prover'))) {
    const keys = await keygen(fs.readFileSync(path.join(circuits, 'bench_k13.zkir'), 'utf8'))
    fs.mkdirSync(path.join(dir, 'keys'), { recursive: true })
    fs.mkdirSync(path.join(dir, 'zkir'), { recursive: true })
    fs.writeFileSync(path.join(dir, 'keys', 'bench_k13.verifier'), keys.verifierKey)
    fs.writeFileSync(path.join(dir, 'keys', 'bench_k13.prover'), keys.proverKey)
    fs.copyFileSync(path.join(circuits, 'bench_k13.zkir'), path.join(dir, 'zkir', 'bench_k13.zkir'))
  }
  const prover = await createProver({ circuitKeysPath: dir, keyCachePath: path.join(dir, 'cache'), preloadCircuits: ['bench_k13'] })
  const witness = JSON.parse(fs.readFileSync(path.join(circuits, 'bench_k13.witness.json'), 'utf8'))
  const sign = buildSignPreimage(Buffer.alloc(32, 7)).preimage
  const jobs = { bench_k13: () => prover.prove('bench_k13', witness), 'zswap/sign': () => prover.prove('midnight/zswap/sign', sign) }
  const out = {}
  for (const [id, prove] of Object.entries(jobs)) {
    await prove() // warm-up (and the sign key's derivation on the first run)
    out[id] = []
    for (let i = 0; i < n; i++) {
      const [t0, c0] = [performance.now(), process.cpuUsage()]
      await prove()
      const c = process.cpuUsage(c0)
      out[id].push({ wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 })
    }
  }
  await prover.close()
  process.stdout.write(JSON.stringify(out))
}

function parent() {
  const args = process.argv.slice(2)
  const opt = (name, dflt) => {
    const i = args.indexOf(name)
    return i >= 0 ? Number(args.splice(i, 2)[1]) : dflt
  }
  const rounds = opt('--rounds', 4)
  const proofs = opt('--proofs', 3)
  const builds = args.map((f) => path.resolve(f))
  if (builds.length < 1) throw new Error('usage: node bench/portable.js A.node [B.node ...] [--rounds N] [--proofs N]')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mnp-bench-portable-'))
  const times = builds.map(() => ({}))
  for (let r = 0; r < rounds; r++) {
    const order = builds.map((_, i) => i)
    if (r % 2) order.reverse()
    for (const i of order) {
      const env = { ...process.env, NAPI_RS_NATIVE_LIBRARY_PATH: builds[i], BENCH_DIR: dir, BENCH_PROOFS: String(proofs), BENCH_CHILD: '1' }
      const res = JSON.parse(execFileSync(process.execPath, [__filename], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }))
      for (const [id, ms] of Object.entries(res)) (times[i][id] ??= []).push(...ms)
      const show = (ms, k) => ms.map((x) => x[k].toFixed(0)).join('/')
      console.error(`round ${r + 1}/${rounds} ${path.basename(builds[i])}: ${Object.entries(res).map(([id, ms]) => `${id} wall ${show(ms, 'wall')} cpu ${show(ms, 'cpu')} ms`).join(', ')}`)
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  console.log(`${os.cpus()[0].model}, ${os.cpus().length} CPUs; ${rounds} rounds x ${proofs} proofs per circuit and build (median ms)`)
  console.log(['build', ...Object.keys(times[0]).flatMap((id) => [`${id} wall`, `${id} cpu`])].join('\t'))
  builds.forEach((b, i) => console.log([path.basename(b), ...Object.values(times[i]).flatMap((xs) => [median(xs.map((x) => x.wall)), median(xs.map((x) => x.cpu))].map((v) => v.toFixed(0)))].join('\t')))
  fs.rmSync(dir, { recursive: true, force: true })
}

if (process.env.BENCH_CHILD) {
  child().catch((err) => {
    console.error(err)
    process.exit(1)
  })
} else {
  parent()
}
