/**
 * The Argo Rollouts deployer, for teams that run Argo Rollouts: each service is one argoproj.io/v1alpha1
 * Rollout (core/argo-rollout-manifests.ts renders it) whose canary steps Maestro drives, and Argo's own
 * controller does the work: a new version is a new pod template image; set weight moves the Rollout to the
 * step of that weight (status.currentStepIndex, as `kubectl argo rollouts promote` does); promote is
 * status.promoteFull (`promote --full`); rollback is status.abort (`kubectl argo rollouts abort`), then the
 * spec is set back to the stable version so that what the Rollout says and what runs agree.
 *
 * The API plumbing is the Kubernetes deployer's (server-side apply as `maestro`, writes at the resourceVersion
 * read, 403s and missing kinds explained, watches, the service's Lease, the per-service lock): this class
 * replaces only what the Rollout does instead of Deployments and an HTTPRoute. Progress is learnt from a
 * watch on the Rollout (Argo's status: step index, pause conditions, abort, stableRS vs currentPodHash, phase).
 */
import * as k8s from '@kubernetes/client-node';
import type { DeployCanaryInput, DeployCanaryResult, EnsureStableInput, EnsureStableResult, OwnedRef, PromoteResult, RollbackResult, ServiceRef, ServiceStatus, SetWeightInput } from '../core/delivery';
import {
  DEFAULT_CANARY_WEIGHTS,
  POD_TEMPLATE_HASH_LABEL,
  ROLLOUT_API_VERSION,
  canaryWeightsSchema,
  readRolloutProgress,
  renderRollout,
  renderRolloutService,
  setWeightStepIndex,
  type RolloutProgress,
} from '../core/argo-rollout-manifests';
import { workloadAddress } from '../core/workload-address';
import { CONTAINER_PORT, SERVICE_LABEL, checkKubernetesServiceName, renderEnvSecret, type KubernetesObject, type RouteState } from '../core/kubernetes-manifests';
import { KubernetesDeployer, canaryToPromote, checkHealthPath, type KubernetesDeployerOptions } from './kubernetes-deployer';
import { DeliveryInputError, NotCanaryOwnerError, ServiceBusyError, busy, checkServiceEnv, checkWeight } from './local-deployer';

export interface ArgoRolloutsDeployerOptions extends Omit<KubernetesDeployerOptions, 'gateway'> {
  /** The canary ladder: the weights the Rollout's steps can stop at (default DEFAULT_CANARY_WEIGHTS). */
  canaryWeights?: readonly number[];
}

type State = Omit<RouteState, 'weight'>;
const MERGE_PATCH = { headers: { 'content-type': k8s.PatchUtils.PATCH_FORMAT_JSON_MERGE_PATCH } };

export class ArgoRolloutsDeployer extends KubernetesDeployer {
  private readonly weights: readonly number[];
  private readonly customObjects: k8s.CustomObjectsApi;

  constructor(options: ArgoRolloutsDeployerOptions) {
    super({ ...options, gateway: 'none' });
    this.weights = canaryWeightsSchema.parse(options.canaryWeights ?? DEFAULT_CANARY_WEIGHTS);
    this.customObjects = this.config.makeApiClient(k8s.CustomObjectsApi);
  }

  override async hasService(service: string): Promise<boolean> {
    return (await this.readRollout(checkKubernetesServiceName(service))) !== null;
  }

  /** `sha` as the only version: a new Rollout starts with it; an existing one is fully promoted to it. */
  override async ensureStable(input: EnsureStableInput): Promise<EnsureStableResult> {
    const service = checkKubernetesServiceName(input.service);
    const healthPath = checkHealthPath(input.descriptor.healthPath);
    return this.withServiceLock(service, async () => {
      if (input.env) await this.apply(renderEnvSecret(service, this.namespace, checkServiceEnv(input.env)));
      await this.makeStable(service, input.sha, (state) => ({
        repo: input.repo,
        healthPath,
        stable: input.sha,
        canary: null,
        owner: null,
        lastPromotion: state?.lastPromotion ?? null,
        lastRollback: state?.lastRollback ?? null,
      }));
      return { proxyUrl: this.serviceUrl(service), stable: this.versionUrl(service, input.sha) };
    });
  }

