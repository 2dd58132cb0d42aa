/**
 * The embedded deployer: stable and canary versions of a service run as real processes on loopback
 * behind the weighted proxy (proxy-main.ts). Everything it starts is detached into its own process
 * group, so it outlives the process that started it; what runs where is kept in
 * `<stateDir>/<service>/state.json`, so a new LocalDeployer (e.g. after a worker restart) reattaches.
 *
 * Every method is idempotent and serialised per service (in-process queue + a lock directory shared
 * with other processes): a retried call finds the work done and returns the same result.
 */
import type { Environment } from '../core/change-request';
import { InvalidInputError, PermanentError } from '../core/errors';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  DeployableDescriptor,
  DeployCanaryInput,
  DeployCanaryResult,
  DeployedVersion,
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
import { tripwireSchema, type Trip } from '../core/tripwire';
import type { ProbeSample } from '../core/health';
import { withLock } from '../io/lock';
import { isGroupAlive, stopProcessGroup } from '../io/process';
import { extractCommit, readLogTail, spawnDetachedNode } from '../io/commit-process';
import { git, resolveCommit } from '../io/git';
import type { ProxyMetrics, ProxyState } from './proxy';

export interface LocalDeployerOptions {
  /** Directory holding one folder per service (state.json, extracted versions, logs). */
  stateDir: string;
  /** Absolute path to node_modules/tsx/dist/cli.mjs; every process is started as `node <tsxCli> <entry>`. */
  tsxCli: string;
  /** How long a new version may take to answer 200 on its health path. */
  startTimeoutMs?: number;
  /** How long a stopped process group gets between SIGTERM and SIGKILL. */
  stopTimeoutMs?: number;
  /** Pause between switching traffic away from a version and stopping it, for in-flight requests. */
  drainMs?: number;
  /**
   * Where each service's scrape targets are written (`<service>.json`, Prometheus file-based discovery:
   * the proxy and every running version); default `<stateDir>/scrape-targets`.
   */
  scrapeTargetsDir?: string;
}

interface VersionRecord {
  sha: string;
  /** The train whose canary this is (absent for versions started without an owner). */
  owner?: string;
  /** Leader of the version's process group (the tsx launcher). */
  pid: number;
  port: number;
  url: string;
  dir: string;
  logFile: string;
  entry: string;
  healthPath: string;
  startedAt: number;
}
interface ProxyRecord {
  pid: number;
  publicPort: number;
  adminPort: number;
  logFile: string;
  startedAt: number;
}
interface TrafficRecord {
  pid: number;
  rps: number;
  durationMs: number;
  logFile: string;
  startedAt: number;
}
interface ServiceState {
  service: string;
  repo: string;
  proxy: ProxyRecord | null;
  stable: VersionRecord | null;
  canary: VersionRecord | null;
  weight: number;
  traffic: TrafficRecord | null;
  /** Versions switched out of traffic but maybe not yet stopped (a crash between the two). */
  retiring: VersionRecord[];
  lastPromotion: { sha: string; at: number } | null;
  lastRollback: { sha: string; at: number } | null;
  /** The service's configuration, given to every version it starts (absent in state written before it). */
  env?: Record<string, string>;
  updatedAt: number;
}

/** The local deployer's status: every version, the proxy and the traffic generator are process groups with a pid. */
type LocalProcess = { pid: number; alive: boolean };
export interface LocalServiceStatus extends ServiceStatus {
  proxy: (LocalProcess & { publicUrl: string; adminUrl: string }) | null;
  stable: (LocalProcess & DeployedVersion) | null;
  canary: (LocalProcess & DeployedVersion & { owner?: string }) | null;
  traffic: (LocalProcess & { rps: number; durationMs: number; startedAt: number }) | null;
}

/** Input that can never succeed on retry (unknown service, bad weight, unknown commit, ...). */
export class DeliveryInputError extends InvalidInputError {}

/** Another train's canary holds the service: the caller waits its turn (one rollout per service). */
export class ServiceBusyError extends PermanentError {
  constructor(message: string, holder: string) {
    super(message, 'ServiceBusy', { holder });
  }
}

/** The canary belongs to another train: promoting or weighting it would ship someone else's change. */
export class NotCanaryOwnerError extends PermanentError {
  constructor(message: string) {
    super(message, 'NotCanaryOwner');
  }
}

/** True when `owner` may act on the service's canary (no owner given, no canary, or its own). */
const ownsCanary = (canary: { owner?: string } | null, owner: string | undefined) => !owner || !canary?.owner || canary.owner === owner;

