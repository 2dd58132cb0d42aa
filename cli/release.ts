import fs from 'node:fs';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { inlineSecretsRefusal, parseChangeRequest, type ChangeRequest } from '../core/change-request';
import {
  changeGatesSignal,
  migrationReadsSchema,
  migrationReadsSignal,
  migrationStatusQuery,
  migrationWorkflowId,
  approvalSignalSchema,
  operatorSignalSchema,
  overridePlanSignal,
  planOverrideSchema,
  rolloutStatusQuery,
  rolloutWorkflowId,
  searchAttributes,
  signalsByName,
  TASK_QUEUE,
  trainStatusQuery,
  type OperatorSignalName,
  type EnvironmentProgress,
  type HistoryEntry,
  type TrainResult,
  type TrainStatus,
} from '../workflows/messages';
import { CliError, EXIT } from './errors';
import { traceUiLink } from './client';
import { maestroTracer, traceIdOf } from '../io/tracing';
import { z } from 'zod';
import { parseOrThrow } from '../core/validation';
import { gateChangeSchema, shortHash } from '../core/gate-config';
import { git, GitError } from '../io/git';
import { branchNames, resolveChangeRef } from '../repo/repository';
import type { LiveTrain } from '../dashboard/pages';

export function trainWorkflowId(changeId: string): string {
  return `train-${changeId}`;
}

/** `ref`: the change is that branch or commit of the target repository (release --ref), whatever the file says. */
export async function readChangeFile(file: string, opts: { ref?: string; shadow?: boolean } = {}): Promise<ChangeRequest> {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CliError(`cannot read change file ${file}: ${(err as Error).message}`, EXIT.usage);
  }
  if (opts.ref !== undefined && typeof raw === 'object' && raw !== null) raw = { ...raw, change: { kind: 'ref', ref: opts.ref } };
  if (opts.shadow && typeof raw === 'object' && raw !== null) raw = { ...raw, shadow: true };
  const cr = parseChangeRequest(raw);
  // Secrets never enter workflow history: a patch that adds one is refused before any train starts.
  const refusal = inlineSecretsRefusal(cr);
  if (refusal) throw new CliError(`${file}: ${refusal}`, EXIT.usage);
  await checkTarget(cr, file);
  return cr;
}

/**
 * One train per change id, ever: a running id gets a clear message, a finished one its outcome and how
 * to release the change again on purpose (Temporal's REJECT_DUPLICATE keeps the id from being reused).
 */
export async function startTrain(client: Client, cr: ChangeRequest, taskQueue = TASK_QUEUE): Promise<WorkflowHandle> {
  const workflowId = trainWorkflowId(cr.id);
  // The train's trace starts here; its id goes into the memo (shown by the Web UI, status and explain).
  return maestroTracer().startActiveSpan(`release train ${workflowId}`, { attributes: { [WORKFLOW_ID_ATTRIBUTE]: workflowId, 'maestro.change.id': cr.id, 'maestro.service': cr.service } }, async (span) => {
    try {
      return await startTrainTraced(client, cr, workflowId, taskQueue, traceIdOf(span));
    } finally {
      span.end();
    }
  });
}

