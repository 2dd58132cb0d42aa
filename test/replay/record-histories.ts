/**
 * Records the histories that test/replay/replay.test.ts replays: one train per path (promoted, rolled back,
 * denied, appeal granted, approval, aborted, cancelled, and with a database migration: contracted or rolled
 * back) with its child workflows (rollout, appeal, migration), run against a dev server and worker of its
 * own. See docs/workflow-changes.md for when to run it.
 *
 *   npm run record-histories                       # every path, ids train-record-<path>
 *   npm run record-histories -- promoted denied    # only these paths
 *   npm run record-histories -- --tag v2 promoted  # ids train-v2-<path>: new files next to the old ones
 *   npm run record-histories -- --port 7710 promoted  # the dev server (and UI, next port) elsewhere than 7273
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { TEMPORAL_CLI } from '../../infra/temporal/dev-server';
import { createCodecServer, listenCodecServer } from '../../infra/temporal/codec-server';
import { EncryptionCodec, loadKeyRing } from '../../io/payload-codec';
import { withOwnStack } from '../../bench/own-stack';
import { Pool } from 'pg';
import {
  appealStatusQuery,
  decideAppealSignal,
  migrationPauseSignal,
  migrationResumeSignal,
  migrationStatusQuery,
  migrationThrottleSignal,
  migrationWorkflowId,
  rolloutStatusQuery,
  rolloutWorkflowId,
  trainStatusQuery,
  type TrainStage,
} from '../../workflows/messages';
import type { ChangeRequest, Environment } from '../../core/change-request';
import { MigrationEngine } from '../../migrations/engine';
import { createPeopleTable, splitNameMigration } from '../../bench/lib/people-load';
import { emptyDatabase } from '../helpers/fresh-db';
import type { appeal } from '../../workflows/appeal';
import type { releaseTrain } from '../../workflows/release-train';
import { FAST_PLAN, TrainFixture } from '../../examples/train-fixture';

const OUT = path.join(__dirname, 'histories');
const QUEUE = 'record';
/** Slow enough that a signal or a cancel reliably lands while the canary sits at 10%. */
const SLOW_GATE = { steps: [{ setWeight: 10 }, { setWeight: 100 }], gate: { probeInterval: 500, consecutiveGreen: 4, maxRed: 2, timeout: 60_000 }, thresholds: { minRequests: 3 } };

type Train = WorkflowHandle<typeof releaseTrain>;
interface Scenario {
  /** What happens to the train; `expected` is its outcome (cancelled trains have none). */
  expected: string;
  /** Where the greeter runs before the train (a promotion path's environments); default dev. */
  environments?: Environment[];
  /**
   * Starts the train and drives it; returns the ids of the workflows it caused besides its rollout and
   * migration children, and what to clean up once the train ended.
   */
  run(ctx: { client: Client; fixture: TrainFixture; start: (cr: Parameters<typeof releaseTrain>[0]) => Promise<Train>; id: string }): Promise<{ train: Train; others?: string[]; cleanup?: () => Promise<void> }>;
}

/**
 * A train whose change carries the split-name migration of a `people` table (a database of its own): the
 * operator throttles, pauses and resumes the backfill through the migration child, so its history holds
 * every signal handler's path.
 */
async function migratingTrain(ctx: Parameters<Scenario['run']>[0], change: 'good-change' | 'bad-change'): Promise<{ train: Train; cleanup: () => Promise<void> }> {
  const db = await emptyDatabase('record_migration');
  const pool = new Pool({ connectionString: db.url, max: 2 });
  pool.on('error', () => undefined);
  const cleanup = async () => {
    await pool.end();
    await db.drop();
  };
  try {
    await createPeopleTable(new MigrationEngine(pool), db.url, 20_000);
  } catch (err) {
    await cleanup();
    throw err;
  }
  const train = await ctx.start(ctx.fixture.change(change, ctx.id, { migration: { databaseUrl: db.url, definition: splitNameMigration } as ChangeRequest['migration'] }));
  const migration = ctx.client.workflow.getHandle(migrationWorkflowId(train.workflowId));
  await until(async () => {
    // A train that ended before its migration started never gets one: say so instead of waiting.
    const running = await train.describe().then((d) => d.status.name === 'RUNNING');
    if (!running) throw new ScenarioFailed(`${train.workflowId} ended before its migration ran: ${JSON.stringify(await train.result().catch(String))}`);
    return (await migration.query(migrationStatusQuery)).phase !== 'registering';
  });
  await migration.signal(migrationThrottleSignal, { batchSize: 500, delayMs: 20 });
  await migration.signal(migrationPauseSignal, { by: 'dana@dba', reason: 'checking replication lag' });
  await migration.signal(migrationResumeSignal, { by: 'dana@dba', reason: 'lag is fine' });
  return { train, cleanup };
}