  /** The canary `sha` as the Rollout's pod template, once Argo holds it at the leading pause (weight 0). */
  override async deployCanary(input: DeployCanaryInput): Promise<DeployCanaryResult> {
    const service = checkKubernetesServiceName(input.service);
    const healthPath = checkHealthPath(input.descriptor.healthPath);
    return this.withServiceLock(service, async () => {
      const lease = await this.lease({ service });
      if (input.owner && lease && lease.owner !== input.owner) throw busy(service, lease);
      let current = await this.readRollout(service);
      if (!current) {
        const fresh = { repo: input.repo, healthPath, stable: input.baseSha, canary: null, owner: null, lastPromotion: null, lastRollback: null };
        current = await this.makeStable(service, input.baseSha, () => fresh);
      }
      const { state } = current;
      const leaseHolder = input.owner !== undefined && lease?.owner === input.owner;
      if (state.canary && state.owner && input.owner && state.owner !== input.owner && !leaseHolder)
        throw new ServiceBusyError(`service '${service}' is held by train ${state.owner} (canary ${state.canary.slice(0, 12)}); it is free once that train promotes or rolls back`, state.owner);
      await this.updateRollout(service, input.sha, (now) => ({ ...(now ?? state), repo: input.repo, healthPath, canary: input.sha, owner: input.owner ?? null, lastPromotion: null, lastRollback: null }));
      // A retried call finds the canary further on: any pause of the new version will do.
      await this.awaitProgress(service, `canary ${input.sha.slice(0, 12)} held at a pause`, (p) => p.observed && hasCanary(p) && !p.aborted && p.paused && p.stepIndex !== null && p.stepIndex % 2 === 0);
      return { proxyUrl: this.serviceUrl(service), stable: this.versionUrl(service, state.stable), canary: this.versionUrl(service, input.sha) };
    });
  }

  /** Moves the Rollout to the step of `weight` and waits for Argo to pause after it (its replicas scaled and available). */
  override async setWeight(input: SetWeightInput): Promise<{ weight: number }> {
    const service = checkKubernetesServiceName(input.service);
    const weight = checkWeight(input.weight);
    return this.withServiceLock(service, async () => {
      const progress = await this.requireRollout(service);
      const { state } = progress;
      if (input.owner && state.owner && state.owner !== input.owner)
        throw new NotCanaryOwnerError(`cannot set weight for '${service}': its canary belongs to train ${state.owner}, not ${input.owner}`);
      if (weight === 0 && progress.weight === 0) return { weight };
      if (!state.canary || !hasCanary(progress)) throw new DeliveryInputError(`cannot set weight ${weight} for '${service}': no canary is deployed`);
      const target = weight === 0 ? -1 : setWeightStepIndex(this.weights, weight);
      if (progress.stepIndex === target + 1 && progress.paused) return { weight }; // there already: a retry writes nothing
      if (progress.stepIndex !== null && progress.stepIndex > target + 1)
        throw new DeliveryInputError(`cannot set weight ${weight} for '${service}': the Rollout is past it (step ${progress.stepIndex}, weight ${progress.weight}) and Argo Rollouts does not step back; roll back instead`);
      // kubectl argo rollouts promote's patch for a Rollout without pause conditions, with the step Maestro wants.
      if (progress.stepIndex !== target) await this.patchRolloutStatus(service, { pauseConditions: null, currentStepIndex: target });
      await this.awaitProgress(service, `weight ${weight} (step ${target + 1}, paused)`, (p) => p.stepIndex === target + 1 && p.paused && !p.aborted);
      return { weight };
    });
  }

  /** status.promoteFull, as `kubectl argo rollouts promote --full`; then the canary is Maestro's stable too. */
  override async promote(input: OwnedRef): Promise<PromoteResult> {
    const service = checkKubernetesServiceName(input.service);
    return this.withServiceLock(service, async () => {
      const progress = await this.requireRollout(service);
      const { state } = progress;
      const next = canaryToPromote(service, state, input.owner);
      if ('done' in next) return { at: next.done.at, stable: this.versionUrl(service, next.done.sha), previousStableSha: null };
      const { canary } = next;
      if (hasCanary(progress)) await this.patchRolloutStatus(service, { promoteFull: true });
      await this.awaitProgress(service, `canary ${canary.slice(0, 12)} promoted (stableRS = currentPodHash, Healthy)`, isSettled);
      const at = Date.now();
      await this.updateRollout(service, canary, (now) => ({ ...(now ?? state), stable: canary, canary: null, owner: null, lastPromotion: { sha: canary, at } }));
      return { at, stable: this.versionUrl(service, canary), previousStableSha: state.stable };
    });
  }