async function startTrainTraced(client: Client, cr: ChangeRequest, workflowId: string, taskQueue: string, traceId: string | undefined): Promise<WorkflowHandle> {
  try {
    return await client.workflow.start('releaseTrain', {
      taskQueue,
      workflowId,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      args: [cr],
      typedSearchAttributes: [
        { key: searchAttributes.changeId, value: cr.id },
        { key: searchAttributes.repo, value: cr.repo },
        { key: searchAttributes.stage, value: 'validating' },
      ],
      memo: { title: cr.title, author: cr.author, ...trainTraceMemo(traceId) },
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const existing = client.workflow.getHandle(workflowId);
    const { status } = await existing.describe();
    if (status.name === 'RUNNING')
      throw new CliError(`change '${cr.id}' already has a running train ${workflowId}; nothing was started. Follow it with: maestro status ${workflowId}`, EXIT.usage);
    const ended = await existing.result().then(
      (result: TrainResult) => `${result.outcome} — ${result.reason}`,
      (failure: unknown) => `${status.name.toLowerCase()} — ${failure instanceof WorkflowFailedError ? (failure.cause?.message ?? failure.message) : String(failure)}`,
    );
    throw new CliError(
      `change '${cr.id}' was already released by train ${workflowId}: ${ended}. Nothing was started. ` +
        `To release this change again on purpose, give it a new id (e.g. "${cr.id}-2").`,
      EXIT.usage,
    );
  }
}

/** The attribute Temporal's interceptors give a workflow's spans; the root span carries it too. */
const WORKFLOW_ID_ATTRIBUTE = 'temporalWorkflowId';

/** The memo fields that lead to the train's trace: its id and, when the tracing UI is known, the link. */
export function trainTraceMemo(traceId: string | undefined): { traceId?: string; traceUrl?: string } {
  if (!traceId) return {};
  const url = traceUiLink(traceId);
  return { traceId, ...(url ? { traceUrl: url } : {}) };
}

const traceMemoSchema = z.object({ traceId: z.string().regex(/^[0-9a-f]{32}$/), traceUrl: z.string().optional() });

/** The train's trace (from its memo), when it was started traced; undefined otherwise. */
export async function trainTrace(client: Client, workflowId: string): Promise<{ traceId: string; traceUrl?: string } | undefined> {
  const { memo } = await client.workflow.getHandle(workflowId).describe();
  const parsed = traceMemoSchema.safeParse(memo ?? {});
  return parsed.success ? parsed.data : undefined;
}

/** One line naming the train's trace and where to see it. */
export function formatTrace(trace: { traceId: string; traceUrl?: string }): string {
  return `  trace ${trace.traceId}${trace.traceUrl ? ` — ${trace.traceUrl}` : ''}`;
}

/** The target repository and base branch exist, checked before anything starts. */
export async function checkTarget(cr: ChangeRequest, file: string): Promise<void> {
  if (!fs.existsSync(cr.repo)) throw new CliError(`${file}: repo '${cr.repo}' does not exist; give the absolute path of a git repository`, EXIT.usage);
  try {
    if ((await resolveBranch(cr.repo, cr.baseBranch)) !== undefined) {
      if (cr.change.kind === 'ref' && !(await resolveChangeRef(cr.repo, cr.change.ref)))
        throw new CliError(`${file}: ref '${cr.change.ref}' is neither a branch nor a commit of ${cr.repo}; branches: ${await branches(cr.repo)}`, EXIT.usage);
      return;
    }
  } catch (err) {
    if (err instanceof GitError && err.isPermanent) throw new CliError(`${file}: repo '${cr.repo}' is not a git repository`, EXIT.usage);
    throw err;
  }
  throw new CliError(`${file}: base branch '${cr.baseBranch}' does not exist in ${cr.repo}; branches: ${await branches(cr.repo)}`, EXIT.usage);
}

async function branches(repo: string): Promise<string> {
  return (await branchNames(repo)).join(', ') || '(none)';
}

async function resolveBranch(repo: string, branch: string): Promise<string | undefined> {
  const result = await git(repo, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], { allowExitCodes: [1] });
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

/** The train's status with the live rollout figures of its child merged in. */
export async function queryStatus(client: Client, workflowId: string): Promise<TrainStatus> {
  const handle = client.workflow.getHandle(workflowId);
  let status: TrainStatus;
  try {
    status = await handle.query(trainStatusQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new CliError(`no release train with id '${workflowId}'`, EXIT.notFound);
    throw err;
  }
  if (status.stage === 'rollout' || status.stage === 'done') {
    try {
      // On a promotion path, the rollout of the environment it is in (or ended in).
      const rollout = await client.workflow.getHandle(status.rolloutWorkflowId ?? rolloutWorkflowId(workflowId)).query(rolloutStatusQuery);
      status = { ...status, weight: rollout.weight, rollout };
    } catch {
      // The train reached no rollout (denied, aborted early): nothing to merge in.
    }
  }
  return status;
}

export function formatStatus(s: TrainStatus): string {
  const lines = [`train ${s.changeId}: stage ${s.stage}${s.outcome ? `, outcome ${s.outcome}` : ''}, canary weight ${s.weight}%`];
  if (s.evalScore !== undefined) lines.push(`  eval score ${s.evalScore.toFixed(3)}, risk ${s.risk?.toFixed(3) ?? '?'}`);
  if (s.candidateSha) lines.push(`  candidate ${s.candidateSha.slice(0, 12)}${s.mergeSha ? `, merged ${s.mergeSha.slice(0, 12)}` : ''}`);
  if (s.plannedRollout) lines.push(`  rollout plan: ${s.plannedRollout.source}`);
  if (s.environments) lines.push(`  environments: ${formatEnvironments(s.environments)}`);
  for (const d of s.denials ?? []) lines.push(`  DENIED [${d.rule}] ${d.reason}\n    fix: ${d.fix}`);
  if (s.rollout?.gateConfig) lines.push(`  gates ${shortHash(s.rollout.gateConfig)} judge ${s.mergeSha ? `commit ${s.mergeSha.slice(0, 12)}` : 'the canary'}`);
  const probe = s.rollout?.lastProbes.at(-1);
  if (probe) {
    // A statistical verdict explains itself per metric; the thresholds' reasons are short enough for one line.
    const reasons = probe.evidence === undefined && probe.reasons.length ? ` (${probe.reasons.join(', ')})` : '';
    lines.push(
      `  last probe: ${probe.verdict}${probe.supersededBy ? ` (superseded by gates ${shortHash(probe.supersededBy)})` : ''} at ${probe.weight}% — canary ${probe.canary.requests} req, ${probe.canary.errors} err, p95 ${probe.canary.p95Ms.toFixed(1)} ms; stable p95 ${probe.stable.p95Ms.toFixed(1)} ms${reasons}`,
    );
    for (const e of probe.evidence ?? []) lines.push(`    ${e.words}`);
  }
  const history = [...s.history, ...(s.rollout?.history ?? [])].sort((a, b) => a.at - b.at);
  lines.push('  history:');
  for (const h of history) lines.push(`    ${new Date(h.at).toISOString()} ${h.kind}${h.by ? ` by ${h.by}` : ''}${h.detail ? `: ${h.detail}` : ''}`);
  return lines.join('\n');
}

/** A promotion path at a glance: `dev promoted → staging rolling-out → prod pending`. */
export function formatEnvironments(environments: EnvironmentProgress[]): string {
  return environments.map((e) => `${e.environment} ${e.state}${e.runs && e.state !== 'promoted' && e.state !== 'held' ? ` (runs ${e.runs.slice(0, 12)})` : ''}`).join(' → ');
}

/** Follows a train until it ends, printing a line whenever stage, weight or the last probe changes. */
export async function waitForTrain(client: Client, workflowId: string, print: (line: string) => void, pollMs = 1000): Promise<TrainResult> {
  const handle = client.workflow.getHandle(workflowId);
  let last = '';
  const resultPromise: Promise<TrainResult> = handle.result();
  let done = false;
  void resultPromise.finally(() => (done = true)).catch(() => undefined);
  while (!done) {
    try {
      const s = await queryStatus(client, workflowId);
      const probe = s.rollout?.lastProbes.at(-1);
      const line = `[${s.changeId}] stage ${s.stage}${s.environments ? ` · ${formatEnvironments(s.environments)}` : ''} · weight ${s.weight}%${probe ? ` · probe ${probe.verdict}: ${probe.canary.requests} req, err ${probe.canary.requests ? ((probe.canary.errors / probe.canary.requests) * 100).toFixed(1) : '0.0'}%, p95 ${probe.canary.p95Ms.toFixed(0)} ms` : ''}`;
      if (line !== last) print(line);
      last = line;
    } catch {
      // A query can race the workflow's first task; the next poll catches up.
    }
    await Promise.race([resultPromise.catch(() => undefined), new Promise((r) => setTimeout(r, pollMs))]);
  }
  try {
    return await resultPromise;
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const status = await queryStatus(client, workflowId).catch(() => undefined);
    return { changeId: status?.changeId ?? workflowId, outcome: 'failed', reason: failureChain(err), candidateSha: status?.candidateSha, mergeSha: status?.mergeSha };
  }
}

/** The innermost causes say what went wrong (an activity's own message), so keep the whole chain. */
function failureChain(err: Error): string {
  const messages: string[] = [];
  for (let e: unknown = err; e instanceof Error; e = (e as { cause?: unknown }).cause) if (e.message) messages.push(e.message);
  return messages.slice(1).join(': ') || err.message;
}

export function exitCodeFor(result: TrainResult): number {
  if (result.outcome === 'shadowed') return result.shadow?.wouldBe === 'denied' ? EXIT.denied : EXIT.promoted;
  return EXIT[result.outcome];
}

export async function sendOperatorSignal(client: Client, workflowId: string, name: OperatorSignalName, payload: unknown): Promise<void> {
  const signal = parseOrThrow(name === 'approve' ? approvalSignalSchema : operatorSignalSchema, payload, `${name} signal`);
  try {
    await client.workflow.getHandle(workflowId).signal(signalsByName[name], signal);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new CliError(`no running release train with id '${workflowId}'`, EXIT.notFound);
    throw err;
  }
}

/**
 * Signals cannot answer, so the workflow records the outcome in its history: this sends `send` and waits (up to
 * `timeoutMs`) for the first new entry `answers` picks out in any of the histories (a train's and its rollout's).
 */
async function signalAndAwaitRecord(
  histories: () => Promise<HistoryEntry[][]>,
  send: () => Promise<void>,
  answers: (e: HistoryEntry) => boolean,
  what: string,
  timeoutMs: number,
): Promise<HistoryEntry> {
  const seen = (await histories()).map((h) => h.length);
  await send();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const answer = (await histories()).flatMap((h, i) => h.slice(seen[i] ?? 0)).find(answers);
    if (answer) return answer;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new CliError(`${what} was not recorded within ${timeoutMs / 1000} s; see maestro status`, EXIT.failed);
}

/**
 * Switches which shape the new version of a train's database migration reads; resolves with what it now reads,
 * or 'refused: …' with the reason.
 */
export async function switchMigrationReads(client: Client, trainWorkflowId: string, payload: unknown, timeoutMs = 30_000): Promise<string> {
  const request = parseOrThrow(migrationReadsSchema, payload, 'reads signal');
  const handle = client.workflow.getHandle(migrationWorkflowId(trainWorkflowId));
  try {
    const answer = await signalAndAwaitRecord(
      async () => [(await handle.query(migrationStatusQuery)).history],
      () => handle.signal(migrationReadsSignal, request),
      (e) => e.kind === 'reads' || (e.kind === 'signal-rejected' && e.detail.startsWith('reads')),
      `the switch of the migration of '${trainWorkflowId}'`,
      timeoutMs,
    );
    return answer.kind === 'reads' ? `${(await handle.query(migrationStatusQuery)).name}: ${answer.detail}` : `refused: ${answer.detail}`;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new CliError(`train '${trainWorkflowId}' has no running database migration (${migrationWorkflowId(trainWorkflowId)})`, EXIT.notFound);
    throw err;
  }
}

/** Replaces a train's rollout plan before its rollout starts; resolves with the plan as the train took it, or 'refused: …'. */
export async function overrideTrainPlan(client: Client, workflowId: string, payload: unknown, timeoutMs = 30_000): Promise<string> {
  const request = parseOrThrow(planOverrideSchema, payload, 'plan override');
  const handle = client.workflow.getHandle(workflowId);
  try {
    const answer = await signalAndAwaitRecord(
      async () => [(await handle.query(trainStatusQuery)).history],
      () => handle.signal(overridePlanSignal, request),
      (e) => (e.kind === 'plan' && e.by === request.by) || (e.kind === 'signal-rejected' && e.detail.startsWith('overridePlan')),
      `the plan override of '${workflowId}'`,
      timeoutMs,
    );
    return answer.kind === 'plan' ? `rollout plan of ${workflowId} ${answer.detail}` : `refused: ${answer.detail}`;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new CliError(`no running release train with id '${workflowId}'`, EXIT.notFound);
    throw err;
  }
}

/**
 * Changes the gates of a train's running rollout: the current step's analysis starts again under them and the
 * verdicts so far are marked superseded. Resolves with the change as the rollout recorded it, or 'refused: …'.
 */
export async function changeTrainGates(client: Client, workflowId: string, payload: unknown, timeoutMs = 30_000): Promise<string> {
  const request = parseOrThrow(gateChangeSchema, payload, 'gate change');
  const handle = client.workflow.getHandle(workflowId);
  const histories = async () => {
    const status = await queryStatus(client, workflowId);
    return [status.history, status.rollout?.history ?? []];
  };
  const answer = await signalAndAwaitRecord(
    histories,
    () =>
      handle.signal(changeGatesSignal, request).catch((err: unknown) => {
        if (err instanceof WorkflowNotFoundError) throw new CliError(`train '${workflowId}' is not running: its gates were all decided`, EXIT.notFound);
        throw err;
      }),
    (e) => (e.kind === 'gates-changed' && e.by === request.by) || (e.kind === 'signal-rejected' && e.detail.startsWith('changeGates')),
    `the gate change of '${workflowId}'`,
    timeoutMs,
  );
  return answer.kind === 'gates-changed' ? `rollout of ${workflowId}: ${answer.detail}` : `refused: ${answer.detail}`;
}

/** A running train as the dashboard and `maestro explain` show it: stage, weight, last probe and one timeline (train and rollout); undefined when Temporal does not know it. */
export async function liveTrain(client: Client, workflowId: string): Promise<LiveTrain | undefined> {
  const s = await queryStatus(client, workflowId).catch(() => undefined);
  if (!s) return undefined;
  return {
    stage: s.stage,
    weight: s.weight,
    ...(s.outcome ? { outcome: s.outcome } : {}),
    ...(s.evalScore !== undefined ? { evalScore: s.evalScore } : {}),
    ...(s.waitingFor ? { waitingFor: s.waitingFor } : {}),
    ...(s.environments ? { path: formatEnvironments(s.environments) } : {}),
    timeline: [...s.history.map((e) => ({ ...e, source: 'train' as const })), ...(s.rollout?.history ?? []).map((e) => ({ ...e, source: 'rollout' as const }))].sort((a, b) => a.at - b.at),
    ...(s.rollout?.lastProbes.length ? { lastProbe: s.rollout.lastProbes.at(-1) } : {}),
  };
}
