'use strict'

// Not part of fastify/forwarded: the test of the HTTP entry Maestro's service descriptor needs (server.js).
const test = require('node:test')
const server = require('../server')

test('answers with the addresses of X-Forwarded-For, nearest first', async function (t) {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => server.close())
  const response = await fetch(`http://127.0.0.1:${server.address().port}/`, {
    headers: { 'x-forwarded-for': '203.0.113.7, 198.51.100.2' }
  })
  t.assert.deepStrictEqual(await response.json(), { addresses: ['127.0.0.1', '198.51.100.2', '203.0.113.7'] })
})