  /**
   * status.abort, as `kubectl argo rollouts abort`: Argo scales the canary down and all traffic is on stable
   * (`at`); then the pod template goes back to the stable version, which Argo takes without steps.
   */
  override async rollback(input: OwnedRef): Promise<RollbackResult> {
    const service = checkKubernetesServiceName(input.service);
    return this.withServiceLock(service, async () => {
      const progress = await this.requireRollout(service);
      const { state } = progress;
      // Another train's canary is not ours to roll back: ours no longer takes traffic, which is what was asked.
      if (input.owner && state.owner && state.owner !== input.owner) return { at: Date.now() };
      const canary = state.canary;
      if (!canary) return { at: state.lastRollback?.at ?? Date.now() }; // a retried rollback reports the first one's time
      if (hasCanary(progress) && !progress.aborted) await this.patchRolloutStatus(service, { abort: true });
      if (hasCanary(progress))
        await this.awaitProgress(service, `canary ${canary.slice(0, 12)} aborted and scaled down`, (p) => !hasCanary(p) || (p.aborted && p.canaryReplicas === 0 && p.availableReplicas >= this.replicas));
      const at = Date.now();
      await this.updateRollout(service, state.stable, (now) => ({ ...(now ?? state), canary: null, owner: null, lastRollback: { sha: canary, at } }));
      await this.awaitProgress(service, `back on stable ${state.stable.slice(0, 12)}`, isSettled);
      return { at };
    });
  }

