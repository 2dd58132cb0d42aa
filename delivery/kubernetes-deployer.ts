/**
 * The Kubernetes deployer: each version of a service is a Deployment and a Service (`<service>-<sha12>`),
 * and one Gateway API HTTPRoute per service splits the traffic by backend weights (core/kubernetes-manifests.ts
 * renders them). Everything is applied with server-side apply (field manager `maestro`), so a retried
 * call changes nothing; the route carries the rollout's state in its annotations and is written with
 * its resourceVersion, so two writers never overwrite each other (a conflict is read again and retried).
 * The service's lease is a coordination.k8s.io Lease. Rollout state comes from watches, not from polling: no
 * backend of the route is given weight before its Deployment is available AND its Service has the replicas as
 * ready endpoints in its EndpointSlices (written by the EndpointSlice controller, often a moment after the
 * Deployment counts the Pods available; a Gateway answers 503 for a backend without ready endpoints).
 *
 * Refusals say what to fix: a 403 names the verb and resource the deployer's identity must be granted
 * (docs/kubernetes.md has the Role), a missing HTTPRoute kind names the CRD to install.
 */
import * as k8s from '@kubernetes/client-node';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  DeployCanaryInput,
  DeployCanaryResult,
  Deployer,
  EnsureStableInput,
  EnsureStableResult,
  LeaseInput,
  OwnedRef,
  PromoteResult,
  RollbackResult,
  ServiceLease,
  ServiceRef,
  ServiceStatus,
  SetWeightInput,
  StartTrafficInput,
  WatchCanaryInput,
} from '../core/delivery';
import { countEndpoints, endpointSliceSchema, SERVICE_NAME_LABEL } from '../core/endpoint-slices';
import { PermanentError, TransientError } from '../core/errors';
import type { ProbeSample } from '../core/health';
import {
  CONTAINER_PORT,
  checkKubernetesServiceName,
  readRouteState,
  renderEnvSecret,
  renderRoute,
  renderVersion,
  versionName,
  type KubernetesObject,
  type RouteState,
} from '../core/kubernetes-manifests';
import type { Trip } from '../core/tripwire';
import { withLock } from '../io/lock';
import { DeliveryInputError, NotCanaryOwnerError, ServiceBusyError, busy, checkOwner, checkServiceEnv, checkWeight } from './local-deployer';

export interface KubernetesDeployerOptions {
  /** A kubeconfig file (its current context is used), or IN_CLUSTER: the Pod's service account. */
  kubeconfig: string;
  namespace: string;
  /** Images are `<repository>/<service>:<sha>`, built and pushed by the service's CI. */
  imageRepository: string;
  /** The Gateway every route attaches to (same namespace). */
  gateway: string;
  replicas?: number;
  /** How long a version may take to become available (Deployment availableReplicas), and then again its Service's ready endpoints. */
  rolloutTimeoutMs?: number;
  /** Where this process's per-service lock directories go (the cluster's resourceVersions guard across machines). */
  lockDir: string;
}

/** The Kubernetes API refused the deployer's identity: retrying cannot help until someone grants the verb. */
export class KubernetesForbiddenError extends PermanentError {
  constructor(message: string, details: Record<string, unknown>) {
    super(message, 'KubernetesForbidden', details);
  }
}
/** The cluster does not serve a kind the deployer needs (a CRD is not installed). */
export class KubernetesKindMissingError extends PermanentError {
  constructor(message: string, details: Record<string, unknown>) {
    super(message, 'KubernetesKindMissing', details);
  }
}
/** The tripwire and the deployer's own figures need the local proxy; on Kubernetes the gates read Prometheus. */
export class NotOnKubernetesError extends PermanentError {
  constructor(message: string) {
    super(message, 'NotOnKubernetes');
  }
}

const FIELD_MANAGER = 'maestro';
// Lower-case: the client sets 'content-type' (strategic merge) itself, and only the same key overrides it.
const APPLY = { headers: { 'content-type': k8s.PatchUtils.PATCH_FORMAT_APPLY_YAML } };
const CONFLICT_RETRIES = 5;

/** What each kind is called in RBAC (group, resource), for the grant a 403 asks for. */
const RBAC_RESOURCE: Record<string, { group: string; resource: string }> = {
  Deployment: { group: 'apps', resource: 'deployments' },
  Service: { group: '', resource: 'services' },
  EndpointSlice: { group: 'discovery.k8s.io', resource: 'endpointslices' },
  Secret: { group: '', resource: 'secrets' },
  HTTPRoute: { group: 'gateway.networking.k8s.io', resource: 'httproutes' },
  Rollout: { group: 'argoproj.io', resource: 'rollouts' },
  'Rollout/status': { group: 'argoproj.io', resource: 'rollouts/status' },
  Lease: { group: 'coordination.k8s.io', resource: 'leases' },
};

