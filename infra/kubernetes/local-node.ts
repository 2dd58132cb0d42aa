/**
 * A node for the local cluster: a STAND-IN FOR A KUBELET WITHOUT A CONTAINER RUNTIME. The local cluster runs
 * no kubelet and no scheduler (infra/kubernetes/server.ts), so no Pod would ever run; this plays both parts
 * for one namespace, for tests and `maestro up --k8s`:
 *
 * - it registers a Node object (the EndpointSlice controller skips Pods whose Node it cannot find) and keeps
 *   its Ready condition's heartbeat fresh, so the node lifecycle controller never taints it unreachable;
 * - it watches the namespace's Pods (an informer: a list, then a watch) and binds each unscheduled one to
 *   itself through the binding subresource, as the scheduler would;
 * - for each Pod bound to it, it runs the Pod's image `<imageRepository>/<service>:<sha>` as a local process:
 *   NOT THE IMAGE, but commit `<sha>` of the service's git repository, extracted and started as the local
 *   deployer starts a version (io/commit-process.ts), with the container's env (and its envFrom Secret);
 * - each Pod gets its own address in the local pod network, 10.<n>.x.y, reported as status.podIP, and its
 *   process listens on 127.<n>.x.y (all of 127/8 is loopback on Linux; an EndpointSlice refuses loopback
 *   addresses, so the reported one is not: core/local-pod-network.ts maps one to the other), given to it as
 *   HOST, its container port as PORT;
 * - it runs the container's readiness probe (httpGet, period, failure and success thresholds) against the
 *   process and writes the Pod's status (phase, conditions, podIP/podIPs, containerStatuses) through the
 *   status subresource; a process that exits makes the Pod not ready and is started again after a back-off;
 * - a Pod being deleted keeps running through its container's preStop sleep (at most its grace period), as a
 *   kubelet runs the hook while the EndpointSlice already says terminating; then its process group is stopped
 *   (SIGTERM, then SIGKILL) and the Pod is deleted for good (grace period 0), as a kubelet confirms a deletion
 *   once its containers are gone.
 *
 * What it does not do: images, resource limits, liveness probes, volumes, network isolation (every process
 * sees every other on loopback), more than one container per Pod.
 */
import * as k8s from '@kubernetes/client-node';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { podAddress, reachPodAddress } from '../../core/local-pod-network';
import { extractCommit, readLogTail, spawnDetachedNode } from '../../io/commit-process';
import { isGroupAlive, stopProcessGroup } from '../../io/process';

export interface LocalNodeService {
  /** The git repository whose commits the service's images are built from. */
  repo: string;
  /** The file to run, inside the repository (its maestro.service.json `entry`). */
  entry: string;
}

export interface LocalNodeOptions {
  kubeconfig: string;
  namespace: string;
  /** Images are `<imageRepository>/<service>:<sha>`; other images are refused (the Pod stays not ready, its status says why). */
  imageRepository: string;
  /** How to run each service's commits. */
  services: Record<string, LocalNodeService>;
  /** Absolute path to tsx's cli.mjs. */
  tsxCli: string;
  /** Extracted commits and the processes' logs. */
  stateDir: string;
  nodeName?: string;
  /** Pods get addresses in 10.<podNetwork>.0.0/16 (served on 127.<podNetwork>.x.y); default a random one. */
  podNetwork?: number;
  /** Probe every this often instead of the probe's periodSeconds (tests want seconds shorter). */
  probePeriodMs?: number;
  /** A Prometheus file_sd file listing each running Pod's container port (labels service, sha, pod). */
  scrapeTargetsFile?: string;
}

/** What the node knows of a Pod it runs. */
export interface RunningPod {
  name: string;
  uid: string;
  service: string;
  sha: string;
  podIP: string;
  /** Where its process listens: podIP's loopback twin. */
  listenAddress: string;
  port: number;
  pid: number | null;
  ready: boolean;
  restarts: number;
  logFile: string;
}