const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
// Refs and shas only; a leading '-' would be read by git as an option.
const GIT_REVISION = /^[A-Za-z0-9._/^~-]{1,200}$/;

/** Node flags for the proxy process: a fixed 16 MB young generation keeps GC pauses out of its p99. */
export const PROXY_NODE_FLAGS: readonly string[] = ['--min-semi-space-size=16', '--max-semi-space-size=16'];

/** Each environment's own local deployment: `deployDir` for dev, `<deployDir>-<env>` beside it for the others. */
export function localDeployDir(deployDir: string, environment: Environment): string {
  return environment === 'dev' ? deployDir : `${deployDir}-${environment}`;
}

export class LocalDeployer implements Deployer {
  readonly stateDir: string;
  private readonly tsxCli: string;
  private readonly startTimeoutMs: number;
  private readonly stopTimeoutMs: number;
  private readonly drainMs: number;
  readonly scrapeTargetsDir: string;

  constructor(options: LocalDeployerOptions) {
    if (!path.isAbsolute(options.tsxCli) || !existsSync(options.tsxCli))
      throw new Error(`tsxCli must be an absolute path to tsx's cli.mjs; got '${options.tsxCli}'`);
    this.stateDir = path.resolve(options.stateDir);
    this.tsxCli = options.tsxCli;
    this.startTimeoutMs = options.startTimeoutMs ?? 30_000;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 5_000;
    this.drainMs = options.drainMs ?? 250;
    this.scrapeTargetsDir = path.resolve(options.scrapeTargetsDir ?? path.join(this.stateDir, 'scrape-targets'));
  }

  /** Ensures the proxy and a stable version run (deploying baseSha only if there is no stable yet), then deploys sha as canary at weight 0. */
  async deployCanary(input: DeployCanaryInput): Promise<DeployCanaryResult> {
    const service = checkServiceName(input.service);
    const descriptor = checkDescriptor(input.descriptor);
    const repo = await checkRepo(input.repo);
    const baseSha = await checkedCommit(repo, input.baseSha);
    const sha = await checkedCommit(repo, input.sha);
    return this.withServiceLock(service, async () => {
      const state = (await this.loadState(service)) ?? newState(service, repo);
      state.repo = repo;
      await this.sweepRetiring(state);
      await this.ensureProxy(state);

      if (!state.stable || !(await isVersionHealthy(state.stable))) {
        // A stable that died is restarted at the sha it had, not replaced by baseSha.
        const stable = state.stable
          ? await this.startVersion(state, state.stable.sha, { entry: state.stable.entry, healthPath: state.stable.healthPath })
          : await this.startVersion(state, baseSha, descriptor);
        if (state.stable) state.retiring.push(state.stable);
        state.stable = stable;
        await this.saveState(state);
        await this.admin(state, 'POST', '/admin/upstreams', { stable: stable.url });
      }

      const lease = await this.readLease(service);
      if (input.owner && lease && lease.owner !== input.owner) throw busy(service, lease);
      // A canary left by a train whose lease was taken over (it ended without cleaning up) is replaced.
      const leaseHolder = input.owner !== undefined && lease?.owner === input.owner;
      if (state.canary && !ownsCanary(state.canary, input.owner) && !leaseHolder)
        throw new ServiceBusyError(
          `service '${service}' is held by train ${state.canary.owner} (canary ${state.canary.sha.slice(0, 12)} since ${new Date(state.canary.startedAt).toISOString()}); it is free once that train promotes or rolls back`,
          state.canary.owner!,
        );
      const reusable = state.canary && state.canary.sha === sha && (await isVersionHealthy(state.canary));
      if (!reusable) {
        if (state.canary) {
          await this.admin(state, 'POST', '/admin/upstreams', { canary: null });
          state.retiring.push(state.canary);
          state.canary = null;
          state.weight = 0;
          await this.saveState(state);
        }
        state.canary = { ...(await this.startVersion(state, sha, descriptor)), ...(input.owner ? { owner: input.owner } : {}) };
        state.lastRollback = null;
        state.lastPromotion = null;
        await this.saveState(state);
      }
      const canary = state.canary!;
      const stable = state.stable;
      await this.admin(state, 'POST', '/admin/upstreams', { stable: stable.url, canary: canary.url });
      await this.admin(state, 'POST', '/admin/weight', { weight: 0 });
      state.weight = 0;
      await this.saveState(state);
      await this.sweepRetiring(state);
      return {
        proxyUrl: proxyUrl(state.proxy!),
        stable: { sha: stable.sha, url: stable.url },
        canary: { sha: canary.sha, url: canary.url },
      };
    });
  }