/** Where the CRD of a kind that may be missing comes from, for the error that asks to install it. */
const CRD_HINT: Record<string, string> = {
  HTTPRoute: " (Gateway API: 'kubectl apply --server-side -f infra/kubernetes/crds/' here, or the Gateway API standard-install.yaml on a real cluster)",
  Rollout: " (Argo Rollouts: install Argo Rollouts, whose manifests/install.yaml holds the CRDs, or 'kubectl apply --server-side -f manifests/crds/' of its release; scripts/setup-argo-rollouts.sh keeps them under .maestro/argo-rollouts/crds here)",
};

/** MAESTRO_K8S_KUBECONFIG=in-cluster: the worker runs in a Pod and talks to its cluster as its service account. */
export const IN_CLUSTER = 'in-cluster';

/**
 * A kubeconfig file, or in a Pod the in-cluster configuration: KUBERNETES_SERVICE_HOST/PORT, the service account's
 * token and CA under /var/run/secrets/kubernetes.io/serviceaccount (TOKEN_FILE_PATH, KUBERNETES_CA_FILE_PATH
 * elsewhere). The token file is read again as the kubelet rotates it.
 */
/**
 * What a promote starts from: the canary, checked against the train that owns it; or, when there is no canary
 * and the stable is the last one promoted, that promotion (a retried activity finds its work done).
 */
export function canaryToPromote(service: string, state: Pick<RouteState, 'stable' | 'canary' | 'owner' | 'lastPromotion'>, owner: string | undefined): { canary: string } | { done: { sha: string; at: number } } {
  if (!state.canary) {
    const done = state.lastPromotion;
    if (done && state.stable === done.sha) return { done };
    throw new DeliveryInputError(`cannot promote '${service}': no canary is deployed`);
  }
  if (owner && state.owner && state.owner !== owner)
    throw new NotCanaryOwnerError(`cannot promote '${service}': its canary ${state.canary.slice(0, 12)} belongs to train ${state.owner}, not ${owner}`);
  return { canary: state.canary };
}

export function loadKubeConfig(kubeconfig: string, env: NodeJS.ProcessEnv = process.env): k8s.KubeConfig {
  const config = new k8s.KubeConfig();
  if (kubeconfig !== IN_CLUSTER) {
    if (!fs.existsSync(kubeconfig)) throw new DeliveryInputError(`kubeconfig ${kubeconfig} does not exist: start the local cluster (maestro up --k8s), set MAESTRO_K8S_KUBECONFIG, or use '${IN_CLUSTER}' in a Pod`);
    config.loadFromFile(kubeconfig);
    return config;
  }
  if (!env.KUBERNETES_SERVICE_HOST || !env.KUBERNETES_SERVICE_PORT)
    throw new DeliveryInputError(`MAESTRO_K8S_KUBECONFIG=${IN_CLUSTER} but KUBERNETES_SERVICE_HOST/PORT are not set: this process does not run in a Pod; give a kubeconfig file instead`);
  const token = env.TOKEN_FILE_PATH ?? '/var/run/secrets/kubernetes.io/serviceaccount/token';
  if (!fs.existsSync(token)) throw new DeliveryInputError(`MAESTRO_K8S_KUBECONFIG=${IN_CLUSTER} but there is no service account token at ${token}: is automountServiceAccountToken off?`);
  config.loadFromCluster();
  return config;
}

export class KubernetesDeployer implements Deployer {
  // Protected: delivery/argo-rollouts-deployer.ts drives a Rollout with the same API plumbing and lease.
  protected readonly objects: k8s.KubernetesObjectApi;
  private readonly leases: k8s.CoordinationV1Api;
  private readonly watcher: k8s.Watch;
  protected readonly namespace: string;
  protected readonly replicas: number;
  protected readonly rolloutTimeoutMs: number;
  protected readonly config: k8s.KubeConfig;

  constructor(protected readonly options: KubernetesDeployerOptions) {
    const config = loadKubeConfig(options.kubeconfig);
    this.config = config;
    this.objects = k8s.KubernetesObjectApi.makeApiClient(config);
    this.leases = config.makeApiClient(k8s.CoordinationV1Api);
    this.watcher = new k8s.Watch(config);
    this.namespace = options.namespace;
    this.replicas = options.replicas ?? 1;
    this.rolloutTimeoutMs = options.rolloutTimeoutMs ?? 120_000;
  }

  async hasService(service: string): Promise<boolean> {
    return (await this.readRoute(checkKubernetesServiceName(service))) !== null;
  }