const podSpecSchema = z.object({
  metadata: z.object({ name: z.string(), uid: z.string(), deletionTimestamp: z.unknown().optional() }),
  spec: z.object({
    nodeName: z.string().optional(),
    containers: z
      .array(
        z.object({
          name: z.string(),
          image: z.string(),
          ports: z.array(z.object({ name: z.string().optional(), containerPort: z.number().int() })).default([]),
          env: z.array(z.object({ name: z.string(), value: z.string().optional() })).default([]),
          envFrom: z.array(z.object({ secretRef: z.object({ name: z.string(), optional: z.boolean().optional() }).optional() })).default([]),
          readinessProbe: z
            .object({
              httpGet: z.object({ path: z.string().default('/'), port: z.union([z.number().int(), z.string()]) }),
              periodSeconds: z.number().int().positive().default(10),
              failureThreshold: z.number().int().positive().default(3),
              successThreshold: z.number().int().positive().default(1),
            })
            .optional(),
          // Only the sleep action: an exec or httpGet hook would need a container runtime.
          lifecycle: z.object({ preStop: z.object({ sleep: z.object({ seconds: z.number().int().min(0) }).optional() }).optional() }).optional(),
        }),
      )
      .min(1),
    terminationGracePeriodSeconds: z.number().int().min(0).default(30),
  }),
});
type PodSpec = z.infer<typeof podSpecSchema>;
type Container = PodSpec['spec']['containers'][number];

const MERGE_PATCH = { headers: { 'content-type': k8s.PatchUtils.PATCH_FORMAT_JSON_MERGE_PATCH } };
const HEARTBEAT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const MAX_BACKOFF_MS = 30_000;

interface PodProcess extends RunningPod {
  container: Container;
  healthPath: string | null;
  startedAt: Date;
  successes: number;
  failures: number;
  stopped: boolean;
  /** The Pod's status writes, one at a time and in order. */
  writes: Promise<void>;
  loop: Promise<void>;
}

export class LocalNode {
  readonly nodeName: string;
  private readonly core: k8s.CoreV1Api;
  private readonly config: k8s.KubeConfig;
  private informer?: k8s.Informer<k8s.V1Pod>;
  private readonly pods = new Map<string, PodProcess>();
  /** Uids of the Pods whose deletion is under way. */
  private readonly terminating = new Set<string>();
  private readonly podNetwork: number;
  private nextAddress = 0;
  private heartbeat?: NodeJS.Timeout;
  private running = false;

  constructor(private readonly options: LocalNodeOptions) {
    this.config = new k8s.KubeConfig();
    this.config.loadFromFile(options.kubeconfig);
    this.core = this.config.makeApiClient(k8s.CoreV1Api);
    this.nodeName = options.nodeName ?? 'maestro-local-node';
    this.podNetwork = options.podNetwork ?? 10 + Math.floor(Math.random() * 240);
    podAddress(this.podNetwork, 0); // refuses a network out of range now, not at the first Pod
  }

  /** Registers the Node and starts watching the namespace's Pods; resolves once the first list is handled. */
  async start(): Promise<void> {
    this.running = true;
    await registerNode(this.core, this.nodeName);
    this.heartbeat = setInterval(() => void reportNodeReady(this.core, this.nodeName).catch(() => undefined), HEARTBEAT_MS);
    const ns = this.options.namespace;
    const informer = k8s.makeInformer(this.config, `/api/v1/namespaces/${ns}/pods`, () => this.core.listNamespacedPod(ns));
    informer.on('add', (pod) => void this.reconcile(pod));
    informer.on('update', (pod) => void this.reconcile(pod));
    informer.on('delete', (pod) => void this.forget(pod.metadata?.uid ?? ''));
    // A watch the server ends (or a failed list) is started again: the informer lists afresh.
    informer.on('error', () => {
      if (this.running) setTimeout(() => void informer.start().catch(() => undefined), 500);
    });
    this.informer = informer;
    await informer.start();
  }

