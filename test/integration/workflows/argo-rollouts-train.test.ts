/**
 * Release trains end to end on the local cluster through Argo Rollouts (issue 12): the worker deploys with the Argo
 * Rollouts deployer (`deployer: { kind: 'argo-rollouts' }`) and the real Argo Rollouts controller v1.10.1 moves the
 * Rollout; the gates read Prometheus. The sibling of kubernetes-train.test.ts, with the same stand-ins that really
 * serve: the local node (infra/kubernetes/local-node.ts) runs each Pod's commit of the greeter as a process, and the
 * local gateway (delivery/local-gateway.ts) serves the Rollout's one Service as kube-proxy balances it, every ready
 * endpoint alike, counting each request by the ReplicaSet whose Pod served it (core/workload-address.ts), which is
 * how the gates tell the versions apart. Argo's basic canary (no traffic router) splits by Pods, so the weights
 * are Pod counts: 10 replicas, the fewest for the plan's 10% (1 canary Pod of 10); 50% is 5 of 10.
 *
 * A good change is promoted through 10 → 50 → 100; a bad one (every fifth request a 500) is rolled back by the
 * request-success-rate gate at 10%: Argo aborts (the canary scaled to 0, stable back to 10 Pods), then the
 * Rollout's pod template is set back to the stable version. The test prints the timeline: objects, the Rollout's
 * steps, the data plane's weights and the share of requests each version actually served, promotion and rollback
 * with its MTTR. Ports 7370–7381: etcd 7370–7371, API server 7372, controller manager 7373, Argo's metrics 7374 and
 * healthz 7375, Prometheus 7376, the gateway's listener 7380 (admin and /metrics 7381).
 */
import * as k8s from '@kubernetes/client-node';
import fs from 'node:fs';
import path from 'node:path';
import { createActivities } from '../../../activities';
import { POD_TEMPLATE_HASH_LABEL } from '../../../core/argo-rollout-manifests';
import { SHA_LABEL } from '../../../core/kubernetes-manifests';
import { reachPodAddress } from '../../../core/local-pod-network';
import { DEFAULT_METRIC_TEMPLATES, type MetricTemplate } from '../../../core/metric-gates';
import type { RolloutPlanInput } from '../../../core/rollout-plan';
import { serviceDescriptorSchema } from '../../../core/stages';
import { ArgoRolloutsDeployer } from '../../../delivery/argo-rollouts-deployer';
import { LocalGateway, type GatewayChange } from '../../../delivery/local-gateway';
import { createDemoRepo, loadExampleChange } from '../../../examples/demo-repo';
import { FAST_PLAN } from '../../../examples/train-fixture';
import { startArgoRolloutsController, stopArgoRolloutsController } from '../../../infra/argo-rollouts/controller';
import { LocalNode } from '../../../infra/kubernetes/local-node';
import { ensurePrometheus, type RunningPrometheus } from '../../../infra/prometheus/server';
import { TSX_CLI } from '../../../io/paths';
import { RecordStore } from '../../../record/store';
import { ClusterWatches, expectPromotedOnPrometheus, seenInPrometheus, Timeline, trainWithTraffic } from '../../helpers/cluster-train';
import { createNamespace, kubeConfig, startTestCluster } from '../../helpers/kubernetes';
import { startTestWorker, tempDir, TEST_DATABASE_URL, type TestWorker } from '../../helpers/temporal';
import { waitFor } from '../../helpers/wait';