  /** `sha` as the only version (100% of the traffic); the previous stable's objects are deleted once the route no longer sends to them. */
  async ensureStable(input: EnsureStableInput): Promise<EnsureStableResult> {
    const service = checkKubernetesServiceName(input.service);
    const healthPath = checkHealthPath(input.descriptor.healthPath);
    return this.withServiceLock(service, async () => {
      if (input.env) await this.apply(renderEnvSecret(service, this.namespace, checkServiceEnv(input.env)));
      await this.applyVersion(service, input.sha, healthPath);
      await this.awaitServing(versionName(service, input.sha));
      const before = await this.updateRoute(service, (state) => ({
        repo: input.repo,
        healthPath,
        stable: input.sha,
        canary: null,
        owner: null,
        weight: 0,
        lastPromotion: state?.lastPromotion ?? null,
        lastRollback: state?.lastRollback ?? null,
      }));
      for (const sha of [before?.stable, before?.canary]) if (sha && sha !== input.sha) await this.deleteVersion(service, sha);
      return { proxyUrl: this.routeUrl(service), stable: this.version(service, input.sha) };
    });
  }

  /** Stable (baseSha if the service is new) and the canary `sha` at weight 0, once the canary's Deployment is available and its Service has ready endpoints. */
  async deployCanary(input: DeployCanaryInput): Promise<DeployCanaryResult> {
    const service = checkKubernetesServiceName(input.service);
    const healthPath = checkHealthPath(input.descriptor.healthPath);
    return this.withServiceLock(service, async () => {
      const lease = await this.lease({ service });
      if (input.owner && lease && lease.owner !== input.owner) throw busy(service, lease);
      const state = (await this.readRoute(service))?.state ?? null;
      if (!state) {
        await this.applyVersion(service, input.baseSha, healthPath);
        await this.awaitServing(versionName(service, input.baseSha));
      }
      const leaseHolder = input.owner !== undefined && lease?.owner === input.owner;
      if (state?.canary && state.owner && input.owner && state.owner !== input.owner && !leaseHolder)
        throw new ServiceBusyError(`service '${service}' is held by train ${state.owner} (canary ${state.canary.slice(0, 12)}); it is free once that train promotes or rolls back`, state.owner);
      const replaced = state?.canary && state.canary !== input.sha ? state.canary : null;
      await this.applyVersion(service, input.sha, healthPath);
      // Weight 0 for now, but setWeight may follow at once: the canary is served before this returns.
      await this.awaitServing(versionName(service, input.sha));
      await this.updateRoute(service, (current) => ({
        repo: input.repo,
        healthPath,
        stable: current?.stable ?? input.baseSha,
        canary: input.sha,
        owner: input.owner ?? null,
        weight: 0,
        lastPromotion: null,
        lastRollback: null,
      }));
      const { stable } = await this.requireRoute(service);
      if (replaced && replaced !== stable) await this.deleteVersion(service, replaced);
      return { proxyUrl: this.routeUrl(service), stable: this.version(service, stable), canary: this.version(service, input.sha) };
    });
  }

  async setWeight(input: SetWeightInput): Promise<{ weight: number }> {
    const service = checkKubernetesServiceName(input.service);
    const weight = checkWeight(input.weight);
    return this.withServiceLock(service, async () => {
      // The backend that gains weight must have ready endpoints first (a no-op list when it has: the usual case).
      const read = await this.readRoute(service);
      const before = read?.state;
      if (before && weight > before.weight && before.canary) await this.awaitReadyEndpoints(versionName(service, before.canary), SHIFT_ENDPOINTS_WAIT_MS);
      if (before && weight < before.weight) await this.awaitReadyEndpoints(versionName(service, before.stable), SHIFT_ENDPOINTS_WAIT_MS);
      await this.updateRoute(service, (state) => {
        if (!state) throw new DeliveryInputError(`unknown service '${service}': no HTTPRoute in namespace ${this.namespace}`);
        if (weight > 0 && !state.canary) throw new DeliveryInputError(`cannot set weight ${weight} for '${service}': no canary is deployed`);
        if (input.owner && state.owner && state.owner !== input.owner)
          throw new NotCanaryOwnerError(`cannot set weight for '${service}': its canary belongs to train ${state.owner}, not ${input.owner}`);
        return { ...state, weight };
      }, read);
      return { weight };
    });
  }