  /** Ensures the proxy runs with `sha` as the stable version (used by `maestro up` and the demo). */
  async ensureStable(input: EnsureStableInput): Promise<EnsureStableResult> {
    const service = checkServiceName(input.service);
    const descriptor = checkDescriptor(input.descriptor);
    const repo = await checkRepo(input.repo);
    const sha = await checkedCommit(repo, input.sha);
    const env = input.env === undefined ? undefined : checkServiceEnv(input.env);
    return this.withServiceLock(service, async () => {
      const state = (await this.loadState(service)) ?? newState(service, repo);
      state.repo = repo;
      if (env) state.env = env;
      await this.sweepRetiring(state);
      await this.ensureProxy(state);
      if (!state.stable || state.stable.sha !== sha || !(await isVersionHealthy(state.stable))) {
        const stable = await this.startVersion(state, sha, descriptor);
        if (state.stable) state.retiring.push(state.stable);
        state.stable = stable;
        await this.saveState(state);
      }
      await this.admin(state, 'POST', '/admin/upstreams', { stable: state.stable.url });
      await this.saveState(state);
      if (state.retiring.length > 0) {
        await sleep(this.drainMs);
        await this.sweepRetiring(state);
      }
      return { proxyUrl: proxyUrl(state.proxy!), stable: { sha: state.stable.sha, url: state.stable.url } };
    });
  }

  async setWeight(input: SetWeightInput): Promise<{ weight: number }> {
    const service = checkServiceName(input.service);
    const weight = checkWeight(input.weight);
    return this.withServiceLock(service, async () => {
      const state = await this.requireState(service);
      if (weight > 0 && !state.canary) throw new DeliveryInputError(`cannot set weight ${weight} for '${service}': no canary is deployed`);
      if (!ownsCanary(state.canary, input.owner)) throw new NotCanaryOwnerError(`cannot set weight for '${service}': its canary belongs to train ${state.canary!.owner}, not ${input.owner}`);
      await this.ensureProxy(state);
      await this.admin(state, 'POST', '/admin/weight', { weight });
      state.weight = weight;
      await this.saveState(state);
      return { weight };
    });
  }

  /** Reads the proxy's window since the last probe and starts a new one. */
  async probe(input: ServiceRef): Promise<ProbeSample> {
    const service = checkServiceName(input.service);
    return this.withServiceLock(service, async () => {
      const state = await this.requireState(service);
      await this.ensureProxy(state);
      const metrics = (await this.admin(state, 'GET', '/admin/metrics?reset=1')) as ProxyMetrics;
      return { at: Date.now(), weight: metrics.weight, canary: metrics.canary, stable: metrics.stable };
    });
  }

  /**
   * Long-polls the proxy's tripwire: it answers the moment the canary's requests since `since` trip it.
   * Not under the service lock (it waits for seconds); a proxy that is down counts as no trip yet.
   */
  async awaitTrip(input: WatchCanaryInput): Promise<Trip | null> {
    const service = checkServiceName(input.service);
    const tripwire = tripwireSchema.parse(input.tripwire);
    const state = await this.requireState(service);
    if (!state.proxy || !isGroupAlive(state.proxy.pid)) {
      await sleep(Math.min(input.waitMs, 500));
      return null;
    }
    const query = new URLSearchParams({
      since: String(input.since),
      waitMs: String(input.waitMs),
      errors: String(tripwire.errors),
      withinMs: String(tripwire.withinMs),
      minErrorRatio: String(tripwire.minErrorRatio),
      unreachableAfter: String(tripwire.unreachableAfter),
    });
    const { status, json } = await httpJson('GET', `${adminUrl(state.proxy)}/admin/tripwire?${query}`, undefined, input.waitMs + 5000).catch(() => ({ status: 0, json: undefined }));
    if (status === 400) throw new DeliveryInputError(`tripwire refused by the proxy: ${(json as { error?: string }).error}`);
    if (status === 200) return (json as { tripped: Trip | null }).tripped;
    await sleep(Math.min(input.waitMs, 500)); // a proxy being restarted: ask again shortly
    return null;
  }

