import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type http from 'node:http';
import { defaultPayloadConverter } from '@temporalio/common';
import { createCodecServer, listenCodecServer, webUiOrigins } from '../../../../infra/temporal/codec-server';
import { EncryptionCodec, ENCRYPTED_ENCODING, loadKeyRing } from '../../../../io/payload-codec';

const UI = 'http://127.0.0.1:8233';
const codec = new EncryptionCodec(loadKeyRing({ stateDir: fs.mkdtempSync(path.join(os.tmpdir(), 'maestro-codec-server-')) }));
let server: http.Server;
let url: string;

beforeAll(async () => {
  server = createCodecServer({ codec, namespace: 'default', allowedOrigins: webUiOrigins(8233) });
  url = await listenCodecServer(server, 0);
});
afterAll(() => new Promise((r) => server.close(r)));

const wire = (value: unknown) => {
  const p = defaultPayloadConverter.toPayload(value);
  return { metadata: Object.fromEntries(Object.entries(p.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])), data: Buffer.from(p.data!).toString('base64') };
};
const unwire = (p: { metadata: Record<string, string>; data: string }) =>
  defaultPayloadConverter.fromPayload({ metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])), data: Buffer.from(p.data, 'base64') });
const post = (op: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}/${op}`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', Origin: UI, ...headers }, body: JSON.stringify(body) });

test('encode then decode over HTTP gives back the payloads; what /encode returns is ciphertext', async () => {
  const input = [wire({ change: { kind: 'patch', diff: '+AKIAIOSFODNN7EXAMPLE' } }), wire('second')];
  const encoded = await post('encode', { payloads: input });
  expect(encoded.status).toBe(200);
  expect(encoded.headers.get('access-control-allow-origin')).toBe(UI);
  const { payloads } = (await encoded.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
  expect(payloads.map((p) => Buffer.from(p.metadata.encoding!, 'base64').toString())).toEqual([ENCRYPTED_ENCODING, ENCRYPTED_ENCODING]);
  expect(Buffer.from(payloads[0]!.data, 'base64').toString('latin1')).not.toContain('AKIA');
  // The UI joins endpoint and operation, so a doubled '/' must work too.
  const decoded = await fetch(`${url}//decode`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default' }, body: JSON.stringify({ payloads }) });
  expect(decoded.status).toBe(200);
  const back = (await decoded.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
  expect(back.payloads.map(unwire)).toEqual([{ change: { kind: 'patch', diff: '+AKIAIOSFODNN7EXAMPLE' } }, 'second']);
});

test('payloads that were never encrypted decode as they are', async () => {
  const res = await post('decode', { payloads: [wire({ old: true })] });
  expect(((await res.json()) as { payloads: never[] }).payloads.map(unwire)).toEqual([{ old: true }]);
});

test("the Web UI's preflight is answered for its origins, with the headers it sends", async () => {
  for (const origin of webUiOrigins(8233)) {
    const res = await fetch(`${url}/decode`, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-namespace' } });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    expect(res.headers.get('access-control-allow-headers')).toMatch(/X-Namespace/);
    expect(res.headers.get('access-control-allow-methods')).toMatch(/POST/);
  }
});

test('another origin, another namespace, a bad body and an unknown path are refused, saying why', async () => {
  const evil = await post('decode', { payloads: [] }, { Origin: 'http://evil.example' });
  expect(evil.status).toBe(403);
  expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  const otherNs = await post('decode', { payloads: [] }, { 'X-Namespace': 'prod' });
  expect(otherNs.status).toBe(403);
  expect(await otherNs.text()).toMatch(/namespace 'default', not 'prod'/);
  const bad = await post('decode', { payloads: [{ data: 'not base64!' }] });
  expect(bad.status).toBe(400);
  expect(await bad.text()).toMatch(/payloads\.0\.data/);
  expect((await post('anything', { payloads: [] })).status).toBe(404);
});

test('a payload encrypted with a key the endpoint does not hold is a 422 naming the key', async () => {
  const other = new EncryptionCodec(loadKeyRing({ stateDir: fs.mkdtempSync(path.join(os.tmpdir(), 'maestro-codec-other-')) }));
  const [foreign] = await other.encode([defaultPayloadConverter.toPayload('x')]);
  const body = { payloads: [{ metadata: Object.fromEntries(Object.entries(foreign!.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])), data: Buffer.from(foreign!.data!).toString('base64') }] };
  const res = await post('decode', body);
  expect(res.status).toBe(422);
  expect(await res.text()).toContain(other.currentKeyId);
});