const scenarios: Record<string, Scenario> = {
  promoted: { expected: 'promoted', run: async ({ fixture, start, id }) => ({ train: await start(fixture.change('good-change', id)) }) },
  'rolled-back': { expected: 'rolled_back', run: async ({ fixture, start, id }) => ({ train: await start(fixture.change('bad-change', id)) }) },
  // The statistical judge's gate (STATISTICAL_JUDGE_PATCH): the bad change fails its error-rate test.
  judged: {
    expected: 'rolled_back',
    run: async ({ fixture, start, id }) => ({ train: await start(fixture.change('bad-change', id, { rollout: { ...FAST_PLAN, judge: { maxSoakMs: 20_000 } } as never })) }),
  },
  // The tripwire (TRIPWIRE_PATCH): the watcher activity beside the gates, the bad change's error burst trips it.
  tripped: {
    expected: 'rolled_back',
    run: async ({ fixture, start, id }) => ({ train: await start(fixture.change('bad-change', id, { rollout: { ...FAST_PLAN, tripwire: {} } as never })) }),
  },
    denied: { expected: 'denied', run: async ({ fixture, start, id }) => ({ train: await start(fixture.change('failing-tests-change', id)) }) },
  'appeal-granted': {
    expected: 'promoted',
    run: async ({ client, fixture, start, id }) => {
      const train = await start(fixture.change('failing-tests-change', id, { appealWindow: 120_000 }));
      await untilStage(train, 'awaitingAppeal');
      const appealId = `appeal-${train.workflowId}`;
      const handle = await client.workflow.start<typeof appeal>('appeal', {
        taskQueue: QUEUE,
        workflowId: appealId,
        args: [{ trainWorkflowId: train.workflowId, appellant: 'erin@dev', reason: 'the new wording is intended', rules: ['eval-score-below-threshold'] }],
      });
      await until(async () => (await handle.query(appealStatusQuery)).status === 'open');
      await handle.signal(decideAppealSignal, { by: 'frank@release', decision: 'grant', reason: 'accepted for this change' });
      await handle.result();
      return { train, others: [appealId] };
    },
  },
  approval: {
    expected: 'promoted',
    run: async ({ fixture, start, id }) => {
      const train = await start(fixture.change('good-change', id, { approval: 'required' }));
      await untilStage(train, 'awaitingApproval');
      await train.signal('approve', { by: 'carol@owners', reason: 'reviewed' });
      return { train };
    },
  },
  aborted: {
    expected: 'aborted',
    run: async ({ client, fixture, start, id }) => {
      const train = await start(fixture.change('good-change', id, { rollout: SLOW_GATE as never }));
      await untilCanaryAt10(client, train);
      await train.signal('abort', { by: 'alice@ops', reason: 'customer escalation' });
      return { train };
    },
  },
  // The database-migration-around-rollout patch: migrated before the merge, contracted after promotion …
  migrated: { expected: 'promoted', run: (ctx) => migratingTrain(ctx, 'good-change') },
  // … or rolled back with its canary.
  'migrated-rolled-back': { expected: 'rolled_back', run: (ctx) => migratingTrain(ctx, 'bad-change') },
  // The promotion-path-saga patch: dev, staging, then prod's guard waits for a release manager's approval, then prod.
  'promotion-path': {
    expected: 'promoted',
    environments: ['dev', 'staging', 'prod'],
    run: async ({ fixture, start, id }) => {
      const train = await start(fixture.change('good-change', id, { environment: 'prod', promotion: { onFailure: 'rollback-all' } } as never));
      await until(async () => (await train.query(trainStatusQuery)).history.some((h) => h.kind === 'guard' && h.detail.startsWith('prod:')));
      await train.signal('approve', { by: 'carol@release', reason: 'prod window agreed' });
      return { train };
    },
  },
  cancelled: {
    expected: 'cancelled',
    run: async ({ client, fixture, start, id }) => {
      const train = await start(fixture.change('good-change', id, { rollout: SLOW_GATE as never }));
      await untilCanaryAt10(client, train);
      await train.cancel();
      return { train };
    },
  },
};