  /**
   * All traffic back on stable (the route first), then the canary's objects are deleted. The stable has ready
   * endpoints before it takes the canary's share (it normally has: one list); while it has none the canary keeps
   * its share (the rollback fails after SHIFT_ENDPOINTS_WAIT_MS and is retried), which serves more requests than
   * a backend a Gateway can only answer 503 for.
   */
  async rollback(input: OwnedRef): Promise<RollbackResult> {
    const service = checkKubernetesServiceName(input.service);
    return this.withServiceLock(service, async () => {
      const read = await this.readRoute(service);
      const before = read?.state;
      const othersCanary = input.owner && before?.owner && before.owner !== input.owner;
      if (before && before.weight > 0 && !othersCanary) await this.awaitReadyEndpoints(versionName(service, before.stable), SHIFT_ENDPOINTS_WAIT_MS);
      let canary: string | null = null;
      let stable: string | null = null;
      let at = Date.now();
      await this.updateRoute(service, (state) => {
        if (!state) throw new DeliveryInputError(`unknown service '${service}': no HTTPRoute in namespace ${this.namespace}`);
        stable = state.stable;
        // Another train's canary is not ours to roll back: ours no longer takes traffic, which is what was asked.
        if (input.owner && state.owner && state.owner !== input.owner) return state;
        canary = state.canary;
        if (!canary) {
          at = state.lastRollback?.at ?? at; // a retried rollback reports when the first one moved the traffic
          return { ...state, weight: 0 };
        }
        at = Date.now();
        return { ...state, canary: null, owner: null, weight: 0, lastRollback: { sha: canary, at } };
      }, read);
      if (canary && canary !== stable) await this.deleteVersion(service, canary);
      return { at };
    });
  }

  /** The canary becomes stable (100%, in one route write) and the old stable's objects are deleted. */
  async promote(input: OwnedRef): Promise<PromoteResult> {
    const service = checkKubernetesServiceName(input.service);
    return this.withServiceLock(service, async () => {
      const state = await this.requireRoute(service);
      const next = canaryToPromote(service, state, input.owner);
      if ('done' in next) return { at: next.done.at, stable: this.version(service, next.done.sha), previousStableSha: null };
      const { canary } = next;
      await this.awaitServing(versionName(service, canary));
      const at = Date.now();
      const before = await this.updateRoute(service, (current) => ({ ...current!, stable: canary, canary: null, owner: null, weight: 0, lastPromotion: { sha: canary, at } }));
      const previous = before?.stable ?? null;
      if (previous && previous !== canary) await this.deleteVersion(service, previous);
      return { at, stable: this.version(service, canary), previousStableSha: previous };
    });
  }

  /** The objects and weights: each version is alive when its Deployment has all replicas available. */
  async status(input: ServiceRef): Promise<ServiceStatus> {
    const service = checkKubernetesServiceName(input.service);
    const state = await this.requireRoute(service);
    const version = async (sha: string | null) => {
      if (!sha) return null;
      const deployment = await this.readObject('apps/v1', 'Deployment', versionName(service, sha));
      return { ...this.version(service, sha), alive: deployment !== null && isAvailable(deployment, this.replicas) };
    };
    const [stable, canary] = await Promise.all([version(state.stable), version(state.canary)]);
    const url = (sha: string | null) => (sha ? this.version(service, sha).url : null);
    return {
      service,
      repo: state.repo,
      proxy: null,
      weight: state.weight,
      stable,
      canary: canary ? { ...canary, ...(state.owner ? { owner: state.owner } : {}) } : null,
      routes: { stable: url(state.stable), canary: url(state.canary) },
      traffic: null,
      lastPromotion: state.lastPromotion,
      lastRollback: state.lastRollback,
      lease: await this.lease({ service }),
      kubernetes: {
        namespace: this.namespace,
        route: service,
        backends: [
          { name: versionName(service, state.stable), role: 'stable', weight: 100 - state.weight },
          ...(state.canary ? [{ name: versionName(service, state.canary), role: 'canary' as const, weight: state.weight }] : []),
        ],
      },
    };
  }

  /** The lease is a coordination.k8s.io Lease `maestro-<service>`; taken with create, or replace at the read resourceVersion. */
  async acquireLease(input: LeaseInput): Promise<ServiceLease> {
    const service = checkKubernetesServiceName(input.service);
    const owner = checkOwner(input.owner);
    return this.retryConflicts(`lease of '${service}'`, async () => {
      const current = await this.readLease(service);
      const holder = current?.spec?.holderIdentity;
      if (current && holder === owner) return leaseOf(current);
      if (current && holder && holder !== input.replacing) throw busy(service, leaseOf(current));
      const now = new k8s.V1MicroTime();
      const body: k8s.V1Lease = { metadata: { name: leaseName(service), namespace: this.namespace, ...(current ? { resourceVersion: current.metadata!.resourceVersion } : {}) }, spec: { holderIdentity: owner, acquireTime: now } };
      const taken = current
        ? await this.call('update', 'Lease', () => this.leases.replaceNamespacedLease(leaseName(service), this.namespace, body, undefined, undefined, FIELD_MANAGER))
        : await this.call('create', 'Lease', () => this.leases.createNamespacedLease(this.namespace, body, undefined, undefined, FIELD_MANAGER));
      return leaseOf(taken.body);
    });
  }

