/**
 * The data plane of the local cluster's Gateway (a stand-in for Envoy Gateway, Istio and the like, which
 * cannot run here): it watches the namespace's HTTPRoutes attached to one Gateway and their backends'
 * EndpointSlices (discovery.k8s.io/v1, written by the real EndpointSlice controller from the Pods' readiness),
 * and forwards each route's requests by its backend weights, through the weighted proxy (delivery/proxy.ts).
 *
 * Each route gets a listener of its own (the routes Maestro renders have no hostnames to tell them apart
 * on one), named after the route: Maestro's route is named after its service, so the proxy's Prometheus
 * series, scraped with `service` = the route's name, are the ones delivery/prometheus-health.ts reads. A
 * backend's series are labelled by the Service's cluster URL (`<name>.<namespace>.svc.cluster.local:<port>`,
 * what KubernetesDeployer.status reports as each version's route) while its requests go to the Service's
 * ready endpoints in turn; a backend without one answers 503, as a gateway's does.
 *
 * Limits: the first rule of a route is served, at most two backends (the first is `stable`, the second
 * `canary`, the proxy's two roles), weights as shares of their sum in whole percent; matches, filters and
 * timeouts are not read. It writes the route's status.parents (Accepted, ResolvedRefs) as a Gateway
 * controller does.
 *
 * It also serves plain Services it is told of (`services`), each on a listener of its own, as kube-proxy
 * balances a Service: every ready endpoint alike, whichever version runs there (the data plane of Argo Rollouts'
 * basic canary, whose one Service selects the stable and the canary Pods, so Pod counts make the weights). Its
 * requests are counted by the workload that owns the serving Pod (its controller, a ReplicaSet), labelled
 * `core/workload-address.ts` addresses, the oldest version as `stable` and the newest as `canary`, the canary's
 * share its endpoints' share. A third version at once (not seen with one canary at a time) gets no requests.
 */
import * as k8s from '@kubernetes/client-node';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { endpointSliceSchema, serviceOfSlice, takesRequests } from '../core/endpoint-slices';
import { workloadAddress } from '../core/workload-address';
import { loadKubeConfig } from './kubernetes-deployer';
import { WeightedProxy, type Backend } from './proxy';

export interface LocalGatewayOptions {
  kubeconfig: string;
  namespace: string;
  /** The Gateway the routes attach to (their parentRefs), in the namespace. */
  gateway: string;
  /** Fixed listener ports per route (else free ones): the route's traffic, and its admin and /metrics. */
  listeners?: Record<string, { publicPort: number; adminPort: number }>;
  /**
   * How this host reaches an endpoint's address: as it is (default), or with the local node's pod network
   * `reachPodAddress` (core/local-pod-network.ts), whose Pods listen on loopback twins of their addresses.
   */
  reach?: (address: string) => string;
  /** Plain Services served on listeners of their own (fixed ports, else free ones), balanced over their ready endpoints. */
  services?: Record<string, { publicPort?: number; adminPort?: number }>;
  /** A Prometheus file_sd file listing each listener's /metrics (labels service = the route's or Service's name, component gateway). */
  scrapeTargetsFile?: string;
}

/** What the gateway applied to a listener, and when (the data plane's side of the route's or Service's history). */
export interface GatewayChange {
  at: number;
  kind: ListenerKind;
  /** The HTTPRoute's name, or the Service's. */
  route: string;
  /** A route's backend Services; a Service's versions (the workloads owning its ready endpoints). */
  backends: { name: string; weight: number; endpoints: string[] }[];
}

type ListenerKind = 'HTTPRoute' | 'Service';

const CONTROLLER_NAME = 'maestro.dev/local-gateway';
const MERGE_PATCH = { headers: { 'content-type': k8s.PatchUtils.PATCH_FORMAT_JSON_MERGE_PATCH } };

