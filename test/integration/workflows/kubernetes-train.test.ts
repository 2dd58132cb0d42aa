/**
 * Release trains end to end on the local cluster (issue 12): the worker deploys with the Kubernetes deployer
 * (`deployer: { kind: 'kubernetes' }`) and its gates read Prometheus. The cluster is real (etcd, kube-apiserver,
 * kube-controller-manager: the Deployment, ReplicaSet and EndpointSlice controllers); what it lacks is played
 * by two stand-ins that really serve: the local node (infra/kubernetes/local-node.ts: binds the Pods, runs
 * each Pod's commit of the greeter as a process on its own 127.x address, probes its readiness, writes Pod
 * status) and the local gateway (delivery/local-gateway.ts: the HTTPRoute's weights over the EndpointSlices'
 * ready endpoints, through the weighted proxy, whose /metrics Prometheus scrapes). Synthetic traffic is sent
 * at the gateway, as clients would: a train on Kubernetes generates none (the deployer refuses startTraffic).
 *
 * A good change is promoted through 10 → 50 → 100; a bad one (every fifth request a 500) is rolled back by
 * the request-success-rate gate. The test prints the timeline: objects, the route's weights as the API server
 * had them, promotion and rollback with its MTTR.
 */
import * as k8s from '@kubernetes/client-node';
import fs from 'node:fs';
import path from 'node:path';
import { createActivities } from '../../../activities';
import { versionName } from '../../../core/kubernetes-manifests';
import { reachPodAddress } from '../../../core/local-pod-network';
import type { RolloutPlanInput } from '../../../core/rollout-plan';
import { serviceDescriptorSchema } from '../../../core/stages';
import { KubernetesDeployer } from '../../../delivery/kubernetes-deployer';
import { LocalGateway } from '../../../delivery/local-gateway';
import { PrometheusHealthSource } from '../../../delivery/prometheus-health';
import { createDemoRepo, loadExampleChange } from '../../../examples/demo-repo';
import { FAST_PLAN } from '../../../examples/train-fixture';
import { LocalNode } from '../../../infra/kubernetes/local-node';
import { ensurePrometheus, type RunningPrometheus } from '../../../infra/prometheus/server';
import { TSX_CLI } from '../../../io/paths';
import { expectPromotedOnPrometheus, seenInPrometheus as seenInPrometheusAt, trainWithTraffic } from '../../helpers/cluster-train';
import { createNamespace, kubeConfig, startTestCluster } from '../../helpers/kubernetes';
import { startTestWorker, tempDir, TEST_DATABASE_URL, type TestWorker } from '../../helpers/temporal';
import { waitFor } from '../../helpers/wait';

const TASK_QUEUE = 'test-kubernetes-train';
const RUN = Date.now().toString(36);
const NAMESPACE = 'apps';
const SERVICE = 'greeter';
const IMAGE_REPOSITORY = 'registry.local/maestro';
const GATEWAY = 'maestro';
// This test's ports: 7330–7349.
const CLUSTER_PORTS = { etcdPort: 7330, apiPort: 7332, controllerManagerPort: 7333 };
const PROMETHEUS_PORT = 7334;
const LISTENER = { publicPort: 7340, adminPort: 7341 };
const TRAFFIC = { rps: 100, durationMs: 5 * 60_000, paths: ['/greet?name=Ada', '/greet', '/healthz'] };
// Prometheus needs a scrape or two of the canary before the templates have data: a longer gate timeout (as prometheus-gates).
const PLAN: RolloutPlanInput = { ...FAST_PLAN, gate: { ...FAST_PLAN.gate, timeout: 40_000 } };

const stateDir = tempDir('k8s-train');
const targetsDir = path.join(stateDir, 'scrape-targets');
const started = Date.now();
const timeline: { at: number; line: string }[] = [];
const log = (line: string, at = Date.now()) => timeline.push({ at, line });

let cluster: Awaited<ReturnType<typeof startTestCluster>>;
let config: k8s.KubeConfig;
let prometheus: RunningPrometheus;
let node: LocalNode;
let gateway: LocalGateway;
let temporal: TestWorker;
let deployer: KubernetesDeployer;
let repo = '';
let baseSha = '';
const watches: { abort(): void }[] = [];
let watchesOpen = true;

