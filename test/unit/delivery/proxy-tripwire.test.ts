/**
 * The weighted proxy's Prometheus series and its tripwire, on real loopback servers: a canary that fails
 * trips the wire as soon as its burst is complete, one that stops answering trips it as unreachable,
 * and a healthy canary never does.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WeightedProxy } from '../../../delivery/proxy';

const servers: http.Server[] = [];
const proxies: WeightedProxy[] = [];

async function upstream(status: (n: number) => number): Promise<{ url: string; server: http.Server }> {
  let n = 0;
  const server = http.createServer((_req, res) => res.writeHead(status(++n)).end('x'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function proxyOver(stable: string, canary: string, weight: number) {
  const proxy = new WeightedProxy({ stable, canary, weight });
  proxies.push(proxy);
  const state = await proxy.start();
  const send = async (count: number) => {
    for (let i = 0; i < count; i++) await fetch(`${state.publicUrl}/greet`).then((r) => r.arrayBuffer());
  };
  const tripwire = (query: Record<string, string>) => fetch(`${state.adminUrl}/admin/tripwire?${new URLSearchParams(query)}`);
  return { proxy, state, send, tripwire };
}

afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.stop()));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

test('GET /metrics on the admin port counts requests by role, upstream and code, with a duration histogram', async () => {
  const stable = await upstream(() => 200);
  const canary = await upstream((n) => (n % 2 === 0 ? 500 : 200));
  const { state, send } = await proxyOver(stable.url, canary.url, 50);
  await send(8);
  const text = await (await fetch(`${state.adminUrl}/metrics`)).text();
  const canaryAddress = new URL(canary.url).host;
  expect(text).toContain(`maestro_proxy_requests_total{role="canary",upstream="${canaryAddress}",code="500"} 2`);
  expect(text).toContain(`maestro_proxy_requests_total{role="canary",upstream="${canaryAddress}",code="200"} 2`);
  expect(text).toContain(`maestro_proxy_requests_total{role="stable",upstream="${new URL(stable.url).host}",code="200"} 4`);
  expect(text).toMatch(new RegExp(`maestro_proxy_request_duration_seconds_count\\{role="canary",upstream="${canaryAddress}"\\} 4`));
});

test('a long-poll answers the moment the canary error burst is complete', async () => {
  const stable = await upstream(() => 200);
  const canary = await upstream(() => 503);
  const { send, tripwire } = await proxyOver(stable.url, canary.url, 100);
  const since = Date.now();
  const waiting = tripwire({ since: String(since), waitMs: '20000' }).then((r) => r.json() as Promise<{ tripped: { kind: string; errors: number; at: number } | null; canary: string }>);
  const started = Date.now();
  await send(3);
  const answer = await waiting;
  expect(Date.now() - started).toBeLessThan(5000);
  expect(answer.canary).toBe(canary.url);
  expect(answer.tripped).toMatchObject({ kind: 'error-burst', errors: 3 });
  expect(answer.tripped!.at).toBeGreaterThanOrEqual(since);
});

test('a canary that stops answering trips it as unreachable', async () => {
  const stable = await upstream(() => 200);
  const canary = await upstream(() => 200);
  const { send, tripwire } = await proxyOver(stable.url, canary.url, 100);
  canary.server.closeAllConnections();
  await new Promise((r) => canary.server.close(r));
  const since = Date.now();
  await send(3);
  const answer = (await (await tripwire({ since: String(since), waitMs: '0', errors: '50' })).json()) as { tripped: { kind: string } | null };
  expect(answer.tripped).toMatchObject({ kind: 'unreachable' });
});

test('a healthy canary and errors from before `since` do not trip it; a bad query is refused with its field', async () => {
  const stable = await upstream(() => 200);
  let failing = true;
  const canary = await upstream(() => (failing ? 500 : 200));
  const { send, tripwire } = await proxyOver(stable.url, canary.url, 100);
  await send(5);
  failing = false;
  await new Promise((r) => setTimeout(r, 5));
  const since = Date.now();
  await send(20);
  const answer = (await (await tripwire({ since: String(since), waitMs: '200' })).json()) as { tripped: unknown };
  expect(answer.tripped).toBeNull();
  const refused = await tripwire({ since: String(since), errors: '1' });
  expect(refused.status).toBe(400);
  expect(((await refused.json()) as { error: string }).error).toMatch(/^invalid body: errors: /);
});