  async releaseLease(input: LeaseInput): Promise<{ released: boolean }> {
    const service = checkKubernetesServiceName(input.service);
    const owner = checkOwner(input.owner);
    return this.retryConflicts(`lease of '${service}'`, async () => {
      const current = await this.readLease(service);
      if (current?.spec?.holderIdentity !== owner) return { released: false };
      // Deleted only at the resourceVersion read: a lease taken over meanwhile stays with its new holder.
      const preconditions = { resourceVersion: current.metadata!.resourceVersion };
      await this.call('delete', 'Lease', () => this.leases.deleteNamespacedLease(leaseName(service), this.namespace, undefined, undefined, undefined, undefined, undefined, { preconditions }));
      return { released: true };
    });
  }

  async lease(input: ServiceRef): Promise<ServiceLease | null> {
    const current = await this.readLease(checkKubernetesServiceName(input.service));
    return current?.spec?.holderIdentity ? leaseOf(current) : null;
  }

  /** Deletes the route, every version's objects and the configuration Secret of the service. */
  async stopService(input: ServiceRef): Promise<{ stoppedPids: number[] }> {
    const service = checkKubernetesServiceName(input.service);
    return this.withServiceLock(service, async () => {
      const state = (await this.readRoute(service))?.state;
      await this.deleteObject('gateway.networking.k8s.io/v1', 'HTTPRoute', service);
      for (const sha of [state?.stable, state?.canary]) if (sha) await this.deleteVersion(service, sha);
      await this.deleteObject('v1', 'Secret', `${service}-env`);
      return { stoppedPids: [] };
    });
  }

  async probe(): Promise<ProbeSample> {
    throw new NotOnKubernetesError('the Kubernetes deployer has no per-version figures of its own (there is no Maestro proxy in the cluster): set MAESTRO_HEALTH_SOURCE=prometheus so the gates read them from Prometheus');
  }

  async awaitTrip(input: WatchCanaryInput): Promise<Trip | null> {
    throw new NotOnKubernetesError(`the tripwire needs every canary request's outcome, which only the local proxy sees; remove 'tripwire' from the rollout plan of '${input.service}' on Kubernetes (the metric gates still judge it)`);
  }

  async startTraffic(input: StartTrafficInput): Promise<{ pid: number; targetUrl: string }> {
    throw new NotOnKubernetesError(`synthetic traffic is generated for local services only; '${input.service}' on Kubernetes is served its real traffic through the Gateway`);
  }

  async stopTraffic(): Promise<{ stopped: boolean }> {
    return { stopped: false };
  }

  // ── objects ──────────────────────────────────────────────────────────────────────────────────

  private version(service: string, sha: string) {
    return { sha, url: `http://${versionName(service, sha)}.${this.namespace}.svc.cluster.local:${CONTAINER_PORT}` };
  }
  private routeUrl(service: string): string {
    return `http://${this.options.gateway}.${this.namespace}.svc.cluster.local (HTTPRoute ${service})`;
  }

  private async applyVersion(service: string, sha: string, healthPath: string): Promise<void> {
    for (const object of renderVersion({ service, namespace: this.namespace, sha, imageRepository: this.options.imageRepository, healthPath, replicas: this.replicas }))
      await this.apply(object);
  }

  private async deleteVersion(service: string, sha: string): Promise<void> {
    await this.deleteObject('v1', 'Service', versionName(service, sha));
    await this.deleteObject('apps/v1', 'Deployment', versionName(service, sha));
  }

  /** Server-side apply as field manager `maestro` (force: the deployer owns these objects' fields). */
  protected async apply(object: KubernetesObject): Promise<KubernetesObject> {
    const { body } = await this.call('patch', object.kind, () => this.objects.patch(object, undefined, undefined, FIELD_MANAGER, true, APPLY));
    return body as KubernetesObject;
  }

  protected async readObject(apiVersion: string, kind: string, name: string): Promise<KubernetesObject | null> {
    try {
      const { body } = await this.call('get', kind, () => this.objects.read({ apiVersion, kind, metadata: { name, namespace: this.namespace } }));
      return body as KubernetesObject;
    } catch (err) {
      if (err instanceof KubernetesNotFound) return null;
      throw err;
    }
  }

