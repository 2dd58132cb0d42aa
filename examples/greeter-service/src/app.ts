import type { IncomingMessage, ServerResponse } from 'node:http';
import { greet } from './greeting';

/** Routes one request; kept apart from server.ts so tests can serve it on an ephemeral port. */
export function handleRequest(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'GET') return sendJson(res, 405, { error: 'method not allowed' });

  switch (url.pathname) {
    case '/healthz':
      return sendJson(res, 200, { status: 'ok' });
    case '/greet': {
      const outcome = greet(url.searchParams.get('name'));
      return outcome.ok ? sendJson(res, 200, outcome.greeting) : sendJson(res, 400, { error: outcome.error });
    }
    default:
      return sendJson(res, 404, { error: `no route for ${url.pathname}` });
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}