  /** Stops watching and stops every process it started (the Pods stay as they are in the API). */
  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.heartbeat);
    await this.informer?.stop();
    await Promise.all([...this.pods.values()].map((pod) => this.stopProcess(pod)));
    this.pods.clear();
    this.writeScrapeTargets();
  }

  /** The Pods it runs now. */
  runningPods(): RunningPod[] {
    return [...this.pods.values()].map(({ name, uid, service, sha, podIP, listenAddress, port, pid, ready, restarts, logFile }) => ({ name, uid, service, sha, podIP, listenAddress, port, pid, ready, restarts, logFile }));
  }

  // ── Pods ─────────────────────────────────────────────────────────────────────────────────────

  private async reconcile(pod: k8s.V1Pod): Promise<void> {
    if (!this.running) return;
    const parsed = podSpecSchema.safeParse(pod);
    if (!parsed.success) return; // not a Pod this node can run (no containers): left alone
    const { metadata, spec } = parsed.data;
    try {
      if (metadata.deletionTimestamp) return await this.finishDeletion(parsed.data);
      if (!spec.nodeName) return await bindPod(this.core, this.options.namespace, metadata.name, this.nodeName);
      if (spec.nodeName !== this.nodeName || this.pods.has(metadata.uid)) return;
      await this.startPod(parsed.data);
    } catch (err) {
      // The next event for the Pod tries again; a Pod gone meanwhile needs nothing more.
      if (statusCode(err) !== 404) console.error(`local node: pod ${metadata.name}: ${(err as Error).message ?? String(err)}`);
    }
  }

  private async startPod(pod: PodSpec): Promise<void> {
    const container = pod.spec.containers[0]!;
    const { name, uid } = pod.metadata;
    const image = parseImage(container.image, this.options.imageRepository);
    const service = image ? this.options.services[image.service] : undefined;
    const podIP = podAddress(this.podNetwork, this.nextAddress++);
    const listenAddress = reachPodAddress(podIP);
    const port = container.ports[0]?.containerPort ?? 8080;
    const logFile = path.join(this.options.stateDir, 'pods', `${this.options.namespace}_${name}.log`);
    const probe = container.readinessProbe;
    const record: PodProcess = {
      name,
      uid,
      service: image?.service ?? '',
      sha: image?.sha ?? '',
      podIP,
      listenAddress,
      port,
      pid: null,
      ready: false,
      restarts: 0,
      logFile,
      container,
      healthPath: probe ? probe.httpGet.path : null,
      startedAt: new Date(),
      successes: 0,
      failures: 0,
      stopped: false,
      writes: Promise.resolve(),
      loop: Promise.resolve(),
    };
    this.pods.set(uid, record);
    if (!image || !service) {
      const why = !image ? `image ${container.image} is not ${this.options.imageRepository}/<service>:<sha>` : `no repository is configured for service '${image.service}'`;
      await this.writeStatus(record, { waiting: { reason: 'ErrImagePull', message: `the local node cannot run this Pod: ${why}` } });
      return;
    }
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    const dir = await extractCommit(service.repo, image.sha, path.join(this.options.stateDir, 'versions', image.service));
    const entry = path.join(dir, service.entry);
    if (!fs.existsSync(entry)) {
      await this.writeStatus(record, { waiting: { reason: 'CreateContainerError', message: `entry '${service.entry}' does not exist in commit ${image.sha.slice(0, 12)} of ${service.repo}` } });
      return;
    }
    const env = { ...(await this.secretEnv(container)), ...Object.fromEntries(container.env.map((e) => [e.name, e.value ?? ''])), HOST: listenAddress, PORT: String(port) };
    const run = () => {
      record.pid = spawnDetachedNode({ tsxCli: this.options.tsxCli, args: [entry], cwd: dir, logFile, env });
      record.startedAt = new Date();
    };
    if (record.stopped) return;
    run();
    this.writeScrapeTargets();
    await this.writeStatus(record);
    record.loop = this.probeLoop(record, run, probe);
  }

  /** Probes readiness every period; a process that exited is reported and started again after a back-off. */
  private async probeLoop(record: PodProcess, run: () => void, probe: Container['readinessProbe']): Promise<void> {
    const periodMs = this.options.probePeriodMs ?? (probe?.periodSeconds ?? 10) * 1000;
    let backoffMs = 1_000;
    while (!record.stopped) {
      await sleep(periodMs);
      if (record.stopped) return;
      if (record.pid === null || !isGroupAlive(record.pid)) {
        const tail = readLogTail(record.logFile, 500);
        record.ready = false;
        record.successes = 0;
        await this.writeStatus(record, { waiting: { reason: 'CrashLoopBackOff', message: `the process exited; log tail: ${tail}` } });
        await sleep(backoffMs);
        backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
        if (record.stopped) return;
        record.restarts++;
        run();
        await this.writeStatus(record);
        continue;
      }
      // No readiness probe: ready once running, as a kubelet has it.
      const passed = record.healthPath === null || (await httpOk(`http://${record.listenAddress}:${record.port}${record.healthPath}`, 1_000));
      if (passed) {
        record.failures = 0;
        record.successes++;
      } else {
        record.successes = 0;
        record.failures++;
      }
      const becomesReady = !record.ready && record.successes >= (probe?.successThreshold ?? 1);
      const becomesUnready = record.ready && record.failures >= (probe?.failureThreshold ?? 3);
      if (becomesReady || becomesUnready) {
        record.ready = becomesReady;
        await this.writeStatus(record);
      }
    }
  }

  /** Status through the status subresource: the whole of what a kubelet reports for a one-container Pod. */
  private writeStatus(record: PodProcess, problem?: { waiting: { reason: string; message: string } }): Promise<void> {
    const now = new Date().toISOString();
    const ready = record.ready && !problem ? 'True' : 'False';
    const condition = (type: string, status: string) => ({ type, status, lastTransitionTime: now });
    const status = {
      phase: problem?.waiting.reason === 'ErrImagePull' || problem?.waiting.reason === 'CreateContainerError' ? 'Pending' : 'Running',
      hostIP: '127.0.0.1',
      hostIPs: [{ ip: '127.0.0.1' }],
      podIP: record.podIP,
      podIPs: [{ ip: record.podIP }],
      startTime: record.startedAt.toISOString(),
      conditions: [condition('PodScheduled', 'True'), condition('Initialized', 'True'), condition('ContainersReady', ready), condition('Ready', ready)],
      containerStatuses: [
        {
          name: record.container.name,
          image: record.container.image,
          imageID: '',
          ready: ready === 'True',
          started: !problem,
          restartCount: record.restarts,
          state: problem ? problem : { running: { startedAt: record.startedAt.toISOString() } },
        },
      ],
    };
    record.writes = record.writes.then(async () => {
      if (record.stopped) return;
      try {
        await this.core.patchNamespacedPodStatus(record.name, this.options.namespace, { status }, undefined, undefined, undefined, undefined, undefined, MERGE_PATCH);
      } catch (err) {
        if (statusCode(err) !== 404) console.error(`local node: status of pod ${record.name}: ${(err as Error).message ?? String(err)}`);
      }
    });
    return record.writes;
  }

  /** The container's envFrom Secrets (an optional one that does not exist adds nothing). */
  private async secretEnv(container: Container): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    for (const source of container.envFrom) {
      if (!source.secretRef) continue;
      try {
        const { body } = await this.core.readNamespacedSecret(source.secretRef.name, this.options.namespace);
        for (const [name, value] of Object.entries(body.data ?? {})) env[name] = Buffer.from(value, 'base64').toString('utf8');
      } catch (err) {
        if (statusCode(err) !== 404 || !source.secretRef.optional) throw err;
      }
    }
    return env;
  }

  /** A Pod being deleted: its preStop sleep (within its grace period), its process group stopped, then the Pod deleted for good. */
  private async finishDeletion(pod: PodSpec): Promise<void> {
    const { name, uid } = pod.metadata;
    // A terminating Pod's updates (status writes, the controller's) each arrive here: one deletion per Pod.
    if (this.terminating.has(uid)) return;
    this.terminating.add(uid);
    try {
      const record = this.pods.get(uid);
      if (record && !record.stopped) {
        const sleepSeconds = Math.min(pod.spec.containers[0]!.lifecycle?.preStop?.sleep?.seconds ?? 0, pod.spec.terminationGracePeriodSeconds);
        await sleep(sleepSeconds * 1000);
        await this.stopProcess(record);
      }
      if (this.running) await this.deleteForGood(name, uid);
    } finally {
      this.terminating.delete(uid);
    }
  }

  private async deleteForGood(name: string, uid: string): Promise<void> {
    try {
      await this.core.deleteNamespacedPod(name, this.options.namespace, undefined, undefined, 0, undefined, undefined, { gracePeriodSeconds: 0, preconditions: { uid } });
    } catch (err) {
      if (statusCode(err) !== 404 && statusCode(err) !== 409) throw err;
    }
  }

  private async forget(uid: string): Promise<void> {
    const record = this.pods.get(uid);
    if (!record) return;
    await this.stopProcess(record);
    this.pods.delete(uid);
    this.writeScrapeTargets();
  }

  private async stopProcess(record: PodProcess): Promise<void> {
    record.stopped = true;
    if (record.pid !== null) await stopProcessGroup(record.pid, STOP_TIMEOUT_MS);
  }

  private writeScrapeTargets(): void {
    const file = this.options.scrapeTargetsFile;
    if (!file) return;
    const groups = [...this.pods.values()]
      .filter((pod) => !pod.stopped && pod.pid !== null)
      .map((pod) => ({ targets: [`${pod.listenAddress}:${pod.port}`], labels: { service: pod.service, sha: pod.sha, pod: pod.name, component: 'pod' } }));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(groups, null, 2));
    fs.renameSync(tmp, file);
  }
}