  protected async deleteObject(apiVersion: string, kind: string, name: string): Promise<void> {
    try {
      await this.call('delete', kind, () => this.objects.delete({ apiVersion, kind, metadata: { name, namespace: this.namespace } }, undefined, undefined, undefined, undefined, 'Background'));
    } catch (err) {
      if (!(err instanceof KubernetesNotFound)) throw err;
    }
  }

  private async readRoute(service: string): Promise<RouteRead | null> {
    const route = await this.readObject('gateway.networking.k8s.io/v1', 'HTTPRoute', service);
    return route ? { state: readRouteState(service, route), resourceVersion: route.metadata.resourceVersion! } : null;
  }

  private async requireRoute(service: string): Promise<RouteState> {
    const route = await this.readRoute(service);
    if (!route) throw new DeliveryInputError(`unknown service '${service}': no HTTPRoute '${service}' in namespace ${this.namespace}`);
    return route.state;
  }

  /**
   * Read the route (or take the caller's read), compute its next state, apply it at the resourceVersion read: a concurrent writer
   * makes the apply fail with 409 Conflict, and the change is computed again from what is there now.
   * Returns the state before the change.
   */
  private async updateRoute(service: string, next: (state: RouteState | null) => RouteState, alreadyRead?: RouteRead | null): Promise<RouteState | null> {
    // The caller's own read serves the first attempt; a conflict means it is stale, so a retry reads again.
    let known = alreadyRead;
    return this.retryConflicts(`HTTPRoute '${service}'`, async () => {
      const current = known !== undefined ? known : await this.readRoute(service);
      known = undefined;
      const state = next(current?.state ?? null);
      await this.apply(renderRoute({ service, namespace: this.namespace, gateway: this.options.gateway, state, resourceVersion: current?.resourceVersion }));
      return current?.state ?? null;
    });
  }

