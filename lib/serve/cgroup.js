'use strict'
// The container's memory limit, so a `serve` in Docker/Kubernetes reports (and its admission
// metrics compare against) the limit the kernel will actually enforce.
const fs = require('node:fs')
const path = require('node:path')

/** Share of the cgroup limit given to proving; the rest is headroom for Node, V8 and HTTP buffers. */
const PROVING_SHARE = 0.85
/** cgroup v1 reports "no limit" as a page-rounded 2^63-1; anything this large means none. */
const UNLIMITED = 2 ** 60

const FILES = ['memory.max', path.join('memory', 'memory.limit_in_bytes'), 'memory.limit_in_bytes']

function readLimit(file) {
  let text
  try {
    text = fs.readFileSync(file, 'utf8').trim()
  } catch {
    return undefined
  }
  if (text === 'max') return null
  const bytes = Number(text)
  if (!Number.isFinite(bytes) || bytes <= 0) return undefined
  return bytes >= UNLIMITED ? null : bytes
}

/**
 * The cgroup memory limit in bytes: cgroup v2 `memory.max`, else v1 `memory.limit_in_bytes`;
 * `null` when the cgroup sets none ("max" or a huge value), `undefined` when no file is readable.
 */
function cgroupMemoryLimit(root = '/sys/fs/cgroup') {
  for (const name of FILES) {
    const limit = readLimit(path.join(root, name))
    if (limit !== undefined) return limit
  }
  return undefined
}

/** `memoryLimit` in MiB for createProver: PROVING_SHARE of the cgroup limit, or undefined. */
function derivedMemoryLimitMiB(root) {
  const limit = cgroupMemoryLimit(root)
  return limit ? Math.max(1, Math.floor((limit * PROVING_SHARE) / (1024 * 1024))) : undefined
}

module.exports = { cgroupMemoryLimit, derivedMemoryLimitMiB, PROVING_SHARE }