  /** Weight 0 first (all traffic back on stable at once), then the canary is stopped. */
  async rollback(input: OwnedRef): Promise<RollbackResult> {
    const service = checkServiceName(input.service);
    return this.withServiceLock(service, async () => {
      const state = await this.requireState(service);
      // Another train's canary is not ours to roll back: ours no longer takes traffic, which is what was asked.
      if (!ownsCanary(state.canary, input.owner)) return { at: Date.now() };
      await this.ensureProxy(state, { weight: 0 });
      await this.admin(state, 'POST', '/admin/weight', { weight: 0 });
      const at = Date.now();
      state.weight = 0;
      const canary = state.canary;
      if (!canary) {
        await this.saveState(state);
        // A retried rollback reports when the first one moved the traffic.
        return { at: state.lastRollback?.at ?? at };
      }
      await this.admin(state, 'POST', '/admin/upstreams', { canary: null });
      state.canary = null;
      state.retiring.push(canary);
      state.lastRollback = { sha: canary.sha, at };
      await this.saveState(state);
      await sleep(this.drainMs);
      await this.sweepRetiring(state);
      return { at };
    });
  }

  /** The canary becomes the stable version (weight back to 0, no canary) and the old stable is stopped. */
  async promote(input: OwnedRef): Promise<PromoteResult> {
    const service = checkServiceName(input.service);
    return this.withServiceLock(service, async () => {
      const state = await this.requireState(service);
      if (!ownsCanary(state.canary, input.owner))
        throw new NotCanaryOwnerError(`cannot promote '${service}': its canary ${state.canary!.sha.slice(0, 12)} belongs to train ${state.canary!.owner}, not ${input.owner}`);
      const canary = state.canary;
      if (!canary) {
        const done = state.lastPromotion;
        if (done && state.stable && state.stable.sha === done.sha)
          return { at: done.at, stable: { sha: state.stable.sha, url: state.stable.url }, previousStableSha: null };
        throw new DeliveryInputError(`cannot promote '${service}': no canary is deployed`);
      }
      if (!(await isVersionHealthy(canary)))
        throw new Error(`cannot promote '${service}': canary ${canary.sha.slice(0, 12)} (pid ${canary.pid}) is not healthy; log tail:\n${readLogTail(canary.logFile)}`);
      await this.ensureProxy(state);
      // One admin call switches stable and drops the canary, so no request goes back to the old stable.
      await this.admin(state, 'POST', '/admin/upstreams', { stable: canary.url, canary: null });
      const at = Date.now();
      const previous = state.stable;
      if (previous && previous.pid !== canary.pid) state.retiring.push(previous);
      state.stable = canary;
      state.canary = null;
      state.weight = 0;
      state.lastPromotion = { sha: canary.sha, at };
      await this.saveState(state);
      await sleep(this.drainMs);
      await this.sweepRetiring(state);
      return { at, stable: { sha: canary.sha, url: canary.url }, previousStableSha: previous?.sha ?? null };
    });
  }

  /** What runs for a service, with liveness. Unknown (never deployed, or stopped) → DeliveryInputError; see hasService. */
  async status(input: ServiceRef): Promise<LocalServiceStatus> {
    const service = checkServiceName(input.service);
    const state = await this.requireState(service);
    const live = state.proxy && isGroupAlive(state.proxy.pid) ? await this.tryAdminState(state.proxy) : null;
    const version = (v: VersionRecord | null) => (v ? { sha: v.sha, url: v.url, pid: v.pid, alive: isGroupAlive(v.pid) } : null);
    return {
      service,
      repo: state.repo,
      proxy: state.proxy
        ? { pid: state.proxy.pid, alive: live !== null, publicUrl: proxyUrl(state.proxy), adminUrl: adminUrl(state.proxy) }
        : null,
      weight: live?.weight ?? state.weight,
      stable: version(state.stable),
      canary: state.canary ? { ...version(state.canary)!, ...(state.canary.owner ? { owner: state.canary.owner } : {}) } : null,
      routes: live ? { stable: live.stable, canary: live.canary } : null,
      traffic: state.traffic
        ? { pid: state.traffic.pid, alive: isGroupAlive(state.traffic.pid), rps: state.traffic.rps, durationMs: state.traffic.durationMs, startedAt: state.traffic.startedAt }
        : null,
      lastPromotion: state.lastPromotion,
      lastRollback: state.lastRollback,
      lease: await this.readLease(service),
    };
  }

  async acquireLease(input: LeaseInput): Promise<ServiceLease> {
    const service = checkServiceName(input.service);
    const owner = checkOwner(input.owner);
    return this.withServiceLock(service, async () => {
      const lease = await this.readLease(service);
      if (lease?.owner === owner) return lease;
      if (lease && lease.owner !== input.replacing) throw busy(service, lease);
      const taken: ServiceLease = { owner, since: Date.now() };
      await writeJsonAtomically(this.leaseFile(service), taken);
      return taken;
    });
  }

