import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleRequest } from '../src/app';

let server: Server;
let baseUrl: string;

before(async () => {
  server = createServer(handleRequest);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('GET /healthz answers ok', async () => {
  const response = await fetch(`${baseUrl}/healthz`);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { status: 'ok' });
});

test('GET /greet returns a JSON greeting', async () => {
  const response = await fetch(`${baseUrl}/greet?name=Ada`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /application\/json/);
  assert.deepEqual(await response.json(), { name: 'Ada', message: 'Hello, Ada!' });
});

test('GET /greet with an invalid name is a 400', async () => {
  const response = await fetch(`${baseUrl}/greet?name=${encodeURIComponent('<b>')}`);
  assert.equal(response.status, 400);
});

test('the people routes check names first, then answer 503 while no database is configured', async () => {
  const post = (query: string) => fetch(`${baseUrl}/people${query}`, { method: 'POST' });
  assert.deepEqual(await (await post('')).json(), { error: 'name is required' });
  const invalid = await post(`?name=${encodeURIComponent('<b>')}`);
  assert.equal(invalid.status, 400);
  const stored = await post('?name=Ada');
  assert.equal(stored.status, 503);
  assert.deepEqual(await stored.json(), { error: 'no database configured (GREETER_DATABASE_URL)' });
  assert.equal((await fetch(`${baseUrl}/people/1`)).status, 503);
  assert.equal((await fetch(`${baseUrl}/people/x`)).status, 404);
  assert.equal((await fetch(`${baseUrl}/people/1`, { method: 'DELETE' })).status, 405);
});

test('unknown routes are 404 and other methods 405', async () => {
  assert.equal((await fetch(`${baseUrl}/nope`)).status, 404);
  assert.equal((await fetch(`${baseUrl}/greet`, { method: 'POST' })).status, 405);
});