  protected async retryConflicts<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    for (let tries = 1; ; tries++) {
      try {
        return await attempt();
      } catch (err) {
        if (!(err instanceof KubernetesConflict)) throw err;
        if (tries >= CONFLICT_RETRIES) throw new TransientError(`${what} kept changing under Maestro: ${CONFLICT_RETRIES} writes in a row met a newer resourceVersion (${err.message})`, 'KubernetesConflict');
        await sleep(20 * tries + Math.floor(Math.random() * 20));
      }
    }
  }

  private async readLease(service: string): Promise<k8s.V1Lease | null> {
    try {
      return (await this.call('get', 'Lease', () => this.leases.readNamespacedLease(leaseName(service), this.namespace))).body;
    } catch (err) {
      if (err instanceof KubernetesNotFound) return null;
      throw err;
    }
  }

  /** A version may be given weight: its Deployment is available, then its Service has the replicas as ready endpoints. */
  private async awaitServing(name: string): Promise<void> {
    await this.awaitAvailable(name);
    await this.awaitReadyEndpoints(name);
  }

  /**
   * Watches the Service's EndpointSlices (label kubernetes.io/service-name) until they hold `replicas` ready
   * endpoints. The EndpointSlice controller writes them after the Pods are ready, sometimes well after the
   * Deployment counts them available; until then a Gateway has nowhere to send the backend's share (503).
   */
  private async awaitReadyEndpoints(service: string, timeoutMs = this.rolloutTimeoutMs): Promise<void> {
    const selector = `${SERVICE_NAME_LABEL}=${service}`;
    await this.awaitSet(
      { kind: 'EndpointSlice', path: `/apis/discovery.k8s.io/v1/namespaces/${this.namespace}/endpointslices`, selector: { labelSelector: selector } },
      async () => {
        const { body } = await this.call('list', 'EndpointSlice', () => this.objects.list('discovery.k8s.io/v1', 'EndpointSlice', this.namespace, undefined, undefined, undefined, undefined, selector));
        return { items: body.items as KubernetesObject[], resourceVersion: body.metadata?.resourceVersion ?? '' };
      },
      (slices) => countEndpoints(slices.map((slice) => endpointSliceSchema.parse(slice))).ready >= this.replicas,
      (slices) => {
        const { ready, total } = countEndpoints(slices.map((slice) => endpointSliceSchema.parse(slice)));
        const cause =
          slices.length === 0
            ? `no EndpointSlice is labelled ${selector}: is the EndpointSlice controller (kube-controller-manager) running?`
            : total < this.replicas
              ? "the EndpointSlice controller leaves out Pods without a Pod IP or whose Node it cannot find: are the Pods scheduled, and their Nodes there?"
              : 'its Pods are not ready (a failing readiness probe), or their Node is not Ready';
        return `Service ${this.namespace}/${service} had ${ready}/${total} endpoints ready in its EndpointSlices within ${timeoutMs} ms (needs ${this.replicas}): ${cause}`;
      },
      timeoutMs,
    );
  }

  /**
   * Watches the Deployment until its new ReplicaSet's Pods are all available (observedGeneration caught
   * up, updated = available = replicas).
   */
  private async awaitAvailable(name: string): Promise<void> {
    await this.awaitObject({ apiVersion: 'apps/v1', kind: 'Deployment', path: `/apis/apps/v1/namespaces/${this.namespace}/deployments`, name }, (d) => isAvailable(d, this.replicas), (last) => {
      const status = (last?.status ?? {}) as Record<string, unknown>;
      return `Deployment ${this.namespace}/${name} was not available within ${this.rolloutTimeoutMs} ms (replicas ${this.replicas}, status ${JSON.stringify({ updatedReplicas: status.updatedReplicas ?? 0, availableReplicas: status.availableReplicas ?? 0, readyReplicas: status.readyReplicas ?? 0 })}): its Pods are not ready`;
    });
  }

  /**
   * Resolves with the object once `done` holds for it, learnt from a watch that starts at the resourceVersion of a
   * read (no change between the read and the watch is missed); a watch the server closes is opened again. After
   * rolloutTimeoutMs it fails (transient) with `timedOut`'s words about the last state seen.
   */
  protected async awaitObject(
    ref: { apiVersion: string; kind: string; path: string; name: string },
    done: (object: KubernetesObject) => boolean,
    timedOut: (last: KubernetesObject | null) => string,
  ): Promise<KubernetesObject> {
    const [object] = await this.awaitSet(
      { kind: ref.kind, path: ref.path, selector: { fieldSelector: `metadata.name=${ref.name}` } },
      async () => {
        const read = await this.readObject(ref.apiVersion, ref.kind, ref.name);
        if (!read) throw new TransientError(`${ref.kind} ${this.namespace}/${ref.name} disappeared while Maestro waited on it`, 'KubernetesRollout');
        return { items: [read], resourceVersion: read.metadata.resourceVersion! };
      },
      (objects) => objects.length === 1 && done(objects[0]!),
      (last) => timedOut(last[0] ?? null),
    );
    return object!;
  }

  /**
   * Resolves with the objects a selector picks once `done` holds for them, learnt from a watch that starts at the
   * resourceVersion of a read (a get or a list: no change between the read and the watch is missed); a watch the
   * server closes is opened again from a new read. After `timeoutMs` it fails (transient) with `timedOut`'s words
   * about the last objects seen.
   */
  private async awaitSet(
    set: WatchedSet,
    read: () => Promise<{ items: KubernetesObject[]; resourceVersion: string }>,
    done: (objects: KubernetesObject[]) => boolean,
    timedOut: (last: KubernetesObject[]) => string,
    timeoutMs = this.rolloutTimeoutMs,
  ): Promise<KubernetesObject[]> {
    const deadline = Date.now() + timeoutMs;
    let last: KubernetesObject[] = [];
    while (Date.now() < deadline) {
      const listed = await read();
      last = listed.items;
      if (done(last)) return last;
      last = await this.watchSet(set, listed, deadline - Date.now(), done);
      if (done(last)) return last;
    }
    throw new TransientError(timedOut(last), 'KubernetesRollout');
  }

  /** Resolves with the objects as the watch events left them, once they show `done`, or when the watch ends or `waitMs` passes. */
  private watchSet(set: WatchedSet, from: { items: KubernetesObject[]; resourceVersion: string }, waitMs: number, done: (objects: KubernetesObject[]) => boolean): Promise<KubernetesObject[]> {
    return new Promise((resolve, reject) => {
      const seen = new Map(from.items.map((object) => [object.metadata.name, object]));
      let request: { abort(): void } | undefined;
      let settled = false;
      // Settled here, not by the client's done callback: an aborted watch does not always call it.
      const settle = (err?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        request?.abort();
        if (err) reject(err);
        else resolve([...seen.values()]);
      };
      const timer = setTimeout(() => settle(), Math.max(waitMs, 100));
      const fail = (err: unknown) => settle(this.explain(err, 'watch', set.kind));
      this.watcher
        .watch(
          set.path,
          { ...set.selector, resourceVersion: from.resourceVersion, timeoutSeconds: Math.max(1, Math.ceil(waitMs / 1000)) },
          (phase, object: KubernetesObject) => {
            if (phase === 'ADDED' || phase === 'MODIFIED') seen.set(object.metadata.name, object);
            if (phase === 'DELETED') seen.delete(object.metadata.name);
            if (done([...seen.values()])) settle();
          },
          // A watch the server ends (timeout, a restart) is not a failure: the caller reads again and watches on. A
          // refusal is: a watch not granted (403) would otherwise be opened again until the deadline, unexplained.
          (err: unknown) => (statusCodeOf(err) === 403 ? fail(err) : settle()),
        )
        .then(
          (req: { abort(): void }) => {
            request = req;
            if (settled) req.abort();
          },
          fail,
        );
    });
  }

  /** Runs one API call; 403, 404, 409 and a missing kind become errors that say what they mean. */
  protected async call<T>(verb: string, kind: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (err) {
      throw this.explain(err, verb, kind);
    }
  }

  private explain(err: unknown, verb: string, kind: string): Error {
    const rbac = RBAC_RESOURCE[kind] ?? { group: '?', resource: kind.toLowerCase() };
    const statusCode = statusCodeOf(err);
    const message = err instanceof Error ? err.message : String(err);
    const serverMessage = ((err as { body?: { message?: string } }).body?.message ?? '').toString();
    const missingKind = /Unrecognized API version and kind|Failed to fetch resource metadata/.test(message);
    if (missingKind && (statusCode === 404 || statusCode === undefined))
      return new KubernetesKindMissingError(
        `the cluster does not serve ${kind} (${rbac.group}): install its CRD${CRD_HINT[kind] ?? ''}`,
        { kind, group: rbac.group },
      );
    // The verb the server checked wins: an apply that creates its object needs 'create', not the 'patch' it was sent as.
    if (statusCode === 403) verb = /cannot (\w+) resource "/.exec(serverMessage)?.[1] ?? verb;
    if (statusCode === 403)
      return new KubernetesForbiddenError(
        `the Kubernetes API refused to ${verb} ${rbac.resource} in namespace ${this.namespace}: grant the deployer's identity a Role with verb '${verb}' on apiGroup '${rbac.group}' resource '${rbac.resource}' (the Role Maestro needs is in docs/kubernetes.md)${serverMessage ? ` — the server said: ${serverMessage}` : ''}`,
        { verb, group: rbac.group, resource: rbac.resource, namespace: this.namespace },
      );
    if (statusCode === 404) return new KubernetesNotFound(`${kind} not found: ${serverMessage}`);
    if (statusCode === 409) return new KubernetesConflict(`${kind}: ${serverMessage}`);
    if (statusCode === 422 || statusCode === 400) return new DeliveryInputError(`the Kubernetes API refused the ${kind} Maestro rendered (${statusCode}): ${serverMessage || message}`);
    return err instanceof Error ? err : new Error(message);
  }

  /** One operation per service at a time in this process and across processes on this machine. */
  protected withServiceLock<T>(service: string, operation: () => Promise<T>): Promise<T> {
    return withLock(path.join(this.options.lockDir, this.namespace, `${service}.lock`), this.rolloutTimeoutMs + 60_000, operation);
  }
}