  async releaseLease(input: LeaseInput): Promise<{ released: boolean }> {
    const service = checkServiceName(input.service);
    const owner = checkOwner(input.owner);
    return this.withServiceLock(service, async () => {
      if ((await this.readLease(service))?.owner !== owner) return { released: false };
      await fs.rm(this.leaseFile(service), { force: true });
      return { released: true };
    });
  }

  async lease(input: ServiceRef): Promise<ServiceLease | null> {
    return this.readLease(checkServiceName(input.service));
  }

  /** Stops traffic, canary, stable and proxy (whole process groups) and forgets the service's state. */
  async stopService(input: ServiceRef): Promise<{ stoppedPids: number[] }> {
    const service = checkServiceName(input.service);
    return this.withServiceLock(service, async () => {
      const state = await this.loadState(service);
      if (!state) return { stoppedPids: [] };
      const pids = [state.traffic?.pid, state.canary?.pid, state.stable?.pid, ...state.retiring.map((v) => v.pid), state.proxy?.pid].filter(
        (pid): pid is number => pid !== undefined,
      );
      for (const pid of pids) await stopProcessGroup(pid, this.stopTimeoutMs);
      await fs.rm(this.stateFile(service), { force: true });
      await fs.rm(this.scrapeTargetsFile(service), { force: true });
      return { stoppedPids: pids };
    });
  }

  /** Starts (or restarts with new figures) a detached traffic generator aimed at the service's proxy; it stops by itself after durationMs. */
  async startTraffic(input: StartTrafficInput): Promise<{ pid: number; targetUrl: string }> {
    const service = checkServiceName(input.service);
    if (!(input.rps > 0 && input.rps <= 10_000)) throw new DeliveryInputError(`rps must be in (0, 10000]; got ${input.rps}`);
    if (!Number.isInteger(input.durationMs) || input.durationMs <= 0 || input.durationMs > 3_600_000)
      throw new DeliveryInputError(`durationMs must be an integer in (0, 3600000]; got ${input.durationMs}`);
    return this.withServiceLock(service, async () => {
      const state = await this.requireState(service);
      await this.ensureProxy(state);
      if (state.traffic) await stopProcessGroup(state.traffic.pid, this.stopTimeoutMs);
      const targetUrl = proxyUrl(state.proxy!);
      const logFile = path.join(this.serviceDir(service), 'traffic.log');
      const args = [siblingScript('traffic-main'), '--url', targetUrl, '--rps', String(input.rps), '--duration-ms', String(input.durationMs)];
      if (input.concurrency !== undefined) args.push('--concurrency', String(input.concurrency));
      for (const p of input.paths ?? []) args.push('--path', p);
      const pid = this.spawnDetached(args, { cwd: this.serviceDir(service), logFile, env: {} });
      state.traffic = { pid, rps: input.rps, durationMs: input.durationMs, logFile, startedAt: Date.now() };
      await this.saveState(state);
      return { pid, targetUrl };
    });
  }

  async stopTraffic(input: ServiceRef): Promise<{ stopped: boolean }> {
    const service = checkServiceName(input.service);
    return this.withServiceLock(service, async () => {
      const state = await this.loadState(service);
      if (!state?.traffic) return { stopped: false };
      await stopProcessGroup(state.traffic.pid, this.stopTimeoutMs);
      state.traffic = null;
      await this.saveState(state);
      return { stopped: true };
    });
  }

  /** Whether a service has state (the activities use it to reject unknown services as bad input). */
  async hasService(service: string): Promise<boolean> {
    return (await this.loadState(checkServiceName(service))) !== null;
  }

  // ── processes ────────────────────────────────────────────────────────────────────────────────

