'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { encodeWitness, fieldText } = require('../../lib/witness')

const invalidWitness = (pattern) => (err) => err.name === 'ProverError' && err.code === 'INVALID_WITNESS' && pattern.test(err.message)

test('fieldText: bigint, safe integer and string as the text the native side parses', () => {
  assert.equal(fieldText(123456789012345678901234567890n, 'x'), '123456789012345678901234567890')
  assert.equal(fieldText(-5n, 'x'), '-5')
  assert.equal(fieldText(42, 'x'), '42')
  assert.equal(fieldText(0, 'x'), '0')
  assert.equal(fieldText('0xff', 'x'), '0xff')
  assert.equal(fieldText('', 'x'), '') // strings pass as they are: the native side parses them
})

test('fieldText: unsafe numbers and non-field types are INVALID_WITNESS naming where', () => {
  assert.throws(() => fieldText(2 ** 53, 'inputs[3]'), invalidWitness(/^inputs\[3\]: 9007199254740992 is not a safe integer/))
  assert.throws(() => fieldText(1.5, 'b'), invalidWitness(/^b: 1.5 is not a safe integer/))
  assert.throws(() => fieldText(NaN, 'b'), invalidWitness(/NaN is not a safe integer/))
  assert.throws(() => fieldText(null, 'b'), invalidWitness(/^b: expected bigint, integer or string, got null$/))
  for (const [value, type] of [[undefined, 'undefined'], [true, 'boolean'], [{}, 'object'], [[1], 'object'], [Symbol('s'), 'symbol']]) {
    assert.throws(() => fieldText(value, 'b'), invalidWitness(new RegExp(`got ${type}$`)))
  }
})

test('encodeWitness: a Uint8Array (a serialized preimage) passes through as it is', () => {
  const bytes = new Uint8Array([1, 2, 3])
  assert.equal(encodeWitness(bytes), bytes)
  const buf = Buffer.from([4])
  assert.equal(encodeWitness(buf), buf)
})

test('encodeWitness: the JSON witness with every field element as a string, in a fixed order', () => {
  assert.equal(encodeWitness({ inputs: [1n, 2, '0x3'] }), '{"inputs":["1","2","0x3"]}')
  assert.equal(encodeWitness({ inputs: [] }), '{"inputs":[]}')
  const full = {
    communicationsCommitment: [7, 8n],
    bindingInput: 9n,
    publicTranscriptOutputs: [6],
    publicTranscriptInputs: [5],
    privateTranscript: [4n],
    inputs: [1],
  }
  assert.deepEqual(JSON.parse(encodeWitness(full)), {
    inputs: ['1'],
    privateTranscript: ['4'],
    publicTranscriptInputs: ['5'],
    publicTranscriptOutputs: ['6'],
    bindingInput: '9',
    communicationsCommitment: ['7', '8'],
  })
  assert.equal(encodeWitness({ inputs: [1], privateTranscript: undefined }), '{"inputs":["1"]}')
})

test('encodeWitness: every malformed witness is INVALID_WITNESS', () => {
  for (const bad of [null, undefined, 5, 'text', [], [1]]) {
    assert.throws(() => encodeWitness(bad), invalidWitness(/^witness must be an object/), String(bad))
  }
  assert.throws(() => encodeWitness({ inputs: [], extra: 1 }), invalidWitness(/^unknown witness field "extra" \(expected inputs, /))
  assert.throws(() => encodeWitness({}), invalidWitness(/^witness.inputs is required$/))
  assert.throws(() => encodeWitness({ inputs: '1' }), invalidWitness(/^witness.inputs must be an array$/))
  assert.throws(() => encodeWitness({ inputs: [1, null] }), invalidWitness(/^witness.inputs\[1\]: expected bigint/))
  assert.throws(() => encodeWitness({ inputs: [], privateTranscript: {} }), invalidWitness(/^witness.privateTranscript must be an array$/))
  assert.throws(() => encodeWitness({ inputs: [], bindingInput: 0.5 }), invalidWitness(/^witness.bindingInput: 0.5 is not a safe integer/))
  for (const pair of [[1], [1, 2, 3], 'ab', 1]) {
    assert.throws(() => encodeWitness({ inputs: [], communicationsCommitment: pair }), invalidWitness(/^witness.communicationsCommitment must be \[commitment, randomness\]$/))
  }
  assert.throws(() => encodeWitness({ inputs: [], communicationsCommitment: [1, 1.5] }), invalidWitness(/^witness.communicationsCommitment\[1\]:/))
})
