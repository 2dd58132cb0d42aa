/**
 * The weighted proxy's backends named elsewhere than they are served (the local gateway's Services): series
 * labelled by the backend's URL, requests to its endpoints in turn, endpoints replaced without a new window,
 * and a backend without endpoints answering 503 that counts against it. Real loopback servers on 127/8.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WeightedProxy } from '../../../delivery/proxy';

const servers: http.Server[] = [];
let proxy: WeightedProxy | undefined;

/** A server on `host` that answers with its own address, so a test sees which endpoint served. */
async function endpoint(host: string): Promise<string> {
  const server = http.createServer((_req, res) => res.writeHead(200).end(host));
  await new Promise<void>((r) => server.listen(0, host, r));
  servers.push(server);
  return `http://${host}:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  await proxy?.stop();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

const STABLE = 'http://greeter-aaaaaaaaaaaa.apps.svc.cluster.local:8080';
const CANARY = 'http://greeter-bbbbbbbbbbbb.apps.svc.cluster.local:8080';

test('a backend is labelled by its URL and served by its endpoints in turn; replaced endpoints keep its series', async () => {
  const [one, two, three] = await Promise.all([endpoint('127.0.0.21'), endpoint('127.0.0.22'), endpoint('127.0.0.23')]);
  proxy = new WeightedProxy({});
  const state = await proxy.start();
  proxy.setUpstreams({ stable: { url: STABLE, endpoints: [one!, two!] } });
  const bodies = [];
  for (let i = 0; i < 4; i++) bodies.push(await (await fetch(`${state.publicUrl}/`)).text());
  expect(bodies).toEqual(['127.0.0.21', '127.0.0.22', '127.0.0.21', '127.0.0.22']);
  expect(proxy.state().stable).toBe(STABLE);

  proxy.setUpstreams({ stable: { url: STABLE, endpoints: [three!] } });
  expect(await (await fetch(`${state.publicUrl}/`)).text()).toBe('127.0.0.23');
  expect(proxy.metrics(false).stable.requests).toBe(5); // the same backend: one window
  const metrics = await (await fetch(`${state.adminUrl}/metrics`)).text();
  expect(metrics).toContain(`maestro_proxy_requests_total{role="stable",upstream="greeter-aaaaaaaaaaaa.apps.svc.cluster.local:8080",code="200"} 5`);
});

test('a backend without a ready endpoint answers 503 for its share, counted as its error', async () => {
  const stable = await endpoint('127.0.0.24');
  proxy = new WeightedProxy({});
  const state = await proxy.start();
  proxy.setUpstreams({ stable: { url: STABLE, endpoints: [stable] }, canary: { url: CANARY, endpoints: [] } });
  proxy.setWeight(50);
  const codes = [];
  for (let i = 0; i < 4; i++) codes.push((await fetch(`${state.publicUrl}/`)).status);
  expect(codes.sort()).toEqual([200, 200, 503, 503]);
  expect(proxy.metrics(false).canary).toMatchObject({ requests: 2, errors: 2 });
  expect(await (await fetch(`${state.adminUrl}/metrics`)).text()).toContain(`maestro_proxy_requests_total{role="canary",upstream="greeter-bbbbbbbbbbbb.apps.svc.cluster.local:8080",code="503"} 2`);
});

test('endpoints must be loopback: a backend served off this host is refused', () => {
  proxy = new WeightedProxy({});
  expect(() => proxy!.setUpstreams({ stable: { url: STABLE, endpoints: ['http://10.0.0.5:8080'] } })).toThrow(/loopback only/);
});

test("an idle upstream connection is closed by the proxy before the upstream's announced keep-alive timeout, so it is never reused as the upstream closes it", async () => {
  // Node servers announce `Keep-Alive: timeout=<s>`; 3 s here. A reused socket the upstream is closing answers ECONNRESET: a 502.
  const server = http.createServer((_req, res) => res.writeHead(200).end('ok'));
  server.keepAliveTimeout = 3_000;
  const closedByProxyAfterMs: number[] = [];
  server.on('connection', (socket) => {
    let lastResponseAt = 0;
    socket.on('data', () => setImmediate(() => (lastResponseAt = performance.now())));
    socket.on('end', () => closedByProxyAfterMs.push(performance.now() - lastResponseAt)); // the proxy's FIN
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.25', r));
  servers.push(server);
  proxy = new WeightedProxy({});
  const state = await proxy.start();
  proxy.setUpstreams({ stable: { url: STABLE, endpoints: [`http://127.0.0.25:${(server.address() as AddressInfo).port}`] } });
  expect((await fetch(`${state.publicUrl}/`)).status).toBe(200);
  await new Promise((r) => setTimeout(r, 3_500));
  expect(closedByProxyAfterMs).toHaveLength(1);
  expect(closedByProxyAfterMs[0]).toBeGreaterThan(1_500);
  expect(closedByProxyAfterMs[0]).toBeLessThan(3_000);
});
