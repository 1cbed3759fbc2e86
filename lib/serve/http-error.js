'use strict'
// An answer decided by the HTTP layer itself (not an engine error code): its status, its text
// body exactly as given, and any headers it needs.

class HttpError extends Error {
  constructor(status, message, headers = {}) {
    super(message)
    this.name = 'HttpError'
    this.status = status
    this.headers = headers
  }
}

module.exports = { HttpError }