  /** Reattaches to a live proxy (its live weight wins over the file) or starts one from the recorded state. */
  private async ensureProxy(state: ServiceState, override: { weight?: number } = {}): Promise<void> {
    if (state.proxy && isGroupAlive(state.proxy.pid)) {
      const live = await this.tryAdminState(state.proxy);
      if (live) {
        state.weight = live.weight;
        return;
      }
      await stopProcessGroup(state.proxy.pid, this.stopTimeoutMs);
    }
    const dir = this.serviceDir(state.service);
    await fs.mkdir(dir, { recursive: true });
    const readyFile = path.join(dir, 'proxy.ready.json');
    const logFile = path.join(dir, 'proxy.log');
    // Come back on the same public port when possible, so the service's URL does not change.
    const preferredPorts = state.proxy ? [state.proxy.publicPort, 0] : [0];
    let lastError: Error | undefined;
    for (const publicPort of preferredPorts) {
      await fs.rm(readyFile, { force: true });
      // Node flags go before the script (tsx hands them to node): a fixed 16 MB semi-space makes the
      // proxy's young-generation GC pauses ~4× rarer, out of its p99 (bench/proxy-overhead.ts).
      const args = [...PROXY_NODE_FLAGS, siblingScript('proxy-main'), '--public-port', String(publicPort), '--admin-port', '0', '--ready-file', readyFile];
      const pid = this.spawnDetached(args, { cwd: dir, logFile, env: {} });
      try {
        const ready = await waitFor(
          async () => (existsSync(readyFile) ? (JSON.parse(await fs.readFile(readyFile, 'utf8')) as ProxyState) : undefined),
          { pid, timeoutMs: this.startTimeoutMs, what: 'proxy', logFile },
        );
        state.proxy = {
          pid,
          publicPort: Number(new URL(ready.publicUrl).port),
          adminPort: Number(new URL(ready.adminUrl).port),
          logFile,
          startedAt: Date.now(),
        };
        await this.saveState(state);
        // A fresh proxy knows nothing: give it the recorded upstreams and weight.
        const upstreams: { stable?: string; canary?: string } = {};
        if (state.stable) upstreams.stable = state.stable.url;
        if (state.canary) upstreams.canary = state.canary.url;
        if (upstreams.stable) await this.admin(state, 'POST', '/admin/upstreams', upstreams);
        const weight = override.weight ?? (state.canary ? state.weight : 0);
        if (weight > 0) await this.admin(state, 'POST', '/admin/weight', { weight });
        state.weight = weight;
        await this.saveState(state);
        return;
      } catch (err) {
        lastError = err as Error;
        await stopProcessGroup(pid, this.stopTimeoutMs);
      }
    }
    throw lastError ?? new Error('proxy did not start');
  }

