'use strict'

// Not part of fastify/forwarded (a library): Maestro's service descriptor needs an HTTP entry to run.
// It answers every request with the addresses forwarded(req) reads.
const http = require('node:http')
const forwarded = require('.')

const server = http.createServer(function (req, res) {
  if (req.url === '/healthz') {
    res.end('ok')
    return
  }
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify({ addresses: forwarded(req) }))
})

if (require.main === module) server.listen(Number(process.env.PORT || 8080), '127.0.0.1')

module.exports = server
