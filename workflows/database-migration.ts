import { CancellationScope, condition, getExternalWorkflowHandle, isCancellation, proxyActivities, setHandler, type RetryPolicy } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { backfillThrottleSchema, type BackfillThrottle, type MigrationProgress } from '../core/migration';
import {
  acceptOperatorSignal,
  finishMigrationSignal,
  migrationPauseSignal,
  migrationReadySignal,
  migrationReadsSchema,
  migrationReadsSignal,
  migrationResumeSignal,
  migrationStatusQuery,
  migrationThrottleSignal,
  rejectedPayload,
  type DatabaseMigrationInput,
  type DatabaseMigrationResult,
  type MigrationStatus,
} from './messages';

const retry: RetryPolicy = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '15s', nonRetryableErrorTypes: ['InvalidInput', 'MigrationState'] };
/** Validation and planning: quick; a refusal is final. */
const planning = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: { ...retry, maximumAttempts: 3 } });
/**
 * DDL steps and backfill slices: they resume from the database's own checkpoint, so a lost worker's
 * attempt is simply retried (heartbeats notice the loss in seconds); lock timeouts retry for minutes.
 */
const steps = proxyActivities<Activities>({ startToCloseTimeout: '30 minutes', heartbeatTimeout: '15s', scheduleToCloseTimeout: '2 hours', retry });

export const DEFAULT_THROTTLE: BackfillThrottle = { batchSize: 1000, delayMs: 0 };

/**
 * One zero-downtime migration (pgroll's expand / backfill / complete-or-rollback) as a durable workflow:
 * expand, then the backfill in slices (between slices it honours pause, resume and throttle), then it tells
 * its train the new shape is ready and waits for `finishMigration`: contract after promotion, rollback
 * otherwise. Any failure or cancellation before contract rolls back: the old shape is left intact.
 */
export async function databaseMigration(input: DatabaseMigrationInput): Promise<DatabaseMigrationResult> {
  const name = String((input.migration as { name?: unknown }).name ?? '');
  const target = { databaseUrl: input.databaseUrl, name };
  const status: MigrationStatus = { name, phase: 'registering', paused: false, throttle: input.throttle ?? DEFAULT_THROTTLE, trainWorkflowId: input.parentWorkflowId, history: [] };
  const record = (kind: string, detail: string, by?: string) => status.history.push({ at: Date.now(), kind, detail, by });
  let finish: { promote: boolean; reason: string } | undefined;
  const update = (p: MigrationProgress) => {
    status.progress = p;
    status.phase = p.phase;
  };

  setHandler(migrationStatusQuery, () => status);
  setHandler(migrationPauseSignal, (raw) => {
    if (acceptOperatorSignal('pause', raw, record)) status.paused = true;
  });
  setHandler(migrationResumeSignal, (raw) => {
    if (acceptOperatorSignal('resume', raw, record)) status.paused = false;
  });
  setHandler(migrationThrottleSignal, (raw) => {
    const parsed = backfillThrottleSchema.safeParse(raw);
    if (!parsed.success) {
      record('signal-rejected', rejectedPayload('throttle', parsed.error));
      return;
    }
    status.throttle = parsed.data;
    record('throttle', `batches of ${parsed.data.batchSize} rows, ${parsed.data.delayMs} ms apart`);
  });
  // The flag acts at once, whatever the main loop awaits; a refusal (wrong phase, nothing derived) is recorded.
  setHandler(migrationReadsSignal, async (raw) => {
    const parsed = migrationReadsSchema.safeParse(raw);
    if (!parsed.success) {
      record('signal-rejected', rejectedPayload('reads', parsed.error));
      return;
    }
    const { from, by, reason } = parsed.data;
    try {
      const p = await planning.setMigrationReads({ ...target, from });
      if (status.progress) status.progress = { ...status.progress, readsFrom: p.readsFrom };
      record('reads', `the new version reads the ${from} shape${reason ? `: ${reason}` : ''}`, by);
    } catch (err) {
      record('signal-rejected', `reads from the ${from} shape: ${String((err as { cause?: Error }).cause?.message ?? (err as Error).message)}`);
    }
  });
  setHandler(finishMigrationSignal, (request) => {
    if (finish) return;
    finish = { promote: request?.promote === true, reason: String(request?.reason ?? '') };
    record('finish', `${finish.promote ? 'contract' : 'rollback'} requested: ${finish.reason}`);
  });

  const rollback = async (reason: string): Promise<DatabaseMigrationResult> => {
    record('rollback', reason);
    const p = await CancellationScope.nonCancellable(() => steps.rollbackMigration(target));
    update(p);
    return { name, outcome: 'rolled_back', reason, progress: p };
  };

  let registered = false;
  try {
    update(await planning.registerMigration({ databaseUrl: input.databaseUrl, migration: input.migration }));
    registered = true;
    record('registered', `${name}: ${status.progress?.fromVersion} → ${status.progress?.toVersion}`);
    update(await steps.expandMigration(target));
    record('expanded', `${status.progress?.rowsTotal} rows to backfill`);
    while (status.phase === 'backfilling' || status.phase === 'validating') {
      await condition(() => !status.paused || finish !== undefined);
      if (finish && !finish.promote) return await rollback(finish.reason);
      update(await steps.backfillMigration({ ...target, throttle: status.throttle, sliceMs: input.sliceMs ?? 5000 }));
    }
    record('ready', `${status.progress?.rowsDone} rows backfilled, constraints validated`);
    if (input.parentWorkflowId && status.progress) await getExternalWorkflowHandle(input.parentWorkflowId).signal(migrationReadySignal, status.progress);
    await condition(() => finish !== undefined);
    if (!finish!.promote) return await rollback(finish!.reason);
    record('contract', finish!.reason);
    if (status.progress?.readsFrom === 'old') record('reads', 'the new version reads the new shape again: contract drops the old one');
    update(await CancellationScope.nonCancellable(() => steps.completeMigration(target)));
    return { name, outcome: 'completed', reason: finish!.reason, progress: status.progress };
  } catch (err) {
    if (!registered) throw err; // refused before any change: nothing to undo
    const why = isCancellation(err) ? 'cancelled' : `failed: ${String((err as Error).message)}`;
    await rollback(why);
    if (isCancellation(err)) throw err;
    return { name, outcome: 'rolled_back', reason: why, progress: status.progress };
  }
}

