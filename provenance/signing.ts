/** The local ed25519 signing key (node:crypto) and DSSE envelopes signed with it. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { canonicalJson, DSSE_PAYLOAD_TYPE, envelopeSchema, preAuthEncoding, statementSchema, type Envelope, type Statement } from '../core/provenance';
import { describeIssues } from '../core/validation';
import { STATE } from '../io/paths';

export const DEFAULT_KEY_DIR = STATE.keys;

export class ProvenanceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProvenanceError';
  }
}

export interface SigningKey {
  keyId: string;
  privateKey: crypto.KeyObject;
  publicKey: crypto.KeyObject;
}

/** sha256 of the public key's SPKI DER: names the key in envelopes. */
export function keyIdOf(publicKey: crypto.KeyObject): string {
  return `ed25519:${crypto.createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 32)}`;
}

/** Loads the key pair from `dir`, creating it on first use (private key file mode 0600). */
export function loadOrCreateSigningKey(dir = DEFAULT_KEY_DIR): SigningKey {
  const privFile = path.join(dir, 'provenance-ed25519.key');
  const pubFile = path.join(dir, 'provenance-ed25519.pub');
  if (!fs.existsSync(privFile)) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
    try {
      fs.writeFileSync(privFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
      fs.writeFileSync(pubFile, publicKey.export({ type: 'spki', format: 'pem' }));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // another process made it first: use theirs
    }
  }
  const privateKey = crypto.createPrivateKey(fs.readFileSync(privFile));
  const publicKey = crypto.createPublicKey(privateKey);
  if (!fs.existsSync(pubFile)) fs.writeFileSync(pubFile, publicKey.export({ type: 'spki', format: 'pem' }));
  return { keyId: keyIdOf(publicKey), privateKey, publicKey };
}

export function loadPublicKey(file: string): crypto.KeyObject {
  try {
    return crypto.createPublicKey(fs.readFileSync(file));
  } catch (err) {
    throw new ProvenanceError(`cannot read the public key ${file}: ${(err as Error).message}`);
  }
}

export function signStatement(statement: Statement, key: SigningKey): Envelope {
  const payload = Buffer.from(canonicalJson(statement), 'utf8');
  const sig = crypto.sign(null, preAuthEncoding(DSSE_PAYLOAD_TYPE, payload), key.privateKey);
  return { payloadType: DSSE_PAYLOAD_TYPE, payload: payload.toString('base64'), signatures: [{ keyid: key.keyId, sig: sig.toString('base64') }] };
}

/** Checks the envelope's shape and signature against `publicKey`; returns the statement it carries. */
export function verifyEnvelope(raw: unknown, publicKey: crypto.KeyObject, source = 'envelope'): Statement {
  const env = envelopeSchema.safeParse(raw);
  if (!env.success) throw new ProvenanceError(`${source} is not a DSSE envelope: ${describeIssues(env.error).map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`);
  const payload = Buffer.from(env.data.payload, 'base64');
  const keyId = keyIdOf(publicKey);
  const signature = env.data.signatures.find((s) => s.keyid === keyId);
  if (!signature) throw new ProvenanceError(`${source} is not signed by key ${keyId} (signed by ${env.data.signatures.map((s) => s.keyid || '(no keyid)').join(', ')})`);
  const ok = crypto.verify(null, preAuthEncoding(env.data.payloadType, payload), publicKey, Buffer.from(signature.sig, 'base64'));
  if (!ok) throw new ProvenanceError(`${source}: the signature does not match the payload (the statement was altered after signing, or signed by another key)`);
  let statement: unknown;
  try {
    statement = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new ProvenanceError(`${source}: the signed payload is not JSON`);
  }
  const parsed = statementSchema.safeParse(statement);
  if (!parsed.success) throw new ProvenanceError(`${source}: the signed payload is not an in-toto v1 SLSA provenance statement: ${describeIssues(parsed.error).map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
