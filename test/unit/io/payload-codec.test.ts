import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { defaultPayloadConverter } from '@temporalio/common';
import { codecKeysEnvSchema, EncryptionCodec, ENCRYPTED_ENCODING, loadKeyRing, loadOrCreateKeyFile, rotateKeyFile } from '../../../io/payload-codec';
import { statePaths } from '../../../io/paths';

const stateDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'maestro-codec-'));
const SECRET = 'AKIAIOSFODNN7EXAMPLE';
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('latin1');

test('the key file is created on first use with mode 0600 in a 0700 directory, and read back unchanged', () => {
  const dir = stateDir();
  const ring = loadKeyRing({ stateDir: dir });
  const file = statePaths(dir).codecKeys;
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
  expect(Buffer.from(ring.keys[ring.current]!, 'base64')).toHaveLength(32);
  expect(loadKeyRing({ stateDir: dir })).toEqual(ring);
});

test('a key file others can read is refused, naming the fix', () => {
  const dir = stateDir();
  loadKeyRing({ stateDir: dir });
  const file = statePaths(dir).codecKeys;
  fs.chmodSync(file, 0o644);
  expect(() => loadOrCreateKeyFile(file)).toThrow(`run: chmod 600 ${file}`);
});

test('MAESTRO_CODEC_KEYS is validated without echoing key material; the first key encrypts', () => {
  const key = Buffer.alloc(32, 7).toString('base64');
  expect(codecKeysEnvSchema.parse(`new:${key},old:${Buffer.alloc(32, 1).toString('base64')}`).current).toBe('new');
  const short = Buffer.alloc(16, 7).toString('base64');
  const bad = codecKeysEnvSchema.safeParse(`k1:${short}`);
  expect(bad.success).toBe(false);
  expect(JSON.stringify(bad.error!.issues)).not.toContain(short);
  expect(JSON.stringify(bad.error!.issues)).toContain('32 random bytes');
  expect(codecKeysEnvSchema.safeParse('bad id!:' + key).success).toBe(false);
});

test('encoded payloads are ciphertext that names the key; decode restores them exactly', async () => {
  const codec = new EncryptionCodec(loadKeyRing({ stateDir: stateDir() }));
  const payload = defaultPayloadConverter.toPayload({ change: { kind: 'patch', diff: `+const key = '${SECRET}';` } });
  const [encoded] = await codec.encode([payload]);
  expect(text(encoded!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
  expect(text(encoded!.metadata!['encryption-key-id'])).toBe(codec.currentKeyId);
  expect(text(encoded!.data)).not.toContain(SECRET);
  expect(text(encoded!.data)).not.toContain('patch');
  const [decoded] = await codec.decode([encoded!]);
  expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual(defaultPayloadConverter.fromPayload(payload));
});

test('round trip for any JSON value; the same value encrypts differently each time', async () => {
  const codec = new EncryptionCodec(loadKeyRing({ stateDir: stateDir() }));
  await fc.assert(
    fc.asyncProperty(fc.jsonValue(), async (value) => {
      const payload = defaultPayloadConverter.toPayload(value);
      const [a, b] = await codec.encode([payload, payload]);
      expect(Buffer.compare(Buffer.from(a!.data!), Buffer.from(b!.data!))).not.toBe(0);
      const [back] = await codec.decode([a!]);
      expect(defaultPayloadConverter.fromPayload(back!)).toEqual(defaultPayloadConverter.fromPayload(payload));
    }),
    { numRuns: 50 },
  );
});

test('payloads recorded before the codec (not encrypted) pass through decode unchanged', async () => {
  const codec = new EncryptionCodec(loadKeyRing({ stateDir: stateDir() }));
  const plain = defaultPayloadConverter.toPayload({ id: 'old-train' });
  expect(await codec.decode([plain])).toEqual([plain]);
});

test('after a rotation new payloads use the new key and old ones still decode; a ring without the key says which is missing', async () => {
  const dir = stateDir();
  const file = statePaths(dir).codecKeys;
  const before = new EncryptionCodec(loadKeyRing({ stateDir: dir }));
  const [old] = await before.encode([defaultPayloadConverter.toPayload('before rotation')]);
  const rotated = rotateKeyFile(file);
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  expect(rotated.keys).toEqual([before.currentKeyId, rotated.current]);
  const after = new EncryptionCodec(loadKeyRing({ stateDir: dir }));
  const [fresh] = await after.encode([defaultPayloadConverter.toPayload('after rotation')]);
  expect(text(fresh!.metadata!['encryption-key-id'])).toBe(rotated.current);
  expect((await after.decode([old!, fresh!])).map((p) => defaultPayloadConverter.fromPayload(p))).toEqual(['before rotation', 'after rotation']);
  const stranger = new EncryptionCodec(loadKeyRing({ stateDir: stateDir() }));
  await expect(stranger.decode([old!])).rejects.toThrow(`encrypted with key '${before.currentKeyId}', which is not in the key ring`);
});

test('tampered ciphertext is refused (GCM authentication)', async () => {
  const codec = new EncryptionCodec(loadKeyRing({ stateDir: stateDir() }));
  const [encoded] = await codec.encode([defaultPayloadConverter.toPayload('x')]);
  const data = Buffer.from(encoded!.data!);
  data[14]! ^= 1;
  await expect(codec.decode([{ ...encoded!, data }])).rejects.toThrow();
});