  /** The Rollout's state: each version is alive when its ReplicaSet has all the replicas Argo gave it available. */
  override async status(input: ServiceRef): Promise<ServiceStatus> {
    const service = checkKubernetesServiceName(input.service);
    const progress = await this.requireRollout(service);
    const { state } = progress;
    const sets = await this.replicaSets(service);
    const setOf = (hash: string | null) => sets.find((rs) => rs.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] === hash);
    const version = (sha: string | null, hash: string | null) => {
      if (!sha) return null;
      const rs = setOf(hash);
      const status = (rs?.status ?? {}) as { availableReplicas?: number };
      const spec = (rs?.spec ?? {}) as { replicas?: number };
      return { ...this.versionUrl(service, sha), alive: rs !== undefined && (status.availableReplicas ?? 0) >= (spec.replicas ?? 0) };
    };
    const canaryLive = state.canary && hasCanary(progress) ? state.canary : null;
    const name = (hash: string | null) => (hash ? `${service}-${hash}` : service);
    // One Service serves both versions: each is told apart by its ReplicaSet, the workload owning the Pods that served a request.
    const route = (hash: string | null) => (hash ? workloadAddress({ workload: name(hash), service, namespace: this.namespace, port: CONTAINER_PORT }) : null);
    return {
      service,
      repo: state.repo,
      proxy: null,
      weight: progress.weight,
      stable: version(state.stable, progress.stableHash),
      canary: canaryLive ? { ...version(canaryLive, progress.currentHash)!, ...(state.owner ? { owner: state.owner } : {}) } : null,
      routes: { stable: route(progress.stableHash), canary: canaryLive ? route(progress.currentHash) : null },
      traffic: null,
      lastPromotion: state.lastPromotion,
      lastRollback: state.lastRollback,
      lease: await this.lease({ service }),
      kubernetes: {
        namespace: this.namespace,
        route: `Rollout ${service}`,
        backends: [
          { name: name(progress.stableHash), role: 'stable', weight: 100 - progress.weight },
          ...(canaryLive ? [{ name: name(progress.currentHash), role: 'canary' as const, weight: progress.weight }] : []),
        ],
      },
    };
  }

  /** Deletes the Rollout (Argo's ReplicaSets with it), its Service and the configuration Secret. */
  override async stopService(input: ServiceRef): Promise<{ stoppedPids: number[] }> {
    const service = checkKubernetesServiceName(input.service);
    return this.withServiceLock(service, async () => {
      await this.deleteObject(ROLLOUT_API_VERSION, 'Rollout', service);
      await this.deleteObject('v1', 'Service', service);
      await this.deleteObject('v1', 'Secret', `${service}-env`);
      return { stoppedPids: [] };
    });
  }

  // ── the Rollout ───────────────────────────────────────────────────────────────────────────────

  /** The Service in front of every version's Pods. */
  private serviceAddress(service: string): string {
    return `http://${service}.${this.namespace}.svc.cluster.local:${CONTAINER_PORT}`;
  }
  private serviceUrl(service: string): string {
    return `${this.serviceAddress(service)} (Rollout ${service})`;
  }
  /** Each version is served by the one Service (status().routes tells them apart). */
  private versionUrl(service: string, sha: string) {
    return { sha, url: this.serviceAddress(service) };
  }

  /** Applies `sha` as the pod template and, if Argo starts canary steps for it, promotes it fully; returns once Healthy on it. */
  private async makeStable(service: string, sha: string, next: (state: State | null) => State): Promise<RolloutProgress> {
    await this.apply(renderRolloutService(service, this.namespace));
    await this.updateRollout(service, sha, next);
    const observed = await this.awaitProgress(service, `version ${sha.slice(0, 12)} observed`, (p) => p.observed);
    if (hasCanary(observed)) await this.patchRolloutStatus(service, { promoteFull: true });
    return this.awaitProgress(service, `version ${sha.slice(0, 12)} stable and Healthy`, isSettled);
  }

  private async readRollout(service: string): Promise<RolloutProgress | null> {
    const rollout = await this.readObject(ROLLOUT_API_VERSION, 'Rollout', service);
    return rollout ? readRolloutProgress(service, this.weights, rollout) : null;
  }

  private async requireRollout(service: string) {
    const rollout = await this.readRollout(service);
    if (!rollout) throw new DeliveryInputError(`unknown service '${service}': no Rollout '${service}' in namespace ${this.namespace}`);
    return rollout;
  }

  /** Read, compute Maestro's state, apply the Rollout at the resourceVersion read (a concurrent writer, Argo included, makes it retry). */
  private async updateRollout(service: string, sha: string, next: (state: State | null) => State): Promise<void> {
    await this.retryConflicts(`Rollout '${service}'`, async () => {
      const current = await this.readRollout(service);
      const state = next(current?.state ?? null);
      await this.apply(
        renderRollout({ service, namespace: this.namespace, sha, imageRepository: this.options.imageRepository, healthPath: state.healthPath, replicas: this.replicas, weights: this.weights, state, resourceVersion: current?.resourceVersion }),
      );
    });
  }

  /** A JSON merge patch of the status subresource: exactly the patches of kubectl argo rollouts promote and abort. */
  private async patchRolloutStatus(service: string, status: Record<string, unknown>): Promise<void> {
    const [group, version] = ROLLOUT_API_VERSION.split('/') as [string, string];
    await this.call('patch', 'Rollout/status', () => this.customObjects.patchNamespacedCustomObjectStatus(group, version, this.namespace, 'rollouts', service, { status }, undefined, undefined, undefined, MERGE_PATCH));
  }

  private async awaitProgress(service: string, what: string, done: (progress: RolloutProgress) => boolean) {
    const rollout = await this.awaitObject(
      { apiVersion: ROLLOUT_API_VERSION, kind: 'Rollout', path: `/apis/${ROLLOUT_API_VERSION}/namespaces/${this.namespace}/rollouts`, name: service },
      (object) => done(readRolloutProgress(service, this.weights, object)),
      (last) => {
        const p = last ? readRolloutProgress(service, this.weights, last) : null;
        return `Rollout ${this.namespace}/${service} did not reach ${what} within ${this.rolloutTimeoutMs} ms (Argo says: ${p ? JSON.stringify({ phase: p.phase, message: p.message, step: p.stepIndex, paused: p.paused, aborted: p.aborted, stableRS: p.stableHash, currentPodHash: p.currentHash, canaryReplicas: p.canaryReplicas, availableReplicas: p.availableReplicas }) : 'no status'}): is the Argo Rollouts controller running, and are the Pods ready?`;
      },
    );
    return readRolloutProgress(service, this.weights, rollout);
  }

  private async replicaSets(service: string): Promise<KubernetesObject[]> {
    const apps = this.config.makeApiClient(k8s.AppsV1Api);
    const { body } = await this.call('list', 'ReplicaSet', () => apps.listNamespacedReplicaSet(this.namespace, undefined, undefined, undefined, undefined, `${SERVICE_LABEL}=${service}`));
    return body.items as unknown as KubernetesObject[];
  }
}

/** A canary exists while Argo's current pod template is not the stable one. */
const hasCanary = (p: RolloutProgress) => p.currentHash !== null && p.currentHash !== p.stableHash;
/** One version, all of it available: Argo's Healthy on its latest spec. */
const isSettled = (p: RolloutProgress) => p.observed && !hasCanary(p) && p.phase === 'Healthy';
