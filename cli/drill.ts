/**
 * Fault drills against a real local stack of their own: a Temporal dev server (SQLite, so it survives
 * its own kill -9), a PostgreSQL record, a release worker as a separate process group, and a greeter
 * service with live traffic. Each scenario runs trains, injects one fault at a stage (kill -9 of a stack
 * process, an outage, an abort, concurrent trains on one service), lets the system recover on its own,
 * then checks the release invariant (verify/service-truths.ts) and counts duplicated stages and weight
 * changes. `maestro drill` prints the table; test/integration/cli/drill.test.ts runs a short subset.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { ChangeRequest } from '../core/change-request';
import { percentile } from '../core/health';
import type { InvariantReport } from '../core/invariant';
import { FAST_PLAN, TrainFixture } from '../examples/train-fixture';
import { ensurePostgres, serverDir, stopPostgres, type PostgresOptions, defaultPostgres, serverUrl } from '../infra/postgres/server';
import { startDevServer, stopDevServer, type DevServerOptions } from '../infra/temporal/dev-server';
import { isGroupAlive, stopProcessGroup } from '../io/process';
import { PROJECT_ROOT, TSX_CLI } from '../io/paths';
import { connectTemporalClient, EncryptionCodec, isWorkflowRunning, loadKeyRing } from '../io/payload-codec';
import { codecSettings } from './client';
import { loadOrCreateSigningKey } from '../provenance/signing';
import { createPrisma } from '../record/db';
import { migrate } from '../record/migrate';
import { RecordStore } from '../record/store';
import { verifyService } from '../verify/service-truths';
import { rolloutStatusQuery, rolloutWorkflowId, trainStatusQuery, type HistoryEntry, type TrainResult, type TrainStage } from '../workflows/messages';

export type Fault = 'kill-worker' | 'kill-proxy' | 'kill-canary' | 'kill-stable' | 'kill-postgres' | 'kill-temporal' | 'abort' | 'concurrent';

export interface Scenario {
  name: string;
  fault: Fault;
  /** The train stage at which the fault is injected (for `concurrent`: none). */
  at?: TrainStage;
  /** How long a killed stack process stays down before it is restarted (worker, PostgreSQL, Temporal). */
  downMs?: number;
  /** Trains started at once on one service (concurrent). */
  trains?: number;
}

export const SCENARIOS: Scenario[] = [
  { name: 'kill-worker@prepareChange', fault: 'kill-worker', at: 'prepareChange', downMs: 2000 },
  { name: 'kill-worker@runEvals', fault: 'kill-worker', at: 'runEvals', downMs: 2000 },
  { name: 'kill-worker@rollout', fault: 'kill-worker', at: 'rollout', downMs: 2000 },
  { name: 'kill-proxy@rollout', fault: 'kill-proxy', at: 'rollout' },
  { name: 'kill-canary@rollout', fault: 'kill-canary', at: 'rollout' },
  { name: 'kill-stable@rollout', fault: 'kill-stable', at: 'rollout' },
  { name: 'postgres-down-20s@runEvals', fault: 'kill-postgres', at: 'runEvals', downMs: 20_000 },
  { name: 'postgres-down-20s@rollout', fault: 'kill-postgres', at: 'rollout', downMs: 20_000 },
  { name: 'postgres-down-60s@rollout', fault: 'kill-postgres', at: 'rollout', downMs: 60_000 },
  { name: 'temporal-down-5s@rollout', fault: 'kill-temporal', at: 'rollout', downMs: 5000 },
  { name: 'temporal-down-60s@runEvals', fault: 'kill-temporal', at: 'runEvals', downMs: 60_000 },
  { name: 'abort@prepareChange', fault: 'abort', at: 'prepareChange' },
  { name: 'abort@assessRisk', fault: 'abort', at: 'assessRisk' },
  { name: 'abort@runEvals', fault: 'abort', at: 'runEvals' },
  { name: 'abort@rollout', fault: 'abort', at: 'rollout' },
  { name: 'concurrent-2', fault: 'concurrent', trains: 2 },
  { name: 'concurrent-5', fault: 'concurrent', trains: 5 },
];

export interface RunResult {
  outcomes: string[];
  /** Each train's own account of how it ended. */
  reasons: string[];
  /** Fault (or restart) → the train's next progress; undefined when nothing was injected. */
  recoveryMs?: number;
  duplicates: number;
  invariant: InvariantReport;
  /** What the trains themselves found at their end. */
  trainInvariantsHeld: boolean;
  error?: string;
}

