'use strict'

/** A plain Uint8Array view of a Buffer from the binding (no copy), as the public API returns bytes. */
const asBytes = (buf) => new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)

module.exports = { asBytes }
