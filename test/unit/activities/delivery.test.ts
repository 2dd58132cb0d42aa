/**
 * The local deployer against real processes: a tiny HTTP service in a temp git repo (good, bad,
 * good-again and broken commits) deployed as stable + canary behind the weighted proxy.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createDeliveryActivities as createDeliveryActivitiesUnwrapped } from '../../../activities/delivery';
import { asWorkerRuns } from '../../helpers/interceptors';
// Called directly, the activities run through the worker's interceptor as they would on a worker.
const createDeliveryActivities = (...args: Parameters<typeof createDeliveryActivitiesUnwrapped>) => asWorkerRuns(createDeliveryActivitiesUnwrapped(...args));
import { LATENCY_SAMPLE_SIZE, percentile, type ProbeSample } from '../../../core/health';
import { LocalDeployer } from '../../../delivery/local-deployer';
import { isGroupAlive, isProcessAlive } from '../../../io/process';
import { VERSION_HEADER, WeightedProxy } from '../../../delivery/proxy';
import { runTraffic } from '../../../delivery/traffic';

import { TSX_CLI } from '../../../io/paths';
const DELIVERY_DIR = path.resolve(__dirname, '../../../delivery');
const descriptor = { entry: 'server.ts', healthPath: '/healthz' };

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

interface Reply {
  status: number;
  body: string;
  version: string | undefined;
}

function get(url: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, version: res.headers[VERSION_HEADER] as string | undefined }));
      })
      .on('error', reject);
  });
}

function post(url: string, body: string): Promise<{ status: number; json: { error?: string; weight?: number } }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as { error?: string } }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Sequential requests; counts per version header. */
async function drive(url: string, count: number): Promise<{ byVersion: Record<string, number>; statuses: Record<number, number>; bodies: Set<string> }> {
  const byVersion: Record<string, number> = {};
  const statuses: Record<number, number> = {};
  const bodies = new Set<string>();
  for (let i = 0; i < count; i++) {
    const reply = await get(url);
    byVersion[reply.version ?? 'none'] = (byVersion[reply.version ?? 'none'] ?? 0) + 1;
    statuses[reply.status] = (statuses[reply.status] ?? 0) + 1;
    bodies.add(reply.body);
  }
  return { byVersion, statuses, bodies };
}