export interface DrillRow {
  scenario: string;
  runs: number;
  outcomes: Record<string, number>;
  reasons: string[];
  recoveryMedianMs?: number;
  recoveryMaxMs?: number;
  duplicates: number;
  invariantHeld: number;
  errors: string[];
}

export interface DrillOptions {
  scenarios: Scenario[];
  runs: number;
  /** Temporal frontend port; the Web UI is port + 1000, PostgreSQL port + 10. */
  port?: number;
  print?: (line: string) => void;
}

const QUEUE = 'drill';

/** Runs every scenario `runs` times on one stack of its own; returns one row per scenario. */
export async function runDrill(opts: DrillOptions): Promise<DrillRow[]> {
  const stack = await DrillStack.start(opts.port ?? 7450, opts.print ?? (() => undefined));
  const rows: DrillRow[] = [];
  try {
    for (const scenario of opts.scenarios) {
      const results: RunResult[] = [];
      for (let i = 0; i < opts.runs; i++) {
        stack.print(`drill ${scenario.name}: run ${i + 1}/${opts.runs}`);
        results.push(await stack.runScenario(scenario, `${i}`));
      }
      rows.push(summarise(scenario.name, results));
    }
  } finally {
    await stack.stop();
  }
  return rows;
}

export function summarise(scenario: string, results: RunResult[]): DrillRow {
  const recoveries = results.map((r) => r.recoveryMs).filter((ms): ms is number => ms !== undefined);
  const outcomes: Record<string, number> = {};
  for (const o of results.flatMap((r) => r.outcomes)) outcomes[o] = (outcomes[o] ?? 0) + 1;
  return {
    scenario,
    runs: results.length,
    outcomes,
    reasons: results.flatMap((r) => r.reasons),
    ...(recoveries.length ? { recoveryMedianMs: Math.round(percentile(recoveries, 50)), recoveryMaxMs: Math.max(...recoveries) } : {}),
    duplicates: results.reduce((n, r) => n + r.duplicates, 0),
    invariantHeld: results.filter((r) => r.invariant.held && r.trainInvariantsHeld).length,
    errors: results.flatMap((r) => [...(r.error ? [r.error] : []), ...r.invariant.disagreements.map((d) => d.what)]),
  };
}

