import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The service's own view for Prometheus: requests by route and status code, and their durations. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

const requests = new Counter({
  name: 'greeter_http_requests_total',
  help: 'Requests answered, by route and status code',
  labelNames: ['route', 'code'] as const,
  registers: [registry],
});
const duration = new Histogram({
  name: 'greeter_http_request_duration_seconds',
  help: 'Time to answer a request, by route',
  labelNames: ['route'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  registers: [registry],
});

const KNOWN_ROUTES = new Set(['/greet', '/healthz']);

/**
 * Wraps the server's request handling: GET /metrics answers with the registry, every other request is
 * counted and timed when its response finishes. Unknown paths share one route label, so a scan of
 * random URLs cannot grow the series without bound.
 */
export function instrument(server: Server): void {
  const handlers = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/metrics' && req.method === 'GET') {
      void registry.metrics().then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text));
      return;
    }
    const route = KNOWN_ROUTES.has(path) ? path : 'other';
    const stop = duration.startTimer({ route });
    res.once('finish', () => {
      stop();
      requests.inc({ route, code: String(res.statusCode) });
    });
    for (const handler of handlers) handler.call(server, req, res);
  });
}