function serviceSource(label: string, behaviour: 'good' | 'bad' | 'crash'): string {
  return `import http from 'node:http';
const LABEL: string = ${JSON.stringify(label)};
${behaviour === 'crash' ? "throw new Error('config missing: GREETING_DB_URL');" : ''}
const port = Number(process.env.PORT);
http
  .createServer((req, res) => {
    if (req.url === '/healthz') return void res.writeHead(200).end('ok');
    ${
      behaviour === 'bad'
        ? "setTimeout(() => res.writeHead(500, { 'content-type': 'text/plain' }).end('boom from ' + LABEL), 25);"
        : "res.writeHead(200, { 'content-type': 'text/plain' }).end('hello from ' + LABEL);"
    }
  })
  .listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;
}

function git(repo: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'commit.gpgsign=false', '-C', repo, ...args], { encoding: 'utf8' }).trim();
}

function commit(repo: string, source: string, message: string): string {
  fs.writeFileSync(path.join(repo, 'server.ts'), source);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', message);
  return git(repo, 'rev-parse', 'HEAD');
}

/** Runs a TypeScript snippet in a fresh node process (as a restarted worker would be). */
function runInNewProcess(dir: string, name: string, code: string): string {
  const file = path.join(dir, `${name}.ts`);
  fs.writeFileSync(file, `import { LocalDeployer } from ${JSON.stringify(path.join(DELIVERY_DIR, 'local-deployer'))};\n${code}`);
  return execFileSync(process.execPath, [TSX_CLI, file], { encoding: 'utf8', timeout: 30_000 }).trim();
}

describe('WeightedProxy (in-process)', () => {
  const upstreams: http.Server[] = [];
  let proxy: WeightedProxy;
  let stableUrl = '';
  let canaryUrl = '';

  const startUpstream = async (status: number): Promise<string> => {
    const server = http.createServer((_req, res) => res.writeHead(status).end(String(status)));
    upstreams.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  beforeAll(async () => {
    stableUrl = await startUpstream(200);
    canaryUrl = await startUpstream(503);
    proxy = new WeightedProxy({ stable: stableUrl, canary: canaryUrl });
    await proxy.start();
  });
  afterAll(async () => {
    await proxy.stop();
    for (const server of upstreams) server.close();
  });

  test('splits traffic exactly by the weight and counts 5xx as errors', async () => {
    const { adminUrl, publicUrl } = proxy.state();
    expect((await post(`${adminUrl}/admin/weight`, '{"weight":30}')).status).toBe(200);
    proxy.metrics(true);
    const { byVersion } = await drive(publicUrl, 1000);
    expect(byVersion).toEqual({ stable: 700, canary: 300 });
    const metrics = (await get(`${adminUrl}/admin/metrics?reset=1`)).body;
    const parsed = JSON.parse(metrics) as ReturnType<WeightedProxy['metrics']>;
    expect(parsed.stable).toMatchObject({ requests: 700, errors: 0 });
    expect(parsed.canary).toMatchObject({ requests: 300, errors: 300 });
    expect(parsed.stable.p95Ms).toBeGreaterThan(0);
    expect(proxy.metrics(false).canary.requests).toBe(0);
  });

  test('answers 502 and counts an error when the upstream is down', async () => {
    const { adminUrl, publicUrl } = proxy.state();
    await post(`${adminUrl}/admin/upstreams`, JSON.stringify({ canary: 'http://127.0.0.1:1' }));
    await post(`${adminUrl}/admin/weight`, '{"weight":100}');
    const reply = await get(publicUrl);
    expect(reply.status).toBe(502);
    expect(reply.version).toBe('canary');
    expect(proxy.metrics(true).canary).toMatchObject({ requests: 1, errors: 1 });
  });

  test('rejects bad admin bodies with 400 and a reason', async () => {
    const { adminUrl } = proxy.state();
    const cases: [string, string, RegExp][] = [
      ['weight', '{"weight":101}', /weight/],
      ['weight', '{"weight":"50"}', /weight: Expected number/],
      ['weight', '{"weight":10,"extra":1}', /Unrecognized key/],
      ['weight', 'not json', /not JSON/],
      ['weight', '', /empty body/],
      ['upstreams', '{"stable":"http://10.0.0.1:80"}', /loopback only/],
      ['upstreams', '{"canary":"ftp://127.0.0.1:21"}', /loopback only/],
    ];
    for (const [route, body, reason] of cases) {
      const { status, json } = await post(`${adminUrl}/admin/${route}`, body);
      expect([route, body, status]).toEqual([route, body, 400]);
      expect(json.error).toMatch(reason);
    }
    await post(`${adminUrl}/admin/upstreams`, '{"canary":null}');
    expect(proxy.state().weight).toBe(0);
    const conflict = await post(`${adminUrl}/admin/weight`, '{"weight":10}');
    expect(conflict.status).toBe(409);
    expect(conflict.json.error).toMatch(/no canary/);
  });
});

describe('LocalDeployer (real processes)', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'maestro-delivery-'));
  const repo = path.join(root, 'repo');
  const stateDir = path.join(root, 'state');
  const service = 'greeter';
  const deployer = new LocalDeployer({ stateDir, tsxCli: TSX_CLI, startTimeoutMs: 20_000, drainMs: 50 });
  const activities = createDeliveryActivities({ deployerFor: () => deployer });
  const shas = { good: '', bad: '', goodAgain: '', crash: '' };
  let proxyUrl = '';
  const seenPids = new Set<number>();

  beforeAll(() => {
    fs.mkdirSync(repo);
    git(repo, 'init', '-q');
    shas.good = commit(repo, serviceSource('v1', 'good'), 'v1');
    shas.bad = commit(repo, serviceSource('v2', 'bad'), 'v2 (500s, slow)');
    shas.goodAgain = commit(repo, serviceSource('v3', 'good'), 'v3');
    shas.crash = commit(repo, serviceSource('v4', 'crash'), 'v4 (crashes at start)');
  });

  afterAll(async () => {
    for (const name of [service, 'orphan']) await deployer.stopService({ service: name }).catch(() => undefined);
    agent.destroy();
    for (const pid of seenPids) expect([pid, isProcessAlive(pid)]).toEqual([pid, false]);
    fs.rmSync(root, { recursive: true, force: true });
  });

  test('deployCanary starts proxy, stable (baseSha) and canary at weight 0; a retry reuses the same processes', async () => {
    const deployed = await activities.deployCanary({ service, repo, baseSha: shas.good, sha: shas.bad, descriptor });
    proxyUrl = deployed.proxyUrl;
    expect(deployed.stable.sha).toBe(shas.good);
    expect(deployed.canary.sha).toBe(shas.bad);
    const first = await deployer.status({ service });
    for (const p of [first.proxy, first.stable, first.canary]) {
      expect(p?.alive).toBe(true);
      seenPids.add(p!.pid);
    }
    expect(first.weight).toBe(0);
    const { byVersion, bodies } = await drive(proxyUrl, 50);
    expect(byVersion).toEqual({ stable: 50 });
    expect([...bodies]).toEqual(['hello from v1']);

    // Two retries at once, from two deployer instances: serialised by the lock, neither redeploys.
    const retries = await Promise.all(
      [deployer, new LocalDeployer({ stateDir, tsxCli: TSX_CLI })].map((d) =>
        d.deployCanary({ service, repo, baseSha: shas.good, sha: shas.bad.slice(0, 10), descriptor }),
      ),
    );
    expect(retries).toEqual([deployed, deployed]);
    const second = await deployer.status({ service });
    expect([second.proxy?.pid, second.stable?.pid, second.canary?.pid]).toEqual([first.proxy?.pid, first.stable?.pid, first.canary?.pid]);
  });

  test('bad input is a non-retryable InvalidInput failure', async () => {
    const failures: (() => Promise<unknown>)[] = [
      () => activities.setCanaryWeight({ service, weight: 101 }),
      () => activities.setCanaryWeight({ service, weight: 2.5 }),
      () => activities.probeHealth({ service: 'no-such-service' }),
      () => activities.rollbackCanary({ service: '../etc' }),
      () => activities.deployCanary({ service, repo, baseSha: shas.good, sha: 'deadbeefdeadbeef', descriptor }),
      () => activities.deployCanary({ service, repo, baseSha: shas.good, sha: '--output=/tmp/x', descriptor }),
      () => activities.deployCanary({ service, repo, baseSha: shas.good, sha: shas.bad, descriptor: { entry: '../outside.ts', healthPath: '/healthz' } }),
    ];
    for (const failure of failures) {
      const err = await failure().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect((err as ApplicationFailure).type).toBe('InvalidInput');
      expect((err as ApplicationFailure).nonRetryable).toBe(true);
    }
  });

  test("a service's env holds its own variables only: the deployer's names and non-names are refused", async () => {
    for (const [env, why] of [
      [{ PORT: '1' }, /env: 'PORT' is set by the deployer itself/],
      [{ MAESTRO_SHA: 'x' }, /env: 'MAESTRO_SHA' is set by the deployer itself/],
      [{ 'database-url': 'x' }, /env: 'database-url' is not an environment variable name/],
    ] as const)
      await expect(deployer.ensureStable({ service, repo, sha: shas.good, descriptor, env })).rejects.toThrow(why);
  });

  test('inside an activity context the activities heartbeat', async () => {
    const { MockActivityEnvironment } = await import('@temporalio/testing');
    const env = new MockActivityEnvironment();
    const heartbeats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => heartbeats.push(details));
    const sample = await env.run<[{ service: string }], ProbeSample, typeof activities.probeHealth>(activities.probeHealth, { service });
    expect(sample.weight).toBe(0);
    expect(heartbeats).toContainEqual({ activity: 'probeHealth' });
  });

  test('traffic splits by weight and the probe shows the bad canary’s errors and latency', async () => {
    await activities.setCanaryWeight({ service, weight: 25 });
    await activities.probeHealth({ service }); // start a clean window
    const { byVersion, statuses } = await drive(proxyUrl, 400);
    expect(byVersion.canary).toBeGreaterThanOrEqual(90);
    expect(byVersion.canary).toBeLessThanOrEqual(110);
    expect(statuses[500]).toBe(byVersion.canary);
    const sample = await activities.probeHealth({ service });
    expect(sample.weight).toBe(25);
    expect(sample.canary.requests).toBe(byVersion.canary);
    expect(sample.canary.errors).toBe(sample.canary.requests);
    expect(sample.stable).toMatchObject({ requests: byVersion.stable, errors: 0 });
    expect(sample.canary.p95Ms).toBeGreaterThanOrEqual(20);
    expect(sample.canary.p95Ms).toBeGreaterThan(sample.stable.p95Ms);
    // A sample of each version's latencies for the rank test: every request up to LATENCY_SAMPLE_SIZE, then a bounded subset.
    expect(sample.canary.latenciesMs).toHaveLength(Math.min(sample.canary.requests, LATENCY_SAMPLE_SIZE));
    expect(sample.stable.latenciesMs).toHaveLength(Math.min(sample.stable.requests, LATENCY_SAMPLE_SIZE));
    expect(percentile(sample.canary.latenciesMs!, 50)).toBeGreaterThan(percentile(sample.stable.latenciesMs!, 50));
    expect(sample.at).toBeLessThanOrEqual(Date.now());
  });

  test('the detached traffic generator keeps requests flowing and stops by itself', async () => {
    await activities.probeHealth({ service });
    const { pid } = await deployer.startTraffic({ service, rps: 100, durationMs: 1500 });
    seenPids.add(pid);
    const deadline = Date.now() + 10_000;
    while (isProcessAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(isProcessAlive(pid)).toBe(false);
    const sample = await activities.probeHealth({ service });
    const total = sample.stable.requests + sample.canary.requests;
    expect(total).toBeGreaterThanOrEqual(100);
    expect(total).toBeLessThanOrEqual(170);
    expect(sample.canary.requests).toBeGreaterThan(0);
  });

  test('a new deployer in a new process reattaches to the running proxy and versions', async () => {
    const before = await deployer.status({ service });
    const sameProcess = await new LocalDeployer({ stateDir, tsxCli: TSX_CLI }).status({ service });
    expect(sameProcess).toEqual(before);
    const output = runInNewProcess(
      root,
      'reattach',
      `const deployer = new LocalDeployer({ stateDir: ${JSON.stringify(stateDir)}, tsxCli: ${JSON.stringify(TSX_CLI)} });
       deployer.setWeight({ service: 'greeter', weight: 40 })
         .then(() => deployer.status({ service: 'greeter' }))
         .then((s) => console.log(JSON.stringify(s)));`,
    );
    const seen = JSON.parse(output) as typeof before;
    expect([seen.proxy?.pid, seen.stable?.pid, seen.canary?.pid]).toEqual([before.proxy?.pid, before.stable?.pid, before.canary?.pid]);
    expect(seen.weight).toBe(40);
    expect((await deployer.status({ service })).weight).toBe(40);
  });

  test('kill -9 of a recorded launcher pid leaves its listener serving: the deployer still owns it, starts no second proxy', async () => {
    const before = await deployer.status({ service });
    const [proxyPid, canaryPid] = [before.proxy!.pid, before.canary!.pid];
    for (const pid of [proxyPid, canaryPid]) process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + 5_000;
    while ((isProcessAlive(proxyPid) || isProcessAlive(canaryPid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect([isProcessAlive(proxyPid), isProcessAlive(canaryPid)]).toEqual([false, false]);
    // The processes that listen are children of the killed launchers: still in their groups, still serving.
    expect([isGroupAlive(proxyPid), isGroupAlive(canaryPid)]).toEqual([true, true]);
    const served = await drive(proxyUrl, 100);
    expect(served.statuses[502]).toBeUndefined();
    expect(served.byVersion.canary).toBeGreaterThan(0);
    const after = await deployer.status({ service });
    expect([after.proxy, after.canary]).toEqual([before.proxy, before.canary]);
    await deployer.setWeight({ service, weight: 40 });
    expect((await deployer.status({ service })).proxy?.pid).toBe(proxyPid);
  });

  test('rollback puts 100% on stable at once, stops the canary, and a retry reports the same moment', async () => {
    const canaryPid = (await deployer.status({ service })).canary!.pid;
    const traffic = new AbortController();
    const running = runTraffic({ url: proxyUrl, rps: 200, durationMs: 10_000 }, traffic.signal);
    await new Promise((r) => setTimeout(r, 300));
    const { at } = await activities.rollbackCanary({ service });
    expect(at).toBeLessThanOrEqual(Date.now());
    const { byVersion, bodies } = await drive(proxyUrl, 100);
    traffic.abort();
    const stats = await running;
    expect(stats.byVersion.canary).toBeGreaterThan(0);
    expect(byVersion).toEqual({ stable: 100 });
    expect([...bodies]).toEqual(['hello from v1']);
    expect(isGroupAlive(canaryPid)).toBe(false);
    const after = await deployer.status({ service });
    expect(after.canary).toBeNull();
    expect(after.weight).toBe(0);
    expect(after.lastRollback).toEqual({ sha: shas.bad, at });
    expect(await activities.rollbackCanary({ service })).toEqual({ at });
  });

  test('promote makes the canary stable and stops the old stable; a retry is a no-op', async () => {
    const oldStablePid = (await deployer.status({ service })).stable!.pid;
    const deployed = await activities.deployCanary({ service, repo, baseSha: shas.good, sha: shas.goodAgain, descriptor });
    const canaryPid = (await deployer.status({ service })).canary!.pid;
    seenPids.add(canaryPid);
    await activities.setCanaryWeight({ service, weight: 100 });
    expect((await drive(proxyUrl, 20)).bodies).toEqual(new Set(['hello from v3']));
    const promoted = await activities.promoteCanary({ service });
    expect(promoted).toMatchObject({ stable: deployed.canary, previousStableSha: shas.good });
    expect(isProcessAlive(oldStablePid)).toBe(false);
    const after = await deployer.status({ service });
    expect(after).toMatchObject({ weight: 0, canary: null, stable: { sha: shas.goodAgain, pid: canaryPid, alive: true } });
    const { byVersion, bodies } = await drive(proxyUrl, 20);
    expect(byVersion).toEqual({ stable: 20 });
    expect([...bodies]).toEqual(['hello from v3']);
    expect((await activities.promoteCanary({ service })).at).toBe(promoted.at);
  });

  test('a version that never becomes healthy fails with its log tail and leaves traffic on stable', async () => {
    const err = await deployer.deployCanary({ service, repo, baseSha: shas.good, sha: shas.crash, descriptor }).then(() => undefined, (e: unknown) => e);
    expect(String(err)).toMatch(/exited before it was ready/);
    expect(String(err)).toMatch(/GREETING_DB_URL/);
    const after = await deployer.status({ service });
    expect(after.canary).toBeNull();
    expect((await drive(proxyUrl, 10)).byVersion).toEqual({ stable: 10 });
  });

  test('one rollout per service: another train cannot replace, weight, promote or roll back a canary it does not own', async () => {
    const shared = 'shared';
    const deployA = await deployer.deployCanary({ service: shared, owner: 'train-a', repo, baseSha: shas.good, sha: shas.goodAgain, descriptor });
    expect(deployA.canary.sha).toBe(shas.goodAgain);
    const asB = { service: shared, owner: 'train-b' };
    await expect(deployer.deployCanary({ ...asB, repo, baseSha: shas.good, sha: shas.bad, descriptor })).rejects.toThrow(
      expect.objectContaining({ name: 'ServiceBusyError', type: 'ServiceBusy', message: expect.stringContaining(`held by train train-a (canary ${shas.goodAgain.slice(0, 12)}`) }),
    );
    await expect(deployer.setWeight({ ...asB, weight: 50 })).rejects.toThrow(expect.objectContaining({ type: 'NotCanaryOwner' }));
    await expect(deployer.promote(asB)).rejects.toThrow(expect.objectContaining({ type: 'NotCanaryOwner' }));
    await deployer.rollback(asB); // B has nothing serving: a no-op, A's canary stays
    const held = await deployer.status({ service: shared });
    expect([held.canary?.sha, held.canary?.alive]).toEqual([shas.goodAgain, true]);
    await deployer.setWeight({ service: shared, owner: 'train-a', weight: 50 });
    await deployer.rollback({ service: shared, owner: 'train-a' });
    const deployB = await deployer.deployCanary({ ...asB, repo, baseSha: shas.good, sha: shas.bad, descriptor });
    expect(deployB.canary.sha).toBe(shas.bad);
    await deployer.stopService({ service: shared });
  });

  test('processes outlive the process that started them, and stopService kills every group', async () => {
    const output = runInNewProcess(
      root,
      'orphan',
      `new LocalDeployer({ stateDir: ${JSON.stringify(stateDir)}, tsxCli: ${JSON.stringify(TSX_CLI)} })
         .ensureStable({ service: 'orphan', repo: ${JSON.stringify(repo)}, sha: ${JSON.stringify(shas.good)}, descriptor: ${JSON.stringify(descriptor)} })
         .then((r) => console.log(JSON.stringify(r)));`,
    );
    const started = JSON.parse(output) as { proxyUrl: string };
    const status = await deployer.status({ service: 'orphan' });
    expect(status.proxy?.alive).toBe(true);
    expect(status.stable?.alive).toBe(true);
    expect((await get(started.proxyUrl)).body).toBe('hello from v1');
    const { stoppedPids } = await deployer.stopService({ service: 'orphan' });
    expect(stoppedPids).toEqual(expect.arrayContaining([status.proxy!.pid, status.stable!.pid]));
    for (const pid of stoppedPids) expect(isProcessAlive(pid)).toBe(false);
    expect(await deployer.hasService('orphan')).toBe(false);
  });
});