const routeSchema = z.object({
  metadata: z.object({ name: z.string(), generation: z.number().int().optional() }),
  spec: z.object({
    parentRefs: z.array(z.object({ name: z.string(), kind: z.string().optional(), group: z.string().optional() })).default([]),
    rules: z
      .array(z.object({ backendRefs: z.array(z.object({ name: z.string(), kind: z.string().optional(), group: z.string().optional(), port: z.number().int().optional(), weight: z.number().int().optional() })).default([]) }))
      .default([]),
  }),
});
type Route = z.infer<typeof routeSchema>;

const podSchema = z.object({
  metadata: z.object({
    name: z.string(),
    creationTimestamp: z.coerce.date().optional(),
    ownerReferences: z.array(z.object({ name: z.string(), controller: z.boolean().nullish() })).nullish(),
  }),
});

/** A ready endpoint: its URL from this host and the Pod there, if the slice names it. */
interface ReadyEndpoint {
  url: string;
  pod: string | null;
}

interface Listener {
  proxy: WeightedProxy;
  /** The status last written, so an unchanged one is not written again. */
  status: string;
}

export class LocalGateway {
  private readonly config: k8s.KubeConfig;
  private routes?: k8s.Informer<k8s.KubernetesObject> & k8s.ObjectCache<k8s.KubernetesObject>;
  private slices?: k8s.Informer<k8s.V1EndpointSlice> & k8s.ObjectCache<k8s.V1EndpointSlice>;
  /** The Pods behind the Services served (their owners tell the versions apart); none watched without `services`. */
  private pods?: k8s.Informer<k8s.V1Pod> & k8s.ObjectCache<k8s.V1Pod>;
  /** By `<kind>/<name>`. */
  private readonly listeners = new Map<string, Listener>();
  private running = false;
  /** Every change applied to a listener, oldest first. */
  readonly changes: GatewayChange[] = [];
  private syncing: Promise<void> = Promise.resolve();

  constructor(private readonly options: LocalGatewayOptions) {
    this.config = loadKubeConfig(options.kubeconfig);
  }

