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
 */
import * as k8s from '@kubernetes/client-node';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
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
  /** A Prometheus file_sd file listing each route's /metrics (labels service = the route's name, component gateway). */
  scrapeTargetsFile?: string;
}

/** What the gateway applied to a route's listener, and when (the data plane's side of the route's history). */
export interface GatewayChange {
  at: number;
  route: string;
  backends: { name: string; weight: number; endpoints: string[] }[];
}

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

const sliceSchema = z.object({
  metadata: z.object({ labels: z.record(z.string()).default({}) }),
  ports: z.array(z.object({ port: z.number().int().optional() })).nullish(),
  endpoints: z.array(z.object({ addresses: z.array(z.string()), conditions: z.object({ ready: z.boolean().nullish(), terminating: z.boolean().nullish() }).nullish() })).nullish(),
});

interface Listener {
  proxy: WeightedProxy;
  /** The status last written, so an unchanged one is not written again. */
  status: string;
}

export class LocalGateway {
  private readonly config: k8s.KubeConfig;
  private routes?: k8s.Informer<k8s.KubernetesObject> & k8s.ObjectCache<k8s.KubernetesObject>;
  private slices?: k8s.Informer<k8s.V1EndpointSlice> & k8s.ObjectCache<k8s.V1EndpointSlice>;
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
    for (const informer of [routes, slices] as k8s.Informer<k8s.KubernetesObject>[]) {
      for (const event of ['add', 'update', 'delete'] as const) informer.on(event, () => this.sync());
      informer.on('error', () => {
        if (this.running) setTimeout(() => void informer.start().catch(() => undefined), 500);
      });
    }
    this.routes = routes;
    this.slices = slices;
    await Promise.all([routes.start(), slices.start()]);
    await this.sync();
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all([this.routes?.stop(), this.slices?.stop()]);
    await this.syncing;
    await Promise.all([...this.listeners.values()].map((l) => l.proxy.stop()));
    this.listeners.clear();
    this.writeScrapeTargets();
  }

  /** Where a route's traffic is served (http://127.0.0.1:<port>), once the route exists. */
  url(route: string): string {
    const listener = this.listeners.get(route);
    if (!listener) throw new Error(`the local gateway serves no HTTPRoute '${route}' in namespace ${this.options.namespace} (attached to Gateway ${this.options.gateway})`);
    return listener.proxy.state().publicUrl;
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
    const endpoints = this.readyEndpoints();
    for (const route of routes) await this.serve(route, endpoints);
    const names = new Set(routes.map((r) => r.metadata.name));
    for (const [name, listener] of this.listeners) {
      if (names.has(name)) continue;
      await listener.proxy.stop();
      this.listeners.delete(name);
      this.changes.push({ at: Date.now(), route: name, backends: [] });
    }
    this.writeScrapeTargets();
  }

  /** Each Service's ready endpoint URLs, from its EndpointSlices (label kubernetes.io/service-name). */
  private readyEndpoints(): Map<string, string[]> {
    const byService = new Map<string, string[]>();
    const reach = this.options.reach ?? ((address: string) => address);
    for (const object of this.slices!.list()) {
      const slice = sliceSchema.safeParse(object);
      if (!slice.success) continue;
      const service = slice.data.metadata.labels['kubernetes.io/service-name'];
      const port = slice.data.ports?.[0]?.port;
      if (!service || port === undefined) continue;
      const urls = byService.get(service) ?? [];
      // Ready unknown (nil) counts as ready (the EndpointSlice API's rule); terminating ones take no new requests.
      for (const endpoint of slice.data.endpoints ?? [])
        if (endpoint.conditions?.ready !== false && endpoint.conditions?.terminating !== true) urls.push(...endpoint.addresses.map((a) => `http://${reach(a)}:${port}`));
      byService.set(service, urls.sort());
    }
    return byService;
  }

  private async serve(route: Route, endpoints: Map<string, string[]>): Promise<void> {
    const name = route.metadata.name;
    const refs = (route.spec.rules[0]?.backendRefs ?? []).filter((ref) => (ref.kind ?? 'Service') === 'Service' && (ref.group ?? '') === '');
    const listener = await this.listener(name);
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
      const last = [...this.changes].reverse().find((c) => c.route === name);
      if (JSON.stringify(last?.backends) !== JSON.stringify(backends) || before.weight !== after.weight) this.changes.push({ at: Date.now(), route: name, backends });
    }
    const missing = refs.filter((ref) => !endpoints.has(ref.name)).map((ref) => ref.name);
    await this.writeStatus(route, listener, supported, missing);
  }

  private async listener(route: string): Promise<Listener> {
    let listener = this.listeners.get(route);
    if (!listener) {
      const ports = this.options.listeners?.[route];
      const proxy = new WeightedProxy(ports ? { publicPort: ports.publicPort, adminPort: ports.adminPort } : {});
      await proxy.start();
      listener = { proxy, status: '' };
      this.listeners.set(route, listener);
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
      const code = (err as { statusCode?: number }).statusCode ?? (err as { response?: { statusCode?: number } }).response?.statusCode;
      if (code !== 404) console.error(`local gateway: status of HTTPRoute ${route.metadata.name}: ${(err as Error).message ?? String(err)}`);
    }
  }

  private writeScrapeTargets(): void {
    const file = this.options.scrapeTargetsFile;
    if (!file) return;
    const groups = [...this.listeners].map(([route, { proxy }]) => ({ targets: [new URL(proxy.state().adminUrl).host], labels: { service: route, component: 'gateway' } }));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(groups, null, 2));
    fs.renameSync(tmp, file);
  }
}