  /** Extracts `sha` into versions/<sha>, starts it on a free port and waits for its health path to answer 200. */
  private async startVersion(state: ServiceState, sha: string, descriptor: DeployableDescriptor): Promise<VersionRecord> {
    const dir = await this.extractVersion(state.repo, state.service, sha);
    const entryPath = path.join(dir, descriptor.entry);
    if (!existsSync(entryPath))
      throw new DeliveryInputError(`entry '${descriptor.entry}' does not exist in commit ${sha.slice(0, 12)} of ${state.repo}`);
    let lastError: Error | undefined;
    // A free port can be taken between our probe and the service's bind; try another one.
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await findFreePort();
      const logFile = path.join(dir, `service-${port}.log`);
      const url = `http://127.0.0.1:${port}`;
      const pid = this.spawnDetached([entryPath], {
        cwd: dir,
        logFile,
        env: { ...state.env, PORT: String(port), HOST: '127.0.0.1', MAESTRO_SERVICE: state.service, MAESTRO_SHA: sha },
      });
      const record: VersionRecord = { sha, pid, port, url, dir, logFile, entry: descriptor.entry, healthPath: descriptor.healthPath, startedAt: Date.now() };
      try {
        await waitFor(async () => ((await httpStatus(url + descriptor.healthPath, 1000)) === 200 ? true : undefined), {
          pid,
          timeoutMs: this.startTimeoutMs,
          what: `${state.service} ${sha.slice(0, 12)} on ${url}${descriptor.healthPath}`,
          logFile,
        });
        return record;
      } catch (err) {
        lastError = err as Error;
        await stopProcessGroup(pid, this.stopTimeoutMs);
        if (isGroupAlive(pid) || !/EADDRINUSE/.test(readLogTail(logFile))) break;
      }
    }
    throw lastError ?? new Error(`version ${sha} did not start`);
  }

  /** The commit's files in versions/<sha> (io/commit-process.ts). */
  private extractVersion(repo: string, service: string, sha: string): Promise<string> {
    return extractCommit(repo, sha, path.join(this.serviceDir(service), 'versions'));
  }

  /** node <tsxCli> <args>, detached into its own process group, output appended to logFile. */
  private spawnDetached(args: string[], options: { cwd: string; logFile: string; env: Record<string, string> }): number {
    return spawnDetachedNode({ tsxCli: this.tsxCli, args, ...options });
  }

  private async sweepRetiring(state: ServiceState): Promise<void> {
    if (state.retiring.length === 0) return;
    const inUse = new Set([state.stable?.pid, state.canary?.pid]);
    for (const version of state.retiring) if (!inUse.has(version.pid)) await stopProcessGroup(version.pid, this.stopTimeoutMs);
    state.retiring = [];
    await this.saveState(state);
  }

  // ── proxy admin ──────────────────────────────────────────────────────────────────────────────

  private async admin(state: ServiceState, method: 'GET' | 'POST', pathAndQuery: string, body?: unknown): Promise<unknown> {
    if (!state.proxy) throw new Error(`no proxy recorded for '${state.service}'`);
    const { status, json } = await httpJson(method, `${adminUrl(state.proxy)}${pathAndQuery}`, body, 5000);
    if (status >= 200 && status < 300) return json;
    const message = `proxy ${method} ${pathAndQuery} answered ${status}: ${(json as { error?: string } | undefined)?.error ?? ''}`;
    throw status >= 400 && status < 500 ? new DeliveryInputError(message) : new Error(message);
  }

  private async tryAdminState(proxy: ProxyRecord): Promise<ProxyState | null> {
    try {
      const { status, json } = await httpJson('GET', `${adminUrl(proxy)}/admin/state`, undefined, 1000);
      return status === 200 ? (json as ProxyState) : null;
    } catch {
      return null;
    }
  }

  // ── state ────────────────────────────────────────────────────────────────────────────────────

  private serviceDir(service: string): string {
    return path.join(this.stateDir, service);
  }
  private stateFile(service: string): string {
    return path.join(this.serviceDir(service), 'state.json');
  }

  private leaseFile(service: string): string {
    return path.join(this.serviceDir(service), 'lease.json');
  }
  private readLease(service: string): Promise<ServiceLease | null> {
    return readJsonIfAny<ServiceLease>(this.leaseFile(service));
  }

  private loadState(service: string): Promise<ServiceState | null> {
    return readJsonIfAny<ServiceState>(this.stateFile(service));
  }

  private async requireState(service: string): Promise<ServiceState> {
    const state = await this.loadState(service);
    if (!state) throw new DeliveryInputError(`unknown service '${service}': nothing deployed under ${this.serviceDir(service)}`);
    return state;
  }

  private async saveState(state: ServiceState): Promise<void> {
    state.updatedAt = Date.now();
    await writeJsonAtomically(this.stateFile(state.service), state);
    await writeJsonAtomically(this.scrapeTargetsFile(state.service), scrapeTargets(state));
  }

  private scrapeTargetsFile(service: string): string {
    return path.join(this.scrapeTargetsDir, `${service}.json`);
  }

  /** One operation per service at a time, in this process and across processes. */
  private withServiceLock<T>(service: string, operation: () => Promise<T>): Promise<T> {
    return withLock(path.join(this.serviceDir(service), '.lock'), 60_000, operation);
  }
}

// ── helpers ────────────────────────────────────────────────────────────────────────────────────

function newState(service: string, repo: string): ServiceState {
  return {
    service,
    repo,
    proxy: null,
    stable: null,
    canary: null,
    weight: 0,
    traffic: null,
    retiring: [],
    lastPromotion: null,
    lastRollback: null,
    updatedAt: Date.now(),
  };
}

/** The parsed file, or null when it does not exist. */
async function readJsonIfAny<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Write to a temporary file, then rename: readers see the old content or the new one, never half. */
async function writeJsonAtomically(file: string, value: unknown): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(value, null, 2));
  await fs.rename(tmp, file);
}

/** Prometheus file_sd groups: the proxy's admin listener (its /metrics) and each running version's own /metrics. */
function scrapeTargets(state: ServiceState): { targets: string[]; labels: Record<string, string> }[] {
  const groups: { targets: string[]; labels: Record<string, string> }[] = [];
  if (state.proxy) groups.push({ targets: [`127.0.0.1:${state.proxy.adminPort}`], labels: { service: state.service, component: 'proxy' } });
  for (const [role, version] of [['stable', state.stable], ['canary', state.canary]] as const)
    if (version) groups.push({ targets: [`127.0.0.1:${version.port}`], labels: { service: state.service, component: 'service', role, sha: version.sha } });
  return groups;
}

export function busy(service: string, lease: ServiceLease): ServiceBusyError {
  return new ServiceBusyError(
    `service '${service}' is held by train ${lease.owner} (since ${new Date(lease.since).toISOString()}); it is free once that train has promoted or reverted`,
    lease.owner,
  );
}

