/**
 * Every payload Maestro puts into Temporal (workflow and activity inputs and results, signals, queries,
 * memos) is encrypted before it leaves the process: AES-256-GCM,
 * the key id in each payload's metadata so that keys can rotate. The one way to build a data converter
 * and a Temporal client: the worker, the CLI, the codec endpoint for the Web UI and the tests use it.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { type DataConverter, type Duration, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { z } from 'zod';
import { InvalidInputError } from '../core/errors';
import { parseOrThrow } from '../core/validation';
import { statePaths } from './paths';
import { tracingClientInterceptors } from './tracing';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const CIPHER = 'encryption-cipher';
const AES = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const keyIdSchema = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'a key id: letters, digits and . _ -, at most 64');
const keyMaterialSchema = z
  .string()
  .refine((k) => /^[A-Za-z0-9+/]+={0,2}$/.test(k) && Buffer.from(k, 'base64').length === 32, 'base64 of 32 random bytes (an AES-256 key)');

/** Every key that may decrypt; `current` encrypts. Old keys stay until nothing they encrypted is still needed. */
export const keyRingSchema = z
  .object({ current: keyIdSchema, keys: z.record(keyIdSchema, keyMaterialSchema) })
  .strict()
  .refine((ring) => Object.hasOwn(ring.keys, ring.current), { message: "'current' must name one of 'keys'", path: ['current'] });
export type KeyRing = z.infer<typeof keyRingSchema>;

/** MAESTRO_CODEC_KEYS: `id:base64key[,id:base64key…]`; the first encrypts, all decrypt. */
export const codecKeysEnvSchema = z
  .string()
  .transform((value) => {
    const pairs = value.split(',').map((pair) => pair.trim().split(':'));
    return { current: pairs[0]?.[0] ?? '', keys: Object.fromEntries(pairs.map(([id, key]) => [id ?? '', key ?? ''])) };
  })
  .pipe(keyRingSchema);

/** Where the keys come from: MAESTRO_CODEC_KEYS when set, else the key file under the state dir (created on first use). */
export interface CodecSettings {
  stateDir: string;
  keys?: KeyRing;
}

export function loadKeyRing(settings: CodecSettings): KeyRing {
  return settings.keys ?? loadOrCreateKeyFile(statePaths(settings.stateDir).codecKeys);
}

const newKey = (): [string, string] => [`k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(4).toString('hex')}`, randomBytes(32).toString('base64')];

/** Reads the key file, creating it (0600, in a 0700 directory) when missing; refuses one that others can read. */
export function loadOrCreateKeyFile(file: string): KeyRing {
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const [id, key] = newKey();
    try {
      // 'wx': a worker and a CLI starting at once must end up with the same key, not one each.
      fs.writeFileSync(file, JSON.stringify({ current: id, keys: { [id]: key } }, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const mode = fs.statSync(file).mode & 0o777;
  if (mode & 0o077) throw new InvalidInputError(`${file} holds the payload encryption keys but its mode is ${mode.toString(8)}; run: chmod 600 ${file}`);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InvalidInputError(`${file} is not JSON (${(err as Error).message}); restore it from a backup (payloads encrypted with its keys cannot be read without it)`);
  }
  return parseOrThrow(keyRingSchema, raw, `payload codec key file ${file}`);
}

/** Adds a new current key to the key file; the old ones stay so that histories encrypted with them still decode. */
export function rotateKeyFile(file: string): { current: string; keys: string[] } {
  const ring = loadOrCreateKeyFile(file);
  const [id, key] = newKey();
  const next: KeyRing = { current: id, keys: { ...ring.keys, [id]: key } };
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(next, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
  return { current: id, keys: Object.keys(next.keys) };
}

/**
 * The codec. Payloads without the encrypted encoding pass through decode unchanged: histories recorded
 * before the codec existed (test/replay) still replay and read.
 */
export class EncryptionCodec implements PayloadCodec {
  private readonly keys: Map<string, Buffer>;
  constructor(private readonly ring: KeyRing) {
    this.keys = new Map(Object.entries(ring.keys).map(([id, key]) => [id, Buffer.from(key, 'base64')]));
  }

  get currentKeyId(): string {
    return this.ring.current;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.keys.get(this.ring.current)!;
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(AES, key, iv);
      const sealed = Buffer.concat([cipher.update(temporal.api.common.v1.Payload.encode(payload).finish()), cipher.final()]);
      return {
        metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID]: Buffer.from(this.ring.current), [CIPHER]: Buffer.from(AES) },
        data: Buffer.concat([iv, sealed, cipher.getAuthTag()]),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (Buffer.from(payload.metadata?.encoding ?? []).toString() !== ENCRYPTED_ENCODING) return payload;
      const id = Buffer.from(payload.metadata?.[KEY_ID] ?? []).toString();
      const key = this.keys.get(id);
      if (!key) throw new InvalidInputError(`a payload is encrypted with key '${id}', which is not in the key ring (${[...this.keys.keys()].join(', ')})`);
      const data = Buffer.from(payload.data ?? []);
      const decipher = createDecipheriv(AES, key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}

/**
 * What workers and clients pass as `dataConverter`. Failure messages stay readable in history: the code
 * that writes them never puts inputs (patches) in them.
 */
export function maestroDataConverter(codec: PayloadCodec): DataConverter {
  return { payloadCodecs: [codec] };
}

export interface ClientSettings {
  address: string;
  namespace: string;
  codec: PayloadCodec;
  connectTimeout?: Duration;
}

/** The one way to a Temporal client: every client Maestro creates encrypts what it sends and decrypts what it reads. */
export async function connectTemporalClient(settings: ClientSettings): Promise<Client> {
  const connection = await Connection.connect({ address: settings.address, connectTimeout: settings.connectTimeout ?? '3s' });
  // With tracing on in this process (io/tracing.ts), each call is a span whose context the workflow continues.
  const interceptors = await tracingClientInterceptors();
  return new Client({ connection, namespace: settings.namespace, dataConverter: maestroDataConverter(settings.codec), ...(interceptors ? { interceptors } : {}) });
}

/** Whether a workflow still runs, asked of Temporal; false when Temporal has never heard of it. */
export async function isWorkflowRunning(client: Client, workflowId: string): Promise<boolean> {
  try {
    return (await client.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}