const TASK_QUEUE = 'test-argo-rollouts-train';
const RUN = Date.now().toString(36);
const NAMESPACE = 'apps';
const SERVICE = 'greeter';
const IMAGE_REPOSITORY = 'registry.local/maestro';
const CLUSTER_PORTS = { etcdPort: 7370, apiPort: 7372, controllerManagerPort: 7373 };
const ARGO_PORTS = { metricsPort: 7374, healthzPort: 7375 };
const PROMETHEUS_PORT = 7376;
const LISTENER = { publicPort: 7380, adminPort: 7381 };
// Argo's basic canary splits by Pods: 10 replicas are the fewest that make the plan's 10% one Pod (2 would make it 1 of 2).
const REPLICAS = 10;
const WEIGHTS = [10, 50, 100];
const TRAFFIC = { rps: 100, durationMs: 5 * 60_000, paths: ['/greet?name=Ada', '/greet', '/healthz'] };
const [SUCCESS_RATE, DURATION] = DEFAULT_METRIC_TEMPLATES as [MetricTemplate, MetricTemplate];
// Prometheus needs a scrape or two of the canary before the templates have data: a longer gate timeout (as the sibling's).
// The default gates, but p99 ≤ 2 s instead of 500 ms: a step here starts up to five greeter processes at once on two
// shared cores, and the canary's Pods already serving slow down meanwhile (p99 1.3 s at 50% once, the good change
// rolled back on latency alone); the bad change is caught by its success rate, which is unchanged.
const PLAN: RolloutPlanInput = { ...FAST_PLAN, gate: { ...FAST_PLAN.gate, timeout: 40_000 }, metrics: [SUCCESS_RATE, { ...DURATION, thresholdRange: { max: 2_000 } }] };

const stateDir = tempDir('argo-train');
const targetsDir = path.join(stateDir, 'scrape-targets');
const timeline = new Timeline();
/** ReplicaSet name → the commit its Pods run (from its sha label), for the log. */
const replicaSetSha = new Map<string, string>();

let cluster: Awaited<ReturnType<typeof startTestCluster>>;
let config: k8s.KubeConfig;
let watches: ClusterWatches;
let prometheus: RunningPrometheus;
let controllerDir = '';
let node: LocalNode;
let gateway: LocalGateway;
let dataPlane: DataPlane;
let temporal: TestWorker;
let repo = '';
let baseSha = '';

interface RolloutView {
  step: number | null;
  paused: boolean;
  abort: boolean;
  phase: string | null;
  stableRS: string | null;
  currentPodHash: string | null;
  image: string;
}
const rolloutSeen: RolloutView[] = [];

beforeAll(async () => {
  cluster = await startTestCluster(CLUSTER_PORTS);
  config = kubeConfig(cluster.cluster.kubeconfig);
  timeline.log(`cluster up (etcd, kube-apiserver, kube-controller-manager) at ${cluster.cluster.url}`);
  await createNamespace(config, NAMESPACE);
  ({ repo, baseSha } = await createDemoRepo(path.join(tempDir('argo-train-repo'), SERVICE)));
  const descriptor = serviceDescriptorSchema.parse(JSON.parse(fs.readFileSync(path.join(repo, 'maestro.service.json'), 'utf8')));
  const kubeconfig = cluster.cluster.kubeconfig;
  controllerDir = fs.mkdtempSync(path.join(cluster.options.dir, 'argo-'));
  // Settled, not all: whatever started is stopped by afterAll even when the other part failed.
  const started = await Promise.allSettled([
    (async () => {
      prometheus = await ensurePrometheus({ baseDir: tempDir('argo-train-prometheus'), port: PROMETHEUS_PORT, targetsDir, scrapeIntervalMs: 1000, binary: '/usr/bin/prometheus' });
    })(),
    (async () => {
      const argo = await startArgoRolloutsController({ kubeconfig, namespace: NAMESPACE, dir: controllerDir, ...ARGO_PORTS });
      timeline.log(`Argo Rollouts controller v1.10.1 healthy (pid ${argo.pid}); CRDs ${argo.crds.join(', ')}`);
      await watchTimeline(); // the Rollout's watch needs its CRD
      node = new LocalNode({
        kubeconfig,
        namespace: NAMESPACE,
        imageRepository: IMAGE_REPOSITORY,
        services: { [SERVICE]: { repo, entry: descriptor.entry } },
        tsxCli: TSX_CLI,
        stateDir: path.join(stateDir, 'node'),
        podNetwork: 74,
        probePeriodMs: 300,
        scrapeTargetsFile: path.join(targetsDir, 'pods.json'),
      });
      await node.start();
      // No HTTPRoute here: the gateway serves the Rollout's Service itself.
      gateway = new LocalGateway({ kubeconfig, namespace: NAMESPACE, gateway: 'maestro', services: { [SERVICE]: LISTENER }, reach: reachPodAddress, scrapeTargetsFile: path.join(targetsDir, 'gateway.json') });
      await gateway.start();
      dataPlane = new DataPlane();
    })(),
  ]);
  for (const part of started) if (part.status === 'rejected') throw part.reason;
  const argoRollouts = { kubeconfig, namespace: NAMESPACE, imageRepository: IMAGE_REPOSITORY, replicas: REPLICAS, canaryWeights: WEIGHTS, rolloutTimeoutMs: 120_000 };
  // The worker's deployer and this one share the lock directory (activities/index.ts puts dev's under deploy/).
  const deployer = new ArgoRolloutsDeployer({ ...argoRollouts, lockDir: path.join(stateDir, 'deploy', 'kubernetes-locks') });
  await deployer.ensureStable({ service: SERVICE, repo, sha: baseSha, descriptor });
  await waitFor(() => dataPlane.last()?.backends[0]?.endpoints.length === REPLICAS, 60_000);
  timeline.log(`ensureStable ${baseSha.slice(0, 12)}: ${REPLICAS} Pods serving at ${gateway.serviceUrl(SERVICE)}`);
  temporal = await startTestWorker(
    TASK_QUEUE,
    createActivities({ stateDir, databaseUrl: TEST_DATABASE_URL, healthSource: { kind: 'prometheus', url: prometheus.url }, deployer: { kind: 'argo-rollouts', ...argoRollouts } }),
  );
}, 240_000);

