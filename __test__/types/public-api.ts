// Compiled by __test__/types.test.js with `tsc --noEmit --strict`: the public types must stay
// what index.d.ts documents, and the shapes it re-exports must be the generated ones.
import {
  createProver,
  keygen,
  params,
  type GeneratedKeys,
  type ProofEvent,
  type ProofResult,
  type ProverErrorCode,
  type ProverStatus,
} from '../../index'
import type * as generated from '../../binding'
import type { ProvingProvider as LedgerV8Provider } from '@midnight-ntwrk/ledger-v8'
import type { ProvingProvider as LedgerV9Provider } from '@midnightntwrk/ledger-v9'

/** true only when A and B are assignable both ways. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false

const statusIsGenerated: Same<ProverStatus, generated.ProverStatus> = true
const resultIsGenerated: Same<ProofResult, generated.ProofResult> = true
const keysAreGenerated: Same<GeneratedKeys, generated.GeneratedKeys> = true

// The hand-written event is what index.js makes of the native one: the same fields, with the
// error as a ProverError instead of its code and message.
type EventFields = Pick<generated.NativeProofEvent, 'proofId' | 'circuitId' | 'waitedMs'>
const eventFields: Same<Pick<Required<ProofEvent>, keyof EventFields>, EventFields> = true

async function shapes(): Promise<void> {
  const prover = await createProver({ threads: 1 })
  const status = await prover.getStatus()
  const limit: number | null = status.memory.limitBytes
  const budgetLimit: number | null = status.memory.budget.limitBytes
  const waiting: { circuitId: string; bytes: number }[] = status.memory.budget.waiting
  const tables: number = status.msm.tables
  const evicted: number = status.cache.evicted
  const queued: number = status.tasks.queued
  const loaded: string[] = status.loadedCircuits

  // What Transaction.prove takes in ledger v8 and in ledger v9 (which adds lookupKey).
  const forV8: LedgerV8Provider = prover.asProvingProvider()
  const forV9: LedgerV9Provider = prover.asProvingProvider()
  const material = await forV9.lookupKey('midnight/zswap/output')
  const verifierKey: Uint8Array | undefined = material?.verifierKey

  const result = await prover.prove('c', new Uint8Array(), { timeoutMs: 10, signal: AbortSignal.timeout(5) })
  const proof: Uint8Array = result.proof
  const inputs: bigint[] = result.publicInputs
  const ok: boolean = await prover.verify('c', proof, inputs)

  const keys = await keygen('{}')
  const proverKey: Uint8Array = keys.proverKey
  const file: Uint8Array = params(10)

  const code: ProverErrorCode = 'MEMORY_LIMIT_EXCEEDED'
  // @ts-expect-error: not a code the addon defines
  const notACode: ProverErrorCode = 'INTERNAL'
  // @ts-expect-error: a status has no such field
  status.memory.unknownField
  void [limit, budgetLimit, waiting, tables, evicted, queued, loaded, ok, proverKey, file, code, notACode]
}

void [statusIsGenerated, resultIsGenerated, keysAreGenerated, eventFields, shapes]
