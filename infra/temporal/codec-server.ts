/**
 * The codec endpoint for the Temporal Web UI (Temporal's remote codec protocol): POST /decode and
 * /encode with `{"payloads":[{"metadata":{k: base64}, "data": base64}]}`, answered in the same shape.
 * The UI calls it from the browser, so it answers CORS for the UI's origins only; it listens on
 * loopback only, because whoever reaches it can decrypt.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { describeIssues } from '../../core/validation';

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** The namespace whose keys this is; a request for another one (X-Namespace) is refused. */
  namespace: string;
  /** Browser origins allowed to call it (the Web UI's). */
  allowedOrigins: readonly string[];
}

const MAX_BODY_BYTES = 32 << 20;
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64');
const bodySchema = z.object({
  payloads: z.array(z.object({ metadata: z.record(base64).default({}), data: base64.default('') })),
});

const toPayload = (p: z.infer<typeof bodySchema>['payloads'][number]): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data, 'base64'),
});
const fromPayload = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

export function createCodecServer(opts: CodecServerOptions): http.Server {
  return http.createServer((req, res) => {
    const origin = req.headers.origin;
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    };
    if (origin !== undefined) {
      if (!opts.allowedOrigins.includes(origin)) return send(403, { error: `origin ${origin} may not use this codec endpoint; allowed: ${opts.allowedOrigins.join(', ')}` });
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Vary', 'Origin');
    }
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
      res.setHeader('Access-Control-Max-Age', '600');
      return res.writeHead(204).end();
    }
    // The UI joins its configured endpoint and the operation, so a trailing '/' may double up.
    const operation = /^\/*(encode|decode)\/*(?:\?.*)?$/.exec(req.url ?? '/')?.[1];
    if (req.method !== 'POST' || !operation) return send(404, { error: 'POST /encode or /decode' });
    const namespace = req.headers['x-namespace'];
    if (namespace !== undefined && namespace !== opts.namespace) return send(403, { error: `this endpoint holds the keys of namespace '${opts.namespace}', not '${String(namespace)}'` });

    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) req.destroy();
      else chunks.push(chunk);
    });
    req.on('end', () => {
      void respond(Buffer.concat(chunks).toString('utf8'));
    });
    const respond = async (text: string) => {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return send(400, { error: 'the body is not JSON' });
      }
      const body = bodySchema.safeParse(json);
      if (!body.success) return send(400, { error: 'expected {"payloads":[{"metadata":{…},"data":"<base64>"}]}', issues: describeIssues(body.error) });
      try {
        const payloads = body.data.payloads.map(toPayload);
        const out = operation === 'encode' ? await opts.codec.encode(payloads) : await opts.codec.decode(payloads);
        send(200, { payloads: out.map(fromPayload) });
      } catch (err) {
        send(422, { error: `cannot ${operation}: ${(err as Error).message}` });
      }
    };
  });
}

/** Listens on loopback; resolves with the endpoint URL (port 0: any free port). */
export async function listenCodecServer(server: http.Server, port: number): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The origins of a Web UI on a loopback port, as a browser names them. */
export const webUiOrigins = (uiPort: number): string[] => [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`];
