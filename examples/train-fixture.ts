import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalDeployer, localDeployDir } from '../delivery/local-deployer';
import { runTraffic } from '../delivery/traffic';
import type { ChangeRequest, Environment } from '../core/change-request';
import type { RolloutPlanInput } from '../core/rollout-plan';
import { serviceDescriptorSchema } from '../core/stages';
import { createDemoRepo, loadExampleChange, type ExampleChangeName } from './demo-repo';
import { createGreeterTables, GREETER_DATABASE_ENV } from './greeter-database';

/** Short gates so a whole train runs in seconds; same shape as the demo's. */
export const FAST_PLAN: RolloutPlanInput = {
  steps: [{ setWeight: 10 }, { setWeight: 50 }, { setWeight: 100 }],
  gate: { probeInterval: 400, consecutiveGreen: 2, maxRed: 2, timeout: 20_000 },
  thresholds: { minRequests: 3 },
};

/**
 * A greeter repo in a temp dir, its stable version running behind the proxy, and live traffic:
 * what `maestro up` + the demo set up, for one test.
 */
export class TrainFixture {
  /** Dev's deployer, where a train without a promotion path rolls out. */
  readonly deployer: LocalDeployer;
  repo = '';
  baseSha = '';
  /** Where the service answers in dev (the weighted proxy), once started. */
  proxyUrl = '';
  private traffic?: AbortController;
  private readonly deployers = new Map<Environment, LocalDeployer>();
  private started: Environment[] = ['dev'];

  /** stateDir is the worker's: the fixture and the activities share one deployer state. */
  constructor(
    readonly service: string,
    readonly stateDir: string,
  ) {
    this.deployer = this.deployerIn('dev');
  }

  /** The deployer of an environment, sharing the worker's state (activities/index.ts gives each environment its own). */
  deployerIn(environment: Environment): LocalDeployer {
    let deployer = this.deployers.get(environment);
    if (!deployer) this.deployers.set(environment, (deployer = new LocalDeployer({ stateDir: localDeployDir(path.join(this.stateDir, 'deploy'), environment), tsxCli: require.resolve('tsx/cli') })));
    return deployer;
  }

  /**
   * With `databaseUrl` (an empty database), the greeter's tables are made there and every version uses it. Traffic runs
   * for `trafficMs` (a bench of many rollouts needs more than the default ten minutes). With `environments`, the same
   * base version runs, with its own traffic, in each of them (a promotion path's), not only in dev.
   */
  async start(rps = 150, opts: { databaseUrl?: string; trafficMs?: number; environments?: Environment[] } = {}): Promise<void> {
    const created = await createDemoRepo(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'maestro-repo-')), this.service));
    this.repo = created.repo;
    this.baseSha = created.baseSha;
    const descriptor = serviceDescriptorSchema.parse(JSON.parse(fs.readFileSync(path.join(this.repo, 'maestro.service.json'), 'utf8')));
    if (opts.databaseUrl) await createGreeterTables(opts.databaseUrl);
    const env = opts.databaseUrl ? { [GREETER_DATABASE_ENV]: opts.databaseUrl } : undefined;
    this.traffic = new AbortController();
    this.started = opts.environments ?? ['dev'];
    for (const environment of this.started) {
      const { proxyUrl } = await this.deployerIn(environment).ensureStable({ service: this.service, repo: this.repo, sha: this.baseSha, descriptor, env });
      if (environment === 'dev') this.proxyUrl = proxyUrl;
      void runTraffic({ url: proxyUrl, rps, durationMs: opts.trafficMs ?? 10 * 60_000, paths: ['/greet?name=Ada', '/greet', '/healthz'] }, this.traffic.signal);
    }
  }

  change(name: ExampleChangeName, id: string, overrides: Partial<ChangeRequest> = {}): ChangeRequest {
    return { ...loadExampleChange(name, this.repo, id), service: this.service, rollout: FAST_PLAN as ChangeRequest['rollout'], ...overrides };
  }

  async stop(): Promise<void> {
    this.traffic?.abort();
    for (const environment of this.started) await this.deployerIn(environment).stopService({ service: this.service });
  }
}