/** An HTTPRoute as read: its state and the resourceVersion a write must match. */
interface RouteRead {
  state: RouteState;
  resourceVersion: string;
}

/** What a watch follows: the objects at `path` (a collection) that a field selector (one name) or a label selector picks. */
interface WatchedSet {
  kind: string;
  path: string;
  selector: { fieldSelector?: string; labelSelector?: string };
}

/**
 * How long a weight shift (setWeight, rollback) waits for a backend's ready endpoints, which it normally has already
 * (it had them when deployed): briefly, so the wait ends well inside the shift's own activity timeout (20 s) instead
 * of holding the service's lock after the activity has given up; a retried shift waits again.
 */
const SHIFT_ENDPOINTS_WAIT_MS = 10_000;

function statusCodeOf(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode ?? (err as { response?: { statusCode?: number } }).response?.statusCode;
}

export class KubernetesNotFound extends Error {}
export class KubernetesConflict extends Error {}

function isAvailable(deployment: KubernetesObject, replicas: number): boolean {
  const status = (deployment.status ?? {}) as { observedGeneration?: number; updatedReplicas?: number; availableReplicas?: number };
  const generation = (deployment.metadata as { generation?: number }).generation ?? 0;
  return (status.observedGeneration ?? 0) >= generation && (status.updatedReplicas ?? 0) >= replicas && (status.availableReplicas ?? 0) >= replicas;
}

const leaseName = (service: string) => `maestro-${service}`;

function leaseOf(lease: k8s.V1Lease): ServiceLease {
  const acquired = lease.spec?.acquireTime as unknown;
  return { owner: lease.spec!.holderIdentity!, since: acquired ? new Date(acquired as string | Date).getTime() : 0 };
}

export function checkHealthPath(healthPath: string | undefined): string {
  const checked = healthPath ?? '/healthz';
  if (!checked.startsWith('/')) throw new DeliveryInputError(`descriptor.healthPath must start with '/'; got ${JSON.stringify(checked)}`);
  return checked;
}