beforeAll(async () => {
  cluster = await startTestCluster(CLUSTER_PORTS);
  config = kubeConfig(cluster.cluster.kubeconfig);
  log(`cluster up (etcd, kube-apiserver, kube-controller-manager) at ${cluster.cluster.url}`);
  await createNamespace(config, NAMESPACE);
  await watchTimeline();
  ({ repo, baseSha } = await createDemoRepo(path.join(tempDir('k8s-train-repo'), SERVICE)));
  const descriptor = serviceDescriptorSchema.parse(JSON.parse(fs.readFileSync(path.join(repo, 'maestro.service.json'), 'utf8')));
  const kubeconfig = cluster.cluster.kubeconfig;
  [prometheus] = await Promise.all([
    ensurePrometheus({ baseDir: tempDir('k8s-train-prometheus'), port: PROMETHEUS_PORT, targetsDir, scrapeIntervalMs: 1000, binary: '/usr/bin/prometheus' }),
    (async () => {
      node = new LocalNode({
        kubeconfig,
        namespace: NAMESPACE,
        imageRepository: IMAGE_REPOSITORY,
        services: { [SERVICE]: { repo, entry: descriptor.entry } },
        tsxCli: TSX_CLI,
        stateDir: path.join(stateDir, 'node'),
        podNetwork: 73,
        probePeriodMs: 300,
        scrapeTargetsFile: path.join(targetsDir, 'pods.json'),
      });
      await node.start();
      gateway = new LocalGateway({ kubeconfig, namespace: NAMESPACE, gateway: GATEWAY, listeners: { [SERVICE]: LISTENER }, reach: reachPodAddress, scrapeTargetsFile: path.join(targetsDir, 'gateway.json') });
      await gateway.start();
    })(),
  ]);
  const kubernetes = { kubeconfig, namespace: NAMESPACE, imageRepository: IMAGE_REPOSITORY, gateway: GATEWAY, rolloutTimeoutMs: 60_000 };
  // The worker's deployer and this one share the lock directory (activities/index.ts puts dev's under deploy/).
  deployer = new KubernetesDeployer({ ...kubernetes, lockDir: path.join(stateDir, 'deploy', 'kubernetes-locks') });
  await deployer.ensureStable({ service: SERVICE, repo, sha: baseSha, descriptor });
  log(`ensureStable ${baseSha.slice(0, 12)}: serving at ${gateway.url(SERVICE)}`);
  temporal = await startTestWorker(
    TASK_QUEUE,
    createActivities({ stateDir, databaseUrl: TEST_DATABASE_URL, healthSource: { kind: 'prometheus', url: prometheus.url }, deployer: { kind: 'kubernetes', ...kubernetes } }),
  );
}, 180_000);

afterAll(async () => {
  watchesOpen = false;
  for (const watch of watches) watch.abort();
  // The gateway's own changes (what its data plane applied, with the endpoints it had) among the API server's events.
  for (const change of gateway?.changes ?? []) log(`gateway ${change.route}: ${change.backends.map((b) => `${b.name}=${b.weight} (${b.endpoints.length} endpoint${b.endpoints.length === 1 ? '' : 's'})`).join(' ')}`, change.at);
  const lines = [...timeline].sort((a, b) => a.at - b.at).map(({ at, line }) => `+${((at - started) / 1000).toFixed(2).padStart(6)}s  ${line}`);
  if (lines.length) console.log(`A train on the local cluster:\n${lines.join('\n')}`);
  await temporal?.stop();
  await gateway?.stop();
  await node?.stop();
  await prometheus?.stop();
  await cluster?.stop();
}, 90_000);

/**
 * Logs what the API server says happened: Deployments come, become available and go, Pods come, get ready and go,
 * each version's Service gets its ready endpoints (EndpointSlices), the route's weights change.
 */