function parseArgs(argv: string[]): { tag: string; port: number; names: string[] } {
  const valueOf = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  const tag = valueOf('--tag') ?? 'record';
  if (!/^[a-z0-9-]+$/.test(tag)) throw new Error('--tag needs a value of a-z, 0-9 and -');
  const port = Number(valueOf('--port') ?? 7273);
  if (!Number.isInteger(port) || port < 1024 || port > 65_000) throw new Error(`--port needs a port number from 1024 to 65000, got '${valueOf('--port')}'`);
  const names = argv.filter((arg, i) => !['--tag', '--port'].includes(arg) && !['--tag', '--port'].includes(argv[i - 1] ?? ''));
  const unknown = names.filter((n) => !(n in scenarios));
  if (unknown.length) throw new Error(`unknown path(s) ${unknown.join(', ')}; known: ${Object.keys(scenarios).join(', ')}`);
  return { tag, port, names: names.length ? names : Object.keys(scenarios) };
}

async function main(): Promise<void> {
  const { tag, port, names } = parseArgs(process.argv.slice(2));
  // The Web UI right above the server's port, so a --port range stays one range.
  await withOwnStack({ port, uiPort: port + 1, queue: QUEUE }, async ({ client, address, stateDir }) => {
    // Histories are exported decrypted (through a codec endpoint with the stack's keys), so that they replay with any key.
    const codecServer = createCodecServer({ codec: new EncryptionCodec(loadKeyRing({ stateDir })), namespace: 'default', allowedOrigins: [] });
    const codecEndpoint = await listenCodecServer(codecServer, 0);
    try {
      // One at a time: the machine is shared and health gates judge latency.
      for (const name of names) {
        const fixture = new TrainFixture(`greeter-${tag}-${name}`, stateDir);
        await fixture.start(undefined, scenarios[name]!.environments ? { environments: scenarios[name]!.environments } : {});
        try {
          const workflowId = `train-${tag}-${name}`;
          const start = (cr: Parameters<typeof releaseTrain>[0]) => client.workflow.start<typeof releaseTrain>('releaseTrain', { taskQueue: QUEUE, workflowId, args: [cr] });
          const { train, others = [], cleanup } = await scenarios[name]!.run({ client, fixture, start, id: `${tag}-${name}` });
          const outcome = await train
            .result()
            .then(
              (r) => `${r.outcome} (${r.reason})`,
              async () => (await train.describe()).status.name.toLowerCase(),
            )
            .finally(cleanup);
          console.log(`${name}: ${outcome}`);
          if (!outcome.startsWith(scenarios[name]!.expected)) throw new Error(`${name}: expected ${scenarios[name]!.expected}, got ${outcome}`);
          const ids = [workflowId, ...others];
          const rollouts = (scenarios[name]!.environments ?? []).map((env) => rolloutWorkflowId(workflowId, env));
          for (const child of [rolloutWorkflowId(workflowId), ...rollouts, migrationWorkflowId(workflowId)]) if (await exists(client, child)) ids.push(child);
          // Files are named by workflow id: a replay must use the id the history was recorded with.
          for (const id of ids) {
            // The CLI's JSON export is the format replayers (and the Web UI's download) use.
            // Asynchronously: the codec endpoint that the CLI calls runs in this process.
            const { stdout: json } = await promisify(execFile)(TEMPORAL_CLI, ['workflow', 'show', '--address', address, '--workflow-id', id, '--output', 'json', '--codec-endpoint', codecEndpoint], { maxBuffer: 64 << 20 });
            fs.writeFileSync(path.join(OUT, `${id}.json`), json);
            console.log(`  ${path.relative(process.cwd(), path.join(OUT, `${id}.json`))}`);
          }
        } finally {
          await fixture.stop();
        }
      }
    } finally {
      codecServer.close();
    }
  });
}

async function exists(client: Client, workflowId: string): Promise<boolean> {
  return client.workflow
    .getHandle(workflowId)
    .describe()
    .then(
      () => true,
      () => false,
    );
}

/** Thrown inside an `until` predicate: the scenario cannot reach its condition any more. */
class ScenarioFailed extends Error {}

const untilStage = (train: Train, stage: TrainStage) => until(async () => (await train.query(trainStatusQuery)).stage === stage);
const untilCanaryAt10 = (client: Client, train: Train) =>
  until(async () => (await client.workflow.getHandle(rolloutWorkflowId(train.workflowId)).query(rolloutStatusQuery)).weight === 10);

async function until(predicate: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    // The workflow (or its child) may not exist yet: a failed query means "not yet"; ScenarioFailed is final.
    if (await predicate().catch((err: unknown) => (err instanceof ScenarioFailed ? Promise.reject(err) : false))) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('condition not met in time');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