  /** Starts watching; resolves once the routes and slices there are now are served. */
  async start(): Promise<void> {
    this.running = true;
    const ns = this.options.namespace;
    const custom = this.config.makeApiClient(k8s.CustomObjectsApi);
    const discovery = this.config.makeApiClient(k8s.DiscoveryV1Api);
    const routes = k8s.makeInformer<k8s.KubernetesObject>(this.config, `/apis/gateway.networking.k8s.io/v1/namespaces/${ns}/httproutes`, async () => {
      const { response, body } = await custom.listNamespacedCustomObject('gateway.networking.k8s.io', 'v1', ns, 'httproutes');
      return { response, body: body as k8s.KubernetesListObject<k8s.KubernetesObject> };
    });
    const slices = k8s.makeInformer(this.config, `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, () => discovery.listNamespacedEndpointSlice(ns));
    const core = this.config.makeApiClient(k8s.CoreV1Api);
    const pods = this.serviceNames().length > 0 ? k8s.makeInformer(this.config, `/api/v1/namespaces/${ns}/pods`, () => core.listNamespacedPod(ns)) : undefined;
    for (const informer of [routes, slices, ...(pods ? [pods] : [])] as k8s.Informer<k8s.KubernetesObject>[]) {
      for (const event of ['add', 'update', 'delete'] as const) informer.on(event, () => this.sync());
      informer.on('error', () => {
        if (this.running) setTimeout(() => void informer.start().catch(() => undefined), 500);
      });
    }
    this.routes = routes;
    this.slices = slices;
    this.pods = pods;
    // A Service's listener is there from the start: its clients can connect before any Pod is ready (503 until one is).
    for (const service of this.serviceNames()) await this.listener('Service', service);
    await Promise.all([startInformer(routes), startInformer(slices), pods && startInformer(pods)]);
    await this.sync();
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all([this.routes?.stop(), this.slices?.stop(), this.pods?.stop()]);
    await this.syncing;
    await Promise.all([...this.listeners.values()].map((l) => l.proxy.stop()));
    this.listeners.clear();
    this.writeScrapeTargets();
  }

  /** Where a route's traffic is served (http://127.0.0.1:<port>), once the route exists. */
  url(route: string): string {
    const listener = this.listeners.get(`HTTPRoute/${route}`);
    if (!listener) throw new Error(`the local gateway serves no HTTPRoute '${route}' in namespace ${this.options.namespace} (attached to Gateway ${this.options.gateway})`);
    return listener.proxy.state().publicUrl;
  }

  /** Where a plain Service of `services` is served (http://127.0.0.1:<port>). */
  serviceUrl(service: string): string {
    const listener = this.listeners.get(`Service/${service}`);
    if (!listener) throw new Error(`the local gateway serves no Service '${service}' in namespace ${this.options.namespace}: name it in its 'services' option`);
    return listener.proxy.state().publicUrl;
  }

  private serviceNames(): string[] {
    return Object.keys(this.options.services ?? {});
  }

  /** Every change is applied from the informers' whole caches, one sync at a time. */
  private sync(): Promise<void> {
    this.syncing = this.syncing.then(() => this.syncAll()).catch((err: unknown) => console.error(`local gateway: ${(err as Error).message ?? String(err)}`));
    return this.syncing;
  }

  private async syncAll(): Promise<void> {
    if (!this.running || !this.routes || !this.slices) return;
    const routes = this.routes
      .list()
      .map((object) => routeSchema.safeParse(object))
      .filter((r): r is z.SafeParseSuccess<Route> => r.success)
      .map((r) => r.data)
      .filter((route) => route.spec.parentRefs.some((p) => p.name === this.options.gateway && (p.kind ?? 'Gateway') === 'Gateway'));
    const ready = this.readyEndpoints();
    const endpoints = new Map([...ready].map(([service, { endpoints: list }]) => [service, list.map((e) => e.url)]));
    for (const route of routes) await this.serve(route, endpoints);
    for (const service of this.serviceNames()) await this.serveService(service, ready.get(service));
    const names = new Set(routes.map((r) => `HTTPRoute/${r.metadata.name}`));
    for (const [key, listener] of this.listeners) {
      if (names.has(key) || key.startsWith('Service/')) continue;
      await listener.proxy.stop();
      this.listeners.delete(key);
      this.changes.push({ at: Date.now(), kind: 'HTTPRoute', route: key.slice('HTTPRoute/'.length), backends: [] });
    }
    this.writeScrapeTargets();
  }

  /** Each Service's ready endpoints and their port, from its EndpointSlices (label kubernetes.io/service-name). */
  private readyEndpoints(): Map<string, { port: number; endpoints: ReadyEndpoint[] }> {
    const byService = new Map<string, { port: number; endpoints: ReadyEndpoint[] }>();
    const reach = this.options.reach ?? ((address: string) => address);
    for (const object of this.slices!.list()) {
      const slice = endpointSliceSchema.safeParse(object);
      if (!slice.success) continue;
      const service = serviceOfSlice(slice.data);
      const port = slice.data.ports?.[0]?.port;
      if (!service || port === undefined) continue;
      const entry = byService.get(service) ?? { port, endpoints: [] };
      for (const endpoint of slice.data.endpoints ?? [])
        if (takesRequests(endpoint)) {
          const pod = endpoint.targetRef && (endpoint.targetRef.kind ?? 'Pod') === 'Pod' ? endpoint.targetRef.name : null;
          entry.endpoints.push(...endpoint.addresses.map((a) => ({ url: `http://${reach(a)}:${port}`, pod })));
        }
      entry.endpoints.sort((a, b) => a.url.localeCompare(b.url));
      byService.set(service, entry);
    }
    return byService;
  }

  /**
   * A plain Service, as kube-proxy balances it: each ready endpoint alike. Its versions are the workloads owning the
   * endpoints' Pods, oldest first: the oldest is served as `stable`, the newest as `canary` with its endpoints' share.
   */
  private async serveService(service: string, ready: { port: number; endpoints: ReadyEndpoint[] } | undefined): Promise<void> {
    const listener = await this.listener('Service', service);
    const pods = new Map((this.pods?.list() ?? []).map((object) => podSchema.safeParse(object)).filter((p) => p.success).map((p) => [p.data.metadata.name, p.data.metadata]));
    const versions = new Map<string, { endpoints: string[]; since: number }>();
    for (const endpoint of ready?.endpoints ?? []) {
      const pod = endpoint.pod === null ? undefined : pods.get(endpoint.pod);
      // A Pod the cache does not have yet (or a slice without targetRef) is its own workload until it is known.
      const workload = pod?.ownerReferences?.find((owner) => owner.controller)?.name ?? endpoint.pod ?? endpoint.url;
      const version = versions.get(workload) ?? { endpoints: [], since: Infinity };
      version.endpoints.push(endpoint.url);
      version.since = Math.min(version.since, pod?.creationTimestamp?.getTime() ?? Date.now());
      versions.set(workload, version);
    }
    const ordered = [...versions].sort(([a, x], [b, y]) => x.since - y.since || a.localeCompare(b));
    const port = ready?.port ?? 80;
    const backend = ([workload, version]: (typeof ordered)[number]): Backend => ({ url: workloadAddress({ workload, service, namespace: this.options.namespace, port }), endpoints: version.endpoints });
    const stable = ordered[0];
    const canary = ordered.length > 1 ? ordered.at(-1)! : undefined;
    const total = (stable?.[1].endpoints.length ?? 0) + (canary?.[1].endpoints.length ?? 0);
    const canaryWeight = canary ? Math.round((100 * canary[1].endpoints.length) / total) : 0;
    const before = listener.proxy.state();
    // No ready endpoint: the last stable stays, with none, and answers 503 (counted against it).
    const stableBackend = stable ? backend(stable) : before.stable ? { url: before.stable, endpoints: [] } : null;
    if (stableBackend) listener.proxy.setUpstreams({ stable: stableBackend, canary: canary ? backend(canary) : null });
    listener.proxy.setWeight(canaryWeight);
    const backends = [...(stable ? [{ name: stable[0], weight: 100 - canaryWeight, endpoints: stable[1].endpoints }] : []), ...(canary ? [{ name: canary[0], weight: canaryWeight, endpoints: canary[1].endpoints }] : [])];
    this.recordChange('Service', service, backends, before.weight !== listener.proxy.state().weight);
  }

  private recordChange(kind: ListenerKind, name: string, backends: GatewayChange['backends'], weightMoved: boolean): void {
    const last = [...this.changes].reverse().find((c) => c.kind === kind && c.route === name);
    if (JSON.stringify(last?.backends) !== JSON.stringify(backends) || weightMoved) this.changes.push({ at: Date.now(), kind, route: name, backends });
  }

  private async serve(route: Route, endpoints: Map<string, string[]>): Promise<void> {
    const name = route.metadata.name;
    const refs = (route.spec.rules[0]?.backendRefs ?? []).filter((ref) => (ref.kind ?? 'Service') === 'Service' && (ref.group ?? '') === '');
    const listener = await this.listener('HTTPRoute', name);
    const supported = refs.length >= 1 && refs.length <= 2;
    const backend = (ref: (typeof refs)[number]): Backend => ({ url: `http://${ref.name}.${this.options.namespace}.svc.cluster.local:${ref.port ?? 80}`, endpoints: endpoints.get(ref.name) ?? [] });
    if (supported) {
      const [stable, canary] = refs as [(typeof refs)[number], (typeof refs)[number] | undefined];
      const weights = refs.map((ref) => ref.weight ?? 1);
      const total = weights.reduce((a, b) => a + b, 0);
      const canaryWeight = canary && total > 0 ? Math.round((100 * weights[1]!) / total) : 0;
      const before = listener.proxy.state();
      // Upstreams first: a weight for a canary needs the canary there.
      listener.proxy.setUpstreams({ stable: backend(stable), canary: canary ? backend(canary) : null });
      listener.proxy.setWeight(canaryWeight);
      const after = listener.proxy.state();
      const backends = refs.map((ref, i) => ({ name: ref.name, weight: i === 0 ? 100 - canaryWeight : canaryWeight, endpoints: endpoints.get(ref.name) ?? [] }));
      this.recordChange('HTTPRoute', name, backends, before.weight !== after.weight);
    }
    const missing = refs.filter((ref) => !endpoints.has(ref.name)).map((ref) => ref.name);
    await this.writeStatus(route, listener, supported, missing);
  }

  private async listener(kind: ListenerKind, name: string): Promise<Listener> {
    const key = `${kind}/${name}`;
    let listener = this.listeners.get(key);
    if (!listener) {
      const ports = kind === 'HTTPRoute' ? this.options.listeners?.[name] : this.options.services?.[name];
      const proxy = new WeightedProxy(ports ? { publicPort: ports.publicPort, adminPort: ports.adminPort } : {});
      await proxy.start();
      listener = { proxy, status: '' };
      this.listeners.set(key, listener);
    }
    return listener;
  }

  /** status.parents for this Gateway, as a Gateway controller writes it; only when it changes. */
  private async writeStatus(route: Route, listener: Listener, supported: boolean, missing: string[]): Promise<void> {
    const generation = route.metadata.generation ?? 0;
    const conditions = [
      supported
        ? { type: 'Accepted', status: 'True', reason: 'Accepted', message: `served by the local gateway on ${listener.proxy.state().publicUrl}` }
        : { type: 'Accepted', status: 'False', reason: 'UnsupportedValue', message: 'the local gateway serves routes with one or two Service backends in their first rule' },
      missing.length === 0
        ? { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: 'every backend has an EndpointSlice' }
        : { type: 'ResolvedRefs', status: 'False', reason: 'BackendNotFound', message: `no EndpointSlice for ${missing.join(', ')}` },
    ];
    const key = JSON.stringify([generation, conditions]);
    if (key === listener.status) return;
    const now = new Date().toISOString();
    const status = {
      parents: [
        {
          parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: this.options.gateway },
          controllerName: CONTROLLER_NAME,
          conditions: conditions.map((c) => ({ ...c, observedGeneration: generation, lastTransitionTime: now })),
        },
      ],
    };
    try {
      await this.config
        .makeApiClient(k8s.CustomObjectsApi)
        .patchNamespacedCustomObjectStatus('gateway.networking.k8s.io', 'v1', this.options.namespace, 'httproutes', route.metadata.name, { status }, undefined, undefined, undefined, MERGE_PATCH);
      listener.status = key;
    } catch (err) {
      // A route deleted meanwhile needs no status; anything else is tried again on the next change.
      if (statusCodeOf(err) !== 404) console.error(`local gateway: status of HTTPRoute ${route.metadata.name}: ${(err as Error).message ?? String(err)}`);
    }
  }

  private writeScrapeTargets(): void {
    const file = this.options.scrapeTargetsFile;
    if (!file) return;
    const groups = [...this.listeners].map(([key, { proxy }]) => ({ targets: [new URL(proxy.state().adminUrl).host], labels: { service: key.slice(key.indexOf('/') + 1), component: 'gateway' } }));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(groups, null, 2));
    fs.renameSync(tmp, file);
  }
}

/**
 * Starts an informer (its first list), waiting out 429s: the API server answers "storage is (re)initializing" for a
 * custom kind while it takes in newly installed CRDs (Argo Rollouts' five, for one), for a few seconds.
 */
async function startInformer(informer: k8s.Informer<k8s.KubernetesObject>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await informer.start();
    } catch (err) {
      if (statusCodeOf(err) !== 429 || Date.now() > deadline) throw err;
      await sleep(500);
    }
  }
}

function statusCodeOf(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode ?? (err as { response?: { statusCode?: number } }).response?.statusCode;
}