afterAll(async () => {
  watches?.stop();
  dataPlane?.stop();
  const weights = dataPlane ? dataPlane.report(await served().catch(() => new Map())) : '';
  if (timeline.lines.length) console.log(`A train on the local cluster through Argo Rollouts:\n${timeline.lines.join('\n')}\n\n${weights}`);
  await temporal?.stop();
  await gateway?.stop();
  await node?.stop();
  if (controllerDir) await stopArgoRolloutsController({ dir: controllerDir, healthzPort: ARGO_PORTS.healthzPort });
  await prometheus?.stop();
  await cluster?.stop();
}, 90_000);

/** A ReplicaSet's name with the commit it runs, e.g. `greeter-5d9c8b7f4 (1a2b3c4d)`. */
const described = (replicaSet: string) => `${replicaSet}${replicaSetSha.has(replicaSet) ? ` (${replicaSetSha.get(replicaSet)!.slice(0, 8)})` : ''}`;

/** Logs what the API server says happened: the Service and ReplicaSets made and scaled, the Rollout's every step. */
async function watchTimeline(): Promise<void> {
  watches = new ClusterWatches(config);
  await watches.watch(`/api/v1/namespaces/${NAMESPACE}/services`, (phase, service) => {
    if (phase === 'ADDED') timeline.log(`Service ${service.metadata.name} created: selects ${JSON.stringify(service.spec.selector)} (stable and canary Pods alike)`);
  });
  const scaled = new Map<string, number>();
  await watches.watch(`/apis/apps/v1/namespaces/${NAMESPACE}/replicasets`, (phase, rs) => {
    const name = rs.metadata.name as string;
    if (phase === 'ADDED') {
      replicaSetSha.set(name, rs.metadata.labels[SHA_LABEL]);
      timeline.log(`ReplicaSet ${described(name)} created by Argo`);
    }
    const replicas = rs.spec.replicas as number;
    if (phase !== 'DELETED' && scaled.get(name) !== replicas) timeline.log(`ReplicaSet ${name} scaled to ${replicas}`);
    scaled.set(name, replicas);
  });
  let last = '';
  await watches.watch(`/apis/argoproj.io/v1alpha1/namespaces/${NAMESPACE}/rollouts`, (phase, rollout) => {
    const status = rollout.status ?? {};
    const view: RolloutView = {
      step: status.currentStepIndex ?? null,
      paused: (status.pauseConditions?.length ?? 0) > 0,
      abort: status.abort === true,
      phase: status.phase ?? null,
      stableRS: status.stableRS ?? null,
      currentPodHash: status.currentPodHash ?? null,
      image: rollout.spec.template.spec.containers[0].image,
    };
    rolloutSeen.push(view);
    const steps = rollout.spec.strategy.canary.steps as { setWeight?: number }[];
    const step = view.step === null ? '-' : view.step >= steps.length ? `${view.step} (done)` : `${view.step} (${steps[view.step]!.setWeight !== undefined ? `setWeight ${steps[view.step]!.setWeight}` : 'pause'})`;
    const line = `Rollout ${rollout.metadata.name}${phase === 'ADDED' ? ' created' : ''}: step ${step}${view.paused ? ' paused' : ''}${view.abort ? ' ABORTED' : ''}, ${view.phase ?? '-'}; stableRS ${view.stableRS ?? '-'}, currentPodHash ${view.currentPodHash ?? '-'}, image :${view.image.split(':').pop()!.slice(0, 8)}`;
    if (line !== last) timeline.log(line);
    last = line;
  });
}