async function watchTimeline(): Promise<void> {
  const watcher = new k8s.Watch(config);
  const podReady = new Map<string, boolean>();
  const routeSeen = new Map<number, string>();
  const added = new Set<string>();
  // A watch the server refuses (429 while a new CRD's watch cache fills) or ends is opened again; ADDED is logged once.
  const watch = async (pathName: string, onEvent: (phase: string, object: Record<string, any>) => void): Promise<void> => {
    const once = (phase: string, object: Record<string, any>) => {
      const key = `${pathName} ${object.metadata.uid}`;
      if (phase === 'ADDED' && added.has(key)) return;
      added.add(key);
      onEvent(phase, object);
    };
    watches.push(await watcher.watch(pathName, {}, once, () => void (watchesOpen && setTimeout(() => void watch(pathName, onEvent), 300))));
  };
  const available = new Set<string>();
  await watch(`/apis/apps/v1/namespaces/${NAMESPACE}/deployments`, (phase, d) => {
    if (phase === 'ADDED' || phase === 'DELETED') log(`Deployment ${d.metadata.name} ${phase.toLowerCase()}`);
    if (phase !== 'DELETED' && (d.status?.availableReplicas ?? 0) >= 1 && !available.has(d.metadata.name)) log(`Deployment ${d.metadata.name} available`);
    if ((d.status?.availableReplicas ?? 0) >= 1) available.add(d.metadata.name);
  });
  const endpointsReady = new Map<string, number>();
  await watch(`/apis/discovery.k8s.io/v1/namespaces/${NAMESPACE}/endpointslices`, (phase, slice) => {
    const name = slice.metadata.labels?.['kubernetes.io/service-name'] as string;
    const ready = phase === 'DELETED' ? 0 : (slice.endpoints ?? []).filter((e: { conditions?: { ready?: boolean } }) => e.conditions?.ready === true).length;
    if (ready !== (endpointsReady.get(name) ?? 0)) log(`Service ${name}: ${ready} ready endpoint${ready === 1 ? '' : 's'} (EndpointSlice ${slice.metadata.name})`);
    endpointsReady.set(name, ready);
  });
  await watch(`/api/v1/namespaces/${NAMESPACE}/pods`, (phase, pod) => {
    const name = pod.metadata.name as string;
    const ready = (pod.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
    if (phase === 'ADDED') log(`Pod ${name} created`);
    if (phase === 'DELETED') log(`Pod ${name} deleted`);
    if (phase === 'MODIFIED' && ready !== (podReady.get(name) ?? false)) log(`Pod ${name} ${ready ? `ready on ${pod.status.podIP} (node ${pod.spec.nodeName})` : 'not ready'}`);
    podReady.set(name, ready);
  });
  await watch(`/apis/gateway.networking.k8s.io/v1/namespaces/${NAMESPACE}/httproutes`, (phase, route) => {
    const backends = route.spec.rules[0].backendRefs.map((b: { name: string; weight: number }) => `${b.name}=${b.weight}`).join(' ');
    if (routeSeen.get(route.metadata.generation) === backends && phase === 'MODIFIED') return; // a status write
    routeSeen.set(route.metadata.generation, backends);
    log(`HTTPRoute ${route.metadata.name} ${phase === 'ADDED' ? 'created' : `generation ${route.metadata.generation}`}: ${backends}`);
  });
}

/** The route as the API server has it. */
async function readRoute() {
  const { body } = await config.makeApiClient(k8s.CustomObjectsApi).getNamespacedCustomObject('gateway.networking.k8s.io', 'v1', NAMESPACE, 'httproutes', SERVICE);
  const route = body as { spec: { rules: { backendRefs: { name: string; weight: number }[] }[] }; status?: { parents: { controllerName: string; conditions: { type: string; status: string }[] }[] } };
  return { backends: route.spec.rules[0]!.backendRefs.map((b) => `${b.name}=${b.weight}`), parents: route.status?.parents ?? [] };
}
async function deploymentNames(): Promise<string[]> {
  const { body } = await config.makeApiClient(k8s.AppsV1Api).listNamespacedDeployment(NAMESPACE);
  return body.items.filter((d) => !d.metadata!.deletionTimestamp).map((d) => d.metadata!.name!).sort();
}

/** One train of an example change, with traffic at the gateway while it runs. */
async function train(change: 'good-change' | 'bad-change', id: string) {
  const request = { ...loadExampleChange(change, repo, `${id}-${RUN}`), service: SERVICE, rollout: PLAN as never };
  log(`train ${id} (${change}) started`);
  return trainWithTraffic(temporal.client, { taskQueue: TASK_QUEUE, workflowId: `train-${id}-${RUN}`, request, traffic: { url: gateway.url(SERVICE), ...TRAFFIC } });
}

const seenInPrometheus = (query: string) => seenInPrometheusAt(prometheus.url, query);

/** The gateway's 5xx answers so far, per backend and code. */
async function gatewayFailures(): Promise<string[]> {
  const source = new PrometheusHealthSource({ url: prometheus.url, routes: async () => ({ stable: null, canary: null, weight: 0 }) });
  const samples = await source.query(`sum by (upstream, code) (max_over_time(maestro_proxy_requests_total{service="${SERVICE}",code=~"5.."}[5m]))`);
  return samples.map((s) => `${s.labels.upstream} ${s.labels.code}: ${s.value}`);
}

test('a good change is promoted 10 → 50 → 100 and a bad one rolled back, both served by the Pods through the gateway', async () => {
  const route = (sha: string) => versionName(SERVICE, sha);
  const host = (sha: string) => `${route(sha)}.${NAMESPACE}.svc.cluster.local:8080`;

  // ── the good change ──
  const good = await train('good-change', 'k8s-good');
  expect({ outcome: good.result.outcome, reason: good.result.reason }).toEqual({ outcome: 'promoted', reason: 'all health gates passed' });
  const goodSha = good.result.mergeSha!;
  log(`train k8s-good promoted ${goodSha.slice(0, 12)}: ${good.result.rollout!.probes} probes; traffic ${JSON.stringify(good.traffic.byVersion)}, ${good.traffic.errors} errors`);
  // The gates found the canary by the Service URL the deployer reports, the gateway's upstream label.
  expectPromotedOnPrometheus(good.result, prometheus.url, host(goodSha));
  // The gateway sent the canary its share, and the canary's own process answered it (its own /metrics, scraped on its Pod address).
  expect(good.traffic.byVersion.canary).toBeGreaterThan(0);
  // Not one request failed, the gateway's 503s included: the deployer gives a version weight only once its Service
  // has ready endpoints in its EndpointSlices, so the gateway always has a Pod to send each backend's share to.
  expect(await seenInPrometheus(`greeter_http_requests_total{component="pod",sha="${goodSha}",code=~"5.."}`)).toBe(0);
  expect(await gatewayFailures()).toEqual([]); // which backend, and which code (503: no ready endpoint; 502/504: the upstream)
  expect(good.traffic.errors).toBe(0);
  expect(await seenInPrometheus(`greeter_http_requests_total{component="pod",sha="${goodSha}",route="/greet"}`)).toBeGreaterThan(0);
  expect((await readRoute()).backends).toEqual([`${route(goodSha)}=100`]);
  await waitFor(async () => (await deploymentNames()).length === 1);
  expect(await deploymentNames()).toEqual([route(goodSha)]);

  // ── the bad change, from the promoted one ──
  const bad = await train('bad-change', 'k8s-bad');
  const badSha = bad.result.mergeSha!;
  expect(bad.result.outcome).toBe('rolled_back');
  expect(bad.result.reason).toMatch(
    new RegExp(`^health gate at 10% failed: request-success-rate = ([\\d.]+) \\(should be ≥ 99; failed\\) from \\(sum\\(rate\\(maestro_proxy_requests_total\\{service="${SERVICE}",upstream="${host(badSha).replace(/\./g, '\\.')}",code!~"5\\.\\."\\}`),
  );
  const mttrMs = bad.result.rollout!.mttrMs!;
  log(`train k8s-bad rolled back ${badSha.slice(0, 12)}: ${bad.result.reason.split(' from ')[0]}; MTTR ${mttrMs} ms; traffic ${JSON.stringify(bad.traffic.byVersion)}, ${bad.traffic.errors} errors`);
  expect(mttrMs).toBeGreaterThanOrEqual(0);
  // The canary's own process failed the requests the gateway sent it.
  expect(bad.traffic.byVersion.canary).toBeGreaterThan(0);
  expect(bad.traffic.errors).toBeGreaterThan(0);
  // The 500s came from the canary's Pod: the gateway answers 502/503/504 itself, never 500. (The Pod's own /metrics
  // are not asserted here: it lives about 4 s, and under CI's load Prometheus may not scrape it before it is deleted.)
  expect(await seenInPrometheus(`maestro_proxy_requests_total{service="${SERVICE}",upstream="${host(badSha)}",code="500"}`)).toBeGreaterThan(0);

  // Afterwards: the route all on the promoted version, its Deployment alone, the canary's process gone.
  const after = await readRoute();
  expect(after.backends).toEqual([`${route(goodSha)}=100`]);
  expect(after.parents).toEqual([
    expect.objectContaining({
      controllerName: 'maestro.dev/local-gateway',
      conditions: [expect.objectContaining({ type: 'Accepted', status: 'True' }), expect.objectContaining({ type: 'ResolvedRefs', status: 'True' })],
    }),
  ]);
  await waitFor(async () => (await deploymentNames()).length === 1);
  expect(await deploymentNames()).toEqual([route(goodSha)]);
  await waitFor(() => node.runningPods().every((pod) => pod.sha === goodSha));
  expect(node.runningPods().map((pod) => [pod.sha, pod.ready])).toEqual([[goodSha, true]]);
  expect(gateway.changes.at(-1)!.backends.map((b) => [b.name, b.weight, b.endpoints])).toEqual([[route(goodSha), 100, [`http://${node.runningPods()[0]!.listenAddress}:8080`]]]);
}, 240_000);