/**
 * The Node object of a kubelet stand-in (the EndpointSlice controller skips Pods whose Node it cannot find), created
 * if missing and reported Ready. Shared with the tests' KubeletStandIn (test/helpers/kubernetes.ts).
 */
export async function registerNode(core: k8s.CoreV1Api, nodeName: string): Promise<void> {
  try {
    await core.createNode({ metadata: { name: nodeName, labels: { 'kubernetes.io/hostname': nodeName, 'kubernetes.io/os': 'linux' } } });
  } catch (err) {
    if (statusCode(err) !== 409) throw err;
  }
  await reportNodeReady(core, nodeName);
}

/** The Node's Ready heartbeat: without a fresh one the node lifecycle controller marks the node unreachable and its Pods not ready. */
export async function reportNodeReady(core: k8s.CoreV1Api, nodeName: string): Promise<void> {
  const now = new Date().toISOString();
  const status = {
    conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'the local node (a kubelet stand-in without a container runtime) is running', lastHeartbeatTime: now, lastTransitionTime: now }],
    addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: nodeName }],
    capacity: { cpu: '2', memory: '4Gi', pods: '110' },
    allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
  };
  await core.patchNodeStatus(nodeName, { status }, undefined, undefined, undefined, undefined, undefined, MERGE_PATCH);
}

/** What the scheduler does: a Binding of the Pod to the node (one already bound is left as it is). */
export async function bindPod(core: k8s.CoreV1Api, namespace: string, podName: string, nodeName: string): Promise<void> {
  const body: k8s.V1Binding = { metadata: { name: podName }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } };
  try {
    await core.createNamespacedPodBinding(podName, namespace, body);
  } catch (err) {
    if (statusCode(err) !== 409) throw err;
  }
}

/** `<repository>/<service>:<sha>` → service and sha; anything else is not an image this node can run. */
export function parseImage(image: string, imageRepository: string): { service: string; sha: string } | null {
  const match = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?):([0-9a-f]{40})$/.exec(image.startsWith(`${imageRepository}/`) ? image.slice(imageRepository.length + 1) : '');
  return match ? { service: match[1]!, sha: match[3]! } : null;
}

function statusCode(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode ?? (err as { response?: { statusCode?: number } }).response?.statusCode;
}

function httpOk(url: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      resolve(code >= 200 && code < 400); // a kubelet's httpGet probe: 200–399 passes
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}