type Served = Map<string, { requests: number; errors: number }>;

/**
 * The data plane's side: every weight the gateway applied to the Service's listener (its versions' endpoint counts),
 * logged as it happens, with the requests each version had served by then (the listener's own counter, as Prometheus
 * scrapes it), so each weight's actual share of requests can be told. Sampled every 100 ms.
 */
class DataPlane {
  readonly steps: (GatewayChange & { served: Served })[] = [];
  private readonly timer: NodeJS.Timeout;
  private polling = false;

  constructor() {
    // A sample that fails (the listener stopping at the end) is taken at the next tick: a late boundary, not a lost step.
    this.timer = setInterval(() => void this.poll().catch(() => undefined), 100);
  }
  stop(): void {
    clearInterval(this.timer);
  }
  last() {
    return this.steps.at(-1);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const changes = gateway.changes.filter((c) => c.kind === 'Service' && c.route === SERVICE);
      for (const change of changes.slice(this.steps.length)) {
        this.steps.push({ ...change, served: await served() });
        timeline.log(`gateway: ${change.backends.map((b) => `${b.name} ${b.weight}% (${b.endpoints.length} Pod${b.endpoints.length === 1 ? '' : 's'})`).join(', ') || 'no ready endpoint'}`, change.at);
      }
    } finally {
      this.polling = false;
    }
  }

  /** Each weight the data plane held, how long, and the requests each version served meanwhile. */
  intervals(until: Served) {
    return this.steps.map((step, i) => {
      const end = this.steps[i + 1]?.served ?? until;
      const delta = [...end].map(([workload, now]) => {
        const before = step.served.get(workload) ?? { requests: 0, errors: 0 };
        return { workload, requests: now.requests - before.requests, errors: now.errors - before.errors };
      });
      return { at: step.at, until: this.steps[i + 1]?.at ?? null, backends: step.backends, served: delta.filter((d) => d.requests > 0) };
    });
  }

  report(until: Served): string {
    const lines = this.intervals(until).map(({ at, until, backends, served: by }) => {
      const total = by.reduce((sum, s) => sum + s.requests, 0);
      const weights = backends.map((b) => `${b.name} ${b.weight}%`).join(' / ') || 'none';
      const shares = by.map((s) => `${s.workload} ${s.requests} (${((100 * s.requests) / total).toFixed(1)}%)${s.errors ? `, ${s.errors} 5xx` : ''}`).join(', ');
      return `${timeline.stamp(at)} … ${until === null ? 'end   ' : timeline.stamp(until)}  ${weights.padEnd(60)} served: ${total ? shares : 'nothing'}`;
    });
    return `The data plane's weights over time and the share of requests each version served while they held (ReplicaSets: ${[...replicaSetSha].map(([rs, sha]) => `${rs} = ${sha.slice(0, 12)}`).join(', ')}):\n${lines.join('\n')}`;
  }
}