export function formatTable(rows: DrillRow[]): string[] {
  const header = ['scenario', 'runs', 'outcomes', 'recovery median', 'recovery max', 'duplicates', 'invariant held'];
  const lines = rows.map((r) => [
    r.scenario,
    String(r.runs),
    Object.entries(r.outcomes)
      .map(([o, n]) => `${o} ${n}`)
      .join(', '),
    r.recoveryMedianMs !== undefined ? `${(r.recoveryMedianMs / 1000).toFixed(1)} s` : '—',
    r.recoveryMaxMs !== undefined ? `${(r.recoveryMaxMs / 1000).toFixed(1)} s` : '—',
    String(r.duplicates),
    `${r.invariantHeld}/${r.runs}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const out = [fmt(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmt)];
  for (const r of rows) for (const e of r.errors) out.push(`  ${r.scenario}: ${e}`);
  return out;
}

class DrillStack {
  private worker?: number;
  private serviceCount = 0;
  private readonly keyDir: string;
  private readonly gitopsRepo: string;

  private constructor(
    readonly print: (line: string) => void,
    readonly root: string,
    readonly temporal: DevServerOptions,
    readonly postgres: PostgresOptions,
    readonly databaseUrl: string,
    readonly stateDir: string,
    readonly client: Client,
  ) {
    this.keyDir = path.join(stateDir, 'keys');
    this.gitopsRepo = path.join(stateDir, 'gitops');
  }

  static async start(port: number, print: (line: string) => void): Promise<DrillStack> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'maestro-drill-'));
    const postgres: PostgresOptions = { ...defaultPostgres, baseDir: path.join(root, 'postgres'), port: port + 10 };
    print(`drill: PostgreSQL on :${postgres.port}, Temporal on :${port} (UI :${port + 1000}), state under ${root}`);
    await ensurePostgres(postgres);
    const databaseUrl = serverUrl(postgres);
    await migrate(databaseUrl);
    const temporal: DevServerOptions = { port, uiPort: port + 1000, dbFile: path.join(root, 'temporal', 'dev.sqlite'), runDir: path.join(root, 'temporal') };
    await startDevServer(temporal);
    const stateDir = path.join(root, 'state');
    // The worker encrypts payloads with the keys of its state dir (or MAESTRO_CODEC_KEYS): the drill reads them with the same.
    const codec = new EncryptionCodec(loadKeyRing(codecSettings({ ...process.env, MAESTRO_STATE_DIR: stateDir })));
    const client = await connectTemporalClient({ address: `127.0.0.1:${port}`, namespace: 'default', codec });
    const stack = new DrillStack(print, root, temporal, postgres, databaseUrl, stateDir, client);
    await stack.startWorker();
    return stack;
  }

  async stop(): Promise<void> {
    if (this.worker) await stopProcessGroup(this.worker, 10_000);
    await this.client.connection.close();
    await stopDevServer(this.temporal);
    await stopPostgres(this.postgres);
  }

  /** The release worker as its own process group, as `maestro up` runs it. */
  async startWorker(): Promise<void> {
    const logFile = path.join(this.root, 'worker.log');
    const offset = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
    const log = fs.openSync(logFile, 'a');
    const child = spawn(process.execPath, [TSX_CLI, path.join(PROJECT_ROOT, 'workers/main.ts')], {
      detached: true,
      stdio: ['ignore', log, log],
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: `127.0.0.1:${this.temporal.port}`,
        MAESTRO_TASK_QUEUE: QUEUE,
        MAESTRO_STATE_DIR: this.stateDir,
        MAESTRO_DATABASE_URL: this.databaseUrl,
      },
    });
    child.unref();
    fs.closeSync(log);
    this.worker = child.pid!;
    const deadline = Date.now() + 90_000;
    while (!fs.readFileSync(logFile, 'utf8').slice(offset).includes('maestro worker: polling')) {
      if (!isGroupAlive(this.worker)) throw new Error(`the drill's worker exited during start-up; see ${logFile}`);
      if (Date.now() > deadline) throw new Error(`the drill's worker did not poll within 90 s; see ${logFile}`);
      await sleep(250);
    }
  }

  async runScenario(scenario: Scenario, run: string): Promise<RunResult> {
    const service = `drill-${++this.serviceCount}-${Date.now().toString(36)}`;
    const fixture = new TrainFixture(service, this.stateDir);
    await fixture.start(60);
    try {
      const count = scenario.fault === 'concurrent' ? (scenario.trains ?? 2) : 1;
      const changes = Array.from({ length: count }, (_, i) => noteChange(fixture, `${service}-${i}`, i));
      const handles: WorkflowHandle[] = [];
      for (const cr of changes) handles.push(await this.client.workflow.start('releaseTrain', { taskQueue: QUEUE, workflowId: `train-${cr.id}-${run}`, args: [cr] }));

      let recoveryMs: number | undefined;
      let error: string | undefined;
      if (scenario.at && scenario.fault !== 'concurrent') {
        const reached = await this.waitForStage(handles[0]!, scenario.at);
        if (reached) recoveryMs = await this.inject(scenario, handles[0]!, fixture);
        else {
          const ended = await handles[0]!.query(trainStatusQuery).catch(() => undefined);
          error = `the train ended before reaching ${scenario.at}: ${ended?.history.at(-1)?.detail ?? 'no status'}`;
        }
      }
      const results = await Promise.all(handles.map((h) => h.result().then((r: TrainResult) => r, (err: Error) => ({ outcome: 'failed', reason: err.message }) as TrainResult)));
      const duplicates = (await Promise.all(handles.map((h) => this.duplicates(h)))).reduce((a, b) => a + b, 0);
      const invariant = await this.verify(service);
      return {
        outcomes: results.map((r) => r.outcome),
        reasons: results.map((r) => `${r.outcome}: ${r.reason}`),
        ...(recoveryMs !== undefined ? { recoveryMs } : {}),
        duplicates,
        invariant,
        trainInvariantsHeld: results.every((r) => r.invariant === undefined || r.invariant.held),
        ...(error ? { error } : {}),
      };
    } finally {
      await fixture.stop();
    }
  }

  private async waitForStage(handle: WorkflowHandle, stage: TrainStage): Promise<boolean> {
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline) {
      const status = await handle.query(trainStatusQuery).catch(() => undefined);
      if (status?.stage === stage) {
        // In the rollout, wait for the first weight step so the canary takes traffic when the fault hits.
        if (stage !== 'rollout') return true;
        const rollout = await this.client.workflow.getHandle(rolloutWorkflowId(handle.workflowId)).query(rolloutStatusQuery).catch(() => undefined);
        if ((rollout?.weight ?? 0) > 0) return true;
      }
      if (status?.stage === 'done') return false;
      await sleep(100);
    }
    return false;
  }

  /** Injects the fault; resolves with the time from it (or from the restart) to the train's next progress. */
  private async inject(scenario: Scenario, handle: WorkflowHandle, fixture: TrainFixture): Promise<number | undefined> {
    const before = await this.progress(handle);
    const state = JSON.parse(fs.readFileSync(path.join(this.stateDir, 'deploy', fixture.service, 'state.json'), 'utf8')) as Record<string, { pid: number } | null>;
    const killGroup = (pid: number | undefined) => {
      if (pid) process.kill(-pid, 'SIGKILL');
    };
    const faultAt = Date.now();
    switch (scenario.fault) {
      case 'kill-worker':
        killGroup(this.worker);
        await sleep(scenario.downMs ?? 0);
        await this.startWorker();
        break;
      case 'kill-proxy':
        killGroup(state.proxy?.pid);
        break;
      case 'kill-canary':
        killGroup(state.canary?.pid);
        break;
      case 'kill-stable':
        killGroup(state.stable?.pid);
        break;
      case 'kill-postgres': {
        const pid = Number(fs.readFileSync(path.join(serverDir(this.postgres), 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
        process.kill(pid, 'SIGKILL');
        await sleep(scenario.downMs ?? 0);
        await ensurePostgres(this.postgres);
        break;
      }
      case 'kill-temporal': {
        const pid = Number(fs.readFileSync(path.join(this.temporal.runDir, `server-${this.temporal.port}.pid`), 'utf8'));
        process.kill(-pid, 'SIGKILL');
        await sleep(scenario.downMs ?? 0);
        await startDevServer(this.temporal);
        break;
      }
      case 'abort':
        await handle.signal('abort', { by: 'drill@maestro.localhost', reason: `drill: abort at ${scenario.at}` });
        break;
      case 'concurrent':
        return undefined;
    }
    const restartedAt = ['kill-worker', 'kill-postgres', 'kill-temporal'].includes(scenario.fault) ? Date.now() : faultAt;
    const deadline = Date.now() + 300_000;
    while (Date.now() < deadline) {
      const now = await this.progress(handle).catch(() => before);
      if (now > before) return Date.now() - restartedAt;
      await sleep(100);
    }
    return undefined;
  }

  /** How many history entries the train and its rollout have: grows whenever the train makes progress. */
  private async progress(handle: WorkflowHandle): Promise<number> {
    const train = await handle.query(trainStatusQuery);
    const rollout = await this.client.workflow.getHandle(rolloutWorkflowId(handle.workflowId)).query(rolloutStatusQuery).catch(() => undefined);
    return train.history.length + (rollout?.history.length ?? 0);
  }

  /** Stages entered twice and weight steps applied twice (a retry that redid visible work). */
  private async duplicates(handle: WorkflowHandle): Promise<number> {
    const train = await handle.query(trainStatusQuery).catch(() => undefined);
    const rollout = await this.client.workflow.getHandle(rolloutWorkflowId(handle.workflowId)).query(rolloutStatusQuery).catch(() => undefined);
    const repeats = (entries: HistoryEntry[], kind: string) => {
      const seen = entries.filter((e) => e.kind === kind).map((e) => e.detail);
      return seen.length - new Set(seen).size;
    };
    return repeats(train?.history ?? [], 'stage') + repeats(rollout?.history ?? [], 'weight');
  }

  private async verify(service: string): Promise<InvariantReport> {
    const prisma = createPrisma(this.databaseUrl);
    try {
      return await verifyService(
        {
          // The drill's trains run in dev, the fixture's deployer.
          deployerFor: () => new TrainFixture(service, this.stateDir).deployer,
          record: new RecordStore({ prisma }),
          gitopsRepo: this.gitopsRepo,
          publicKey: () => loadOrCreateSigningKey(this.keyDir).publicKey,
          isTrainRunning: (id) => isWorkflowRunning(this.client, id),
        },
        { service },
      );
    } finally {
      await prisma.$disconnect();
    }
  }
}

/** A change that adds its own file: any number of them merge cleanly on top of each other, and its tests pass. */
function noteChange(fixture: TrainFixture, id: string, index: number): ChangeRequest {
  const file = `docs/release-note-${index}.md`;
  const diff = [`diff --git a/${file} b/${file}`, 'new file mode 100644', '--- /dev/null', `+++ b/${file}`, '@@ -0,0 +1 @@', `+Release note ${index}: shipped by a drill train.`, ''].join('\n');
  return {
    ...fixture.change('good-change', id),
    title: `Add release note ${index}`,
    intent: `Add release note ${index} under docs/ so operators can read what shipped`,
    change: { kind: 'patch', diff },
    rollout: { ...FAST_PLAN, gate: { probeInterval: 500, consecutiveGreen: 3, maxRed: 2, timeout: 30_000 } } as ChangeRequest['rollout'],
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
