/**
 * The delivery ports (DESIGN §3): a Deployer runs the stable and canary versions of a service and
 * splits traffic between them; a HealthSource reports per-version figures for the gates. The embedded
 * implementation of both is delivery/local-deployer.ts (processes behind a weighted proxy on loopback).
 */
import type { ProbeSample } from './health';
import type { MetricTemplateInput } from './metric-gates';
import type { Trip, TripwireInput } from './tripwire';
import type { ServiceDescriptor } from './stages';
import type { Environment } from './change-request';

/**
 * Each environment has its own deployer (its own processes and proxy, or its own namespace); an activity's
 * input names the environment, and one without (a train started before environments had deployers) means dev.
 */
export type DeployerFor = (environment: Environment) => Deployer;
export interface InEnvironment {
  environment?: Environment;
}

/** What the deployer needs from a service's maestro.service.json. */
export type DeployableDescriptor = Pick<ServiceDescriptor, 'entry' | 'healthPath'>;

export interface DeployCanaryInput {
  service: string;
  /** The train deploying; a canary of another train makes the call fail with ServiceBusy. */
  owner?: string;
  repo: string;
  baseSha: string;
  sha: string;
  descriptor: DeployableDescriptor;
}
export interface EnsureStableInput {
  service: string;
  repo: string;
  sha: string;
  descriptor: DeployableDescriptor;
  /**
   * The service's configuration (e.g. its database url): every version of the service starts with it,
   * canaries too. Kept until a later ensureStable gives another one.
   */
  env?: Record<string, string>;
}
export interface ServiceRef {
  service: string;
}
/**
 * A call on behalf of one release train. With an owner, the deployer acts only on that train's canary:
 * another train's canary is never replaced, weighted, promoted or rolled back.
 */
export interface OwnedRef extends ServiceRef {
  owner?: string;
}
/**
 * One rollout per service: a train holds the service's lease from before its merge until it has
 * promoted or reverted, so no other train's merge or canary can land in between.
 */
export interface LeaseInput {
  service: string;
  /** The train (workflow id) taking or giving back the lease. */
  owner: string;
  /** Take the lease over from this holder, and only from it (a train that is known to have ended). */
  replacing?: string;
}
export interface ServiceLease {
  owner: string;
  since: number;
}
export interface SetWeightInput {
  service: string;
  owner?: string;
  weight: number;
}
export interface StartTrafficInput {
  service: string;
  rps: number;
  durationMs: number;
  concurrency?: number;
  paths?: string[];
}

export interface DeployedVersion {
  sha: string;
  url: string;
}
export interface DeployCanaryResult {
  proxyUrl: string;
  stable: DeployedVersion;
  canary: DeployedVersion;
}
export interface EnsureStableResult {
  proxyUrl: string;
  stable: DeployedVersion;
}
export interface RollbackResult {
  /** Epoch ms at which the proxy confirmed weight 0 (all traffic on stable). */
  at: number;
}
export interface PromoteResult {
  at: number;
  stable: DeployedVersion;
  previousStableSha: string | null;
}

export interface ProcessStatus {
  /** The process group's leader; absent where a version is not a local process (Kubernetes: alive = its Deployment is available). */
  pid?: number;
  alive: boolean;
}
/** Where a Kubernetes deployer sends the traffic: the HTTPRoute's backends and their weights. */
export interface KubernetesRouteStatus {
  namespace: string;
  route: string;
  backends: { name: string; role: 'stable' | 'canary'; weight: number }[];
}
export interface ServiceStatus {
  service: string;
  repo: string;
  proxy: (ProcessStatus & { publicUrl: string; adminUrl: string }) | null;
  weight: number;
  stable: (ProcessStatus & DeployedVersion) | null;
  canary: (ProcessStatus & DeployedVersion & { owner?: string }) | null;
  /** Where the live proxy sends traffic (null when it does not answer). */
  routes: { stable: string | null; canary: string | null } | null;
  traffic: (ProcessStatus & { rps: number; durationMs: number; startedAt: number }) | null;
  lastPromotion: { sha: string; at: number } | null;
  lastRollback: { sha: string; at: number } | null;
  lease: ServiceLease | null;
  /** Set by the Kubernetes deployer: the objects and weights behind the service. */
  kubernetes?: KubernetesRouteStatus;
}

/** A probe of one service; a source that runs PromQL also checks the metric templates (default: Flagger's two). */
export interface ProbeInput extends ServiceRef {
  metrics?: MetricTemplateInput[];
}

/** Per-version request, error and latency figures since the previous probe. */
export interface HealthSource {
  probe(input: ProbeInput): Promise<ProbeSample>;
}

export interface WatchCanaryInput extends ServiceRef {
  tripwire: TripwireInput;
  /** Epoch ms: only canary requests from then on count. */
  since: number;
  /** How long to wait for a trip before answering null (the caller heartbeats and asks again). */
  waitMs: number;
}

/**
 * Every method is idempotent (a retried activity finds its work done) and serialised per service.
 * `rollback` and `promote` act on the canary that `deployCanary` started.
 */
export interface Deployer extends HealthSource {
  hasService(service: string): Promise<boolean>;
  deployCanary(input: DeployCanaryInput): Promise<DeployCanaryResult>;
  ensureStable(input: EnsureStableInput): Promise<EnsureStableResult>;
  setWeight(input: SetWeightInput): Promise<{ weight: number }>;
  rollback(input: OwnedRef): Promise<RollbackResult>;
  promote(input: OwnedRef): Promise<PromoteResult>;
  status(input: ServiceRef): Promise<ServiceStatus>;
  /** Takes the service's lease, or fails with ServiceBusy naming its holder; idempotent for the holder. */
  acquireLease(input: LeaseInput): Promise<ServiceLease>;
  /** Gives the lease back; a no-op unless `owner` holds it. */
  releaseLease(input: LeaseInput): Promise<{ released: boolean }>;
  lease(input: ServiceRef): Promise<ServiceLease | null>;
  startTraffic(input: StartTrafficInput): Promise<{ pid: number; targetUrl: string }>;
  stopTraffic(input: ServiceRef): Promise<{ stopped: boolean }>;
  stopService(input: ServiceRef): Promise<{ stoppedPids: number[] }>;
  /** The canary's hard failure (core/tripwire.ts) as soon as the traffic shows one, or null after waitMs. */
  awaitTrip(input: WatchCanaryInput): Promise<Trip | null>;
}