/** What the gateway's listener has served so far, by version (its Prometheus counter, by upstream, summed over role and code). */
async function served(): Promise<Served> {
  const text = await (await fetch(`http://127.0.0.1:${LISTENER.adminPort}/metrics`)).text();
  const byWorkload: Served = new Map();
  for (const [, upstream, code, value] of text.matchAll(/^maestro_proxy_requests_total\{role="\w+",upstream="([^"]+)",code="(\d+)"\} (\d+)$/gm)) {
    const workload = upstream!.split('.')[0]!;
    const entry = byWorkload.get(workload) ?? { requests: 0, errors: 0 };
    entry.requests += Number(value);
    if (code!.startsWith('5')) entry.errors += Number(value);
    byWorkload.set(workload, entry);
  }
  return byWorkload;
}

/** The Rollout as the API server has it. */
async function readRollout() {
  const { body } = await config.makeApiClient(k8s.CustomObjectsApi).getNamespacedCustomObject('argoproj.io', 'v1alpha1', NAMESPACE, 'rollouts', SERVICE);
  const r = body as { spec: { template: { spec: { containers: { image: string }[] } } }; status: { currentStepIndex?: number; abort?: boolean; phase?: string; stableRS?: string; currentPodHash?: string } };
  return { step: r.status.currentStepIndex, abort: r.status.abort === true, phase: r.status.phase, stableRS: r.status.stableRS, currentPodHash: r.status.currentPodHash, image: r.spec.template.spec.containers[0]!.image };
}
/** Each ReplicaSet Argo made, by the commit it runs: its pod-template hash and replicas asked and ready. */
async function replicaSets(): Promise<Map<string, { hash: string; replicas: number; ready: number }>> {
  const { body } = await config.makeApiClient(k8s.AppsV1Api).listNamespacedReplicaSet(NAMESPACE);
  return new Map(body.items.map((rs) => [rs.metadata!.labels![SHA_LABEL]!, { hash: rs.metadata!.labels![POD_TEMPLATE_HASH_LABEL]!, replicas: rs.spec!.replicas ?? 0, ready: rs.status!.readyReplicas ?? 0 }]));
}

async function train(change: 'good-change' | 'bad-change', id: string) {
  const request = { ...loadExampleChange(change, repo, `${id}-${RUN}`), service: SERVICE, rollout: PLAN as never };
  const workflowId = `train-${id}-${RUN}`;
  timeline.log(`train ${id} (${change}) started`);
  const done = await trainWithTraffic(temporal.client, { taskQueue: TASK_QUEUE, workflowId, request, traffic: { url: gateway.serviceUrl(SERVICE), ...TRAFFIC } });
  // The gate's probes, as the rollout judged them (the last ten kept): what a failed expectation below needs to be read.
  for (const probe of done.result.rollout?.decisions ?? [])
    timeline.log(
      `  probe at ${probe.weight}%: ${probe.verdict}${probe.reasons.length ? ` (${probe.reasons.join('; ').split(' from ')[0]})` : ''}; canary ${probe.canary.requests} requests, ${probe.canary.errors} 5xx; ${(probe.metrics ?? []).map((m) => `${m.name} ${m.value ?? 'no data'}`).join(', ')}`,
      probe.at,
    );
  return { workflowId, ...done };
}

/** The longest interval the data plane held these endpoint counts (stable's, canary's). */
function longestAt(intervals: ReturnType<DataPlane['intervals']>, counts: [number, number]) {
  const matching = intervals.filter((i) => i.until !== null && i.backends.map((b) => b.endpoints.length).join('/') === counts.join('/'));
  return matching.sort((a, b) => b.until! - b.at - (a.until! - a.at))[0];
}