export function checkOwner(owner: unknown): string {
  if (typeof owner !== 'string' || owner.length === 0 || owner.length > 1000) throw new DeliveryInputError(`a lease owner must be a train's workflow id; got ${JSON.stringify(owner)}`);
  return owner;
}

function proxyUrl(proxy: ProxyRecord): string {
  return `http://127.0.0.1:${proxy.publicPort}`;
}
function adminUrl(proxy: ProxyRecord): string {
  return `http://127.0.0.1:${proxy.adminPort}`;
}

function checkServiceName(service: unknown): string {
  if (typeof service !== 'string' || !SERVICE_NAME.test(service))
    throw new DeliveryInputError(`service name must match ${SERVICE_NAME}; got ${JSON.stringify(service)}`);
  return service;
}

export function checkWeight(weight: unknown): number {
  if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 0 || weight > 100)
    throw new DeliveryInputError(`weight must be an integer from 0 to 100; got ${JSON.stringify(weight)}`);
  return weight;
}

function checkDescriptor(descriptor: DeployableDescriptor): DeployableDescriptor {
  const entry = descriptor?.entry;
  if (typeof entry !== 'string' || entry === '' || path.isAbsolute(entry) || path.normalize(entry).startsWith('..'))
    throw new DeliveryInputError(`descriptor.entry must be a path inside the repository; got ${JSON.stringify(entry)}`);
  const healthPath = descriptor.healthPath ?? '/healthz';
  if (typeof healthPath !== 'string' || !healthPath.startsWith('/'))
    throw new DeliveryInputError(`descriptor.healthPath must start with '/'; got ${JSON.stringify(healthPath)}`);
  return { entry, healthPath };
}

/** Environment names a service may be configured with: the deployer's own (PORT, HOST, MAESTRO_*) are not among them. */
export function checkServiceEnv(env: Record<string, string>): Record<string, string> {
  for (const [name, value] of Object.entries(env ?? {})) {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) throw new DeliveryInputError(`env: '${name}' is not an environment variable name (upper case letters, digits and _)`);
    if (name === 'PORT' || name === 'HOST' || name.startsWith('MAESTRO_')) throw new DeliveryInputError(`env: '${name}' is set by the deployer itself; configure the service with names of its own`);
    if (typeof value !== 'string' || value.includes('\0')) throw new DeliveryInputError(`env: the value of '${name}' must be a string without NUL characters`);
  }
  return { ...env };
}

async function checkRepo(repo: string): Promise<string> {
  const resolved = path.resolve(repo);
  const { exitCode } = await git(resolved, ['rev-parse', '--git-dir'], { allowExitCodes: [128] });
  if (exitCode !== 0) throw new DeliveryInputError(`repo '${repo}' is not a git repository`);
  return resolved;
}

async function checkedCommit(repo: string, revision: string): Promise<string> {
  if (typeof revision !== 'string' || !GIT_REVISION.test(revision) || revision.startsWith('-'))
    throw new DeliveryInputError(`not a git revision: ${JSON.stringify(revision)}`);
  const sha = await resolveCommit(repo, revision);
  if (sha === undefined) throw new DeliveryInputError(`commit '${revision}' not found in ${repo}`);
  return sha;
}

function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitFor<T>(
  check: () => Promise<T | undefined>,
  options: { pid: number; timeoutMs: number; what: string; logFile: string },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (!isGroupAlive(options.pid))
      throw new Error(`${options.what} exited before it was ready (pid ${options.pid}); log tail:\n${readLogTail(options.logFile)}`);
    if (Date.now() > deadline)
      throw new Error(`${options.what} was not ready within ${options.timeoutMs} ms (pid ${options.pid}); log tail:\n${readLogTail(options.logFile)}`);
    await sleep(50);
  }
}

async function isVersionHealthy(version: VersionRecord): Promise<boolean> {
  return isGroupAlive(version.pid) && (await httpStatus(version.url + version.healthPath, 1000)) === 200;
}

function httpStatus(url: string, timeoutMs: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

function httpJson(method: 'GET' | 'POST', url: string, body: unknown, timeoutMs: number): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      url,
      {
        method,
        agent: false,
        timeout: timeoutMs,
        headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as unknown) : undefined });
          } catch {
            resolve({ status: res.statusCode ?? 0, json: { error: text } });
          }
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** proxy-main / traffic-main next to this file: .ts when run from source, .js when compiled. */
function siblingScript(name: string): string {
  const ts = path.join(__dirname, `${name}.ts`);
  return existsSync(ts) ? ts : path.join(__dirname, `${name}.js`);
}