test('a good change is promoted 10 → 50 → 100 by Argo and a bad one aborted at 10%, both served by the Rollout’s Pods', async () => {
  const record = new RecordStore({ url: TEST_DATABASE_URL });
  const workload = (hash: string) => `${SERVICE}-${hash}`;
  const upstream = (hash: string) => `${workload(hash)}.${SERVICE}.${NAMESPACE}.svc.cluster.local:8080`;
  const baseHash = (await replicaSets()).get(baseSha)!.hash;

  // ── the good change ──
  const good = await train('good-change', 'argo-good');
  expect({ outcome: good.result.outcome, reason: good.result.reason }).toEqual({ outcome: 'promoted', reason: 'all health gates passed' });
  const goodSha = good.result.mergeSha!;
  const goodHash = (await replicaSets()).get(goodSha)!.hash;
  timeline.log(`train argo-good promoted ${goodSha.slice(0, 12)}: ${good.result.rollout!.probes} probes; traffic ${JSON.stringify(good.traffic.byVersion)}, ${good.traffic.errors} errors of ${good.traffic.sent}`);
  // The gates read the canary's own requests: those the Pods of its ReplicaSet served, as the deployer names them.
  expectPromotedOnPrometheus(good.result, prometheus.url, upstream(goodHash));
  // The Rollout says so: fully promoted, Healthy on the new template, all 10 Pods on it.
  expect(await readRollout()).toMatchObject({ step: 7, abort: false, phase: 'Healthy', stableRS: goodHash, currentPodHash: goodHash, image: `${IMAGE_REPOSITORY}/${SERVICE}:${goodSha}` });
  await waitFor(async () => (await replicaSets()).get(baseSha)!.replicas === 0, 30_000);
  expect((await replicaSets()).get(goodSha)).toEqual({ hash: goodHash, replicas: REPLICAS, ready: REPLICAS });
  // The data plane: the Pod counts made the weights 90/10 and 50/50, and the requests were served in those shares.
  await waitFor(() => dataPlane.last()?.backends.map((b) => [b.name, b.endpoints.length]).join() === [workload(goodHash), REPLICAS].join(), 30_000);
  const goodIntervals = dataPlane.intervals(await served());
  for (const [counts, share] of [
    [[9, 1], 0.1],
    [[5, 5], 0.5],
  ] as const) {
    const held = longestAt(goodIntervals, [...counts]);
    expect(held?.backends.map((b) => b.name)).toEqual([workload(baseHash), workload(goodHash)]);
    const total = held!.served.reduce((sum, s) => sum + s.requests, 0);
    const canary = held!.served.find((s) => s.workload === workload(goodHash))?.requests ?? 0;
    expect(total).toBeGreaterThan(50);
    expect(Math.abs(canary / total - share)).toBeLessThan(0.05);
  }
  // The good version itself never failed a request, and neither did the client: a Pod Argo scales down keeps
  // serving through its preStop sleep while the gateway learns it is terminating (PRE_STOP_SLEEP_SECONDS).
  expect(await seenInPrometheus(prometheus.url, `greeter_http_requests_total{component="pod",sha="${goodSha}",code=~"5.."}`)).toBe(0);
  expect(good.traffic.errors).toBe(0);
  expect((await record.trainDossier({ trainId: good.workflowId })).train).toMatchObject({ state: 'closed', outcome: 'promoted' });

  // ── the bad change, from the promoted one ──
  const bad = await train('bad-change', 'argo-bad');
  const badSha = bad.result.mergeSha!;
  const badHash = (await replicaSets()).get(badSha)!.hash;
  expect(bad.result.outcome).toBe('rolled_back');
  expect(bad.result.reason).toMatch(
    new RegExp(`^health gate at 10% failed: request-success-rate = ([\\d.]+) \\(should be ≥ 99; failed\\) from \\(sum\\(rate\\(maestro_proxy_requests_total\\{service="${SERVICE}",upstream="${upstream(badHash).replace(/\./g, '\\.')}",code!~"5\\.\\."\\}`),
  );
  // At the first gate: the canary never went past 10%.
  expect(new Set(bad.result.rollout!.decisions!.map((d) => d.weight))).toEqual(new Set([10]));
  const detectedAt = bad.result.rollout!.decisions!.find((d) => d.verdict === 'red')!.at;
  // MTTR on the data plane: from the first red probe to the gateway serving stable alone for good (the canary's Pod may
  // also drop out for a moment before, when its readiness probe meets one of its 500s).
  const lastWithCanary = dataPlane.steps.map((s) => s.backends.some((b) => b.name === workload(badHash))).lastIndexOf(true);
  const backOnStable = dataPlane.steps[lastWithCanary + 1];
  expect(backOnStable?.backends.map((b) => b.name)).toEqual([workload(goodHash)]);
  expect(backOnStable!.at).toBeGreaterThan(detectedAt);
  const dataPlaneMttrMs = backOnStable!.at - detectedAt;
  const mttrMs = bad.result.rollout!.mttrMs!;
  timeline.log(
    `train argo-bad rolled back ${badSha.slice(0, 12)}: ${bad.result.reason.split(' from ')[0]}; MTTR ${mttrMs} ms (first red probe → rollback done: Argo has the canary at 0 Pods, stable at ${REPLICAS} available), ${dataPlaneMttrMs} ms to the gateway serving stable alone; traffic ${JSON.stringify(bad.traffic.byVersion)}, ${bad.traffic.errors} errors of ${bad.traffic.sent}`,
  );
  expect(mttrMs).toBeGreaterThanOrEqual(0);
  expect(dataPlaneMttrMs).toBeLessThan(30_000);
  // The canary's own Pod failed the requests sent to it; the clients' errors stayed bounded by its 10% share.
  expect(await seenInPrometheus(prometheus.url, `maestro_proxy_requests_total{service="${SERVICE}",upstream="${upstream(badHash)}",code="500"}`)).toBeGreaterThan(0);
  expect(bad.traffic.errors).toBeGreaterThan(0);
  expect(bad.traffic.errors).toBeLessThanOrEqual(Math.ceil(bad.traffic.sent * 0.03));
  // Stable kept serving: the promoted version answered no 5xx throughout.
  expect(await seenInPrometheus(prometheus.url, `greeter_http_requests_total{component="pod",sha="${goodSha}",code=~"5.."}`)).toBe(0);

  // Argo took the abort (a moment with status.abort, the bad template current, stable unchanged), then the spec went back to stable.
  const abortedAt = rolloutSeen.findIndex((v) => v.abort && v.currentPodHash === badHash && v.stableRS === goodHash);
  expect(abortedAt).toBeGreaterThanOrEqual(0);
  expect(rolloutSeen.slice(abortedAt).some((v) => !v.abort && v.phase === 'Healthy' && v.currentPodHash === goodHash && v.image.endsWith(goodSha))).toBe(true);
  expect(await readRollout()).toMatchObject({ abort: false, phase: 'Healthy', stableRS: goodHash, currentPodHash: goodHash, image: `${IMAGE_REPOSITORY}/${SERVICE}:${goodSha}` });
  await waitFor(async () => (await replicaSets()).get(goodSha)!.ready === REPLICAS, 30_000);
  expect((await replicaSets()).get(badSha)).toMatchObject({ replicas: 0 });
  await waitFor(() => node.runningPods().every((pod) => pod.sha === goodSha) && node.runningPods().length === REPLICAS, 30_000);
  await waitFor(() => dataPlane.last()?.backends.map((b) => [b.name, b.endpoints.length]).join() === [workload(goodHash), REPLICAS].join(), 30_000);
  expect(dataPlane.last()!.backends.map((b) => [b.name, b.weight])).toEqual([[workload(goodHash), 100]]);
  expect((await record.trainDossier({ trainId: bad.workflowId })).train).toMatchObject({ state: 'closed', outcome: 'rolled_back' });
}, 420_000);
