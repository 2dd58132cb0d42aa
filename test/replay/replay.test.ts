/**
 * Every committed history (test/replay/histories, recorded by record-histories.ts) replays against the
 * current workflow code; a workflow change that would break running trains fails here. docs/workflow-changes.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { maestroDataConverter } from '../../io/payload-codec';
import { testCodec, workflowBundle } from '../helpers/temporal';
import { AUDIT_OUTCOME_PATCH, DATABASE_MIGRATION_PATCH, PROMOTION_PATH_PATCH } from '../../workflows/release-train';
import { STATISTICAL_JUDGE_PATCH, TRIPWIRE_PATCH } from '../../workflows/progressive-rollout';
import { SIGNAL_HANDLERS_FIRST_PATCH } from '../../workflows/messages';

const DIR = path.join(__dirname, 'histories');
const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
const load = (file: string): unknown => JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8'));
// A replay must use the workflow id the history was recorded with: the files are named by it.
const idOf = (file: string) => file.replace(/\.json$/, '');

test('there is a recorded history of every path of the train, and of its rollout and appeal children', () => {
  const ids = files.map(idOf);
  for (const p of ['promoted', 'rolled-back', 'denied', 'appeal-granted', 'approval', 'aborted', 'cancelled']) expect(ids).toContain(`train-record-${p}`);
  for (const p of ['promoted', 'rolled-back', 'appeal-granted', 'approval', 'aborted', 'cancelled']) expect(ids).toContain(`train-record-${p}--rollout`);
  expect(ids).toContain('appeal-train-record-appeal-granted');
});

interface HistoryJson {
  events: { markerRecordedEventAttributes?: { markerName: string; details?: Record<string, { payloads: { data: string }[] }> } }[];
}
/** The patch ids whose new branch a history took (the SDK's core_patch markers). */
const patchesIn = (file: string) =>
  (load(file) as HistoryJson).events
    .map((e) => e.markerRecordedEventAttributes)
    .filter((m) => m?.markerName === 'core_patch')
    .map((m) => (JSON.parse(Buffer.from(m!.details!['patch-data']!.payloads[0]!.data, 'base64').toString()) as { id: string }).id);

test('both branches of the audit-train-outcome patch have recorded train histories', () => {
  const trains = files.filter((f) => f.startsWith('train-') && !f.includes('--'));
  expect(trains.filter((f) => patchesIn(f).includes(AUDIT_OUTCOME_PATCH)).length).toBeGreaterThan(0);
  expect(trains.filter((f) => !patchesIn(f).includes(AUDIT_OUTCOME_PATCH)).length).toBeGreaterThan(0);
});

test('rollouts judged statistically (the statistical-health-judge patch) have recorded histories, next to ones judged by thresholds', () => {
  const rollouts = files.filter((f) => f.endsWith('--rollout.json'));
  expect(rollouts.filter((f) => patchesIn(f).includes(STATISTICAL_JUDGE_PATCH)).length).toBeGreaterThan(0);
  expect(rollouts.filter((f) => !patchesIn(f).includes(STATISTICAL_JUDGE_PATCH)).length).toBeGreaterThan(0);
});

test('rollouts with the tripwire (the health-tripwire patch) have recorded histories, next to ones without', () => {
  const rollouts = files.filter((f) => f.endsWith('--rollout.json'));
  expect(rollouts.filter((f) => patchesIn(f).includes(TRIPWIRE_PATCH)).length).toBeGreaterThan(0);
  expect(rollouts.filter((f) => !patchesIn(f).includes(TRIPWIRE_PATCH)).length).toBeGreaterThan(0);
});

test('both branches of the database-migration-around-rollout patch have recorded train histories, and the migration child too', () => {
  const trains = files.filter((f) => f.startsWith('train-') && !f.includes('--'));
  const migrated = trains.filter((f) => patchesIn(f).includes(DATABASE_MIGRATION_PATCH)).map(idOf);
  // Contracted after promotion, and rolled back with the canary.
  expect(migrated).toEqual(expect.arrayContaining(['train-migration-migrated', 'train-migration-migrated-rolled-back']));
  expect(trains.filter((f) => !patchesIn(f).includes(DATABASE_MIGRATION_PATCH)).length).toBeGreaterThan(0);
  for (const id of migrated) expect(files.map(idOf)).toContain(`${id}--migration`);
});

test('a train on a promotion path (the promotion-path-saga patch) has a recorded history, with a rollout per environment, next to trains without one', () => {
  const trains = files.filter((f) => f.startsWith('train-') && !f.includes('--'));
  const onPath = trains.filter((f) => patchesIn(f).includes(PROMOTION_PATH_PATCH)).map(idOf);
  expect(onPath).toContain('train-saga-promotion-path');
  for (const env of ['dev', 'staging', 'prod']) expect(files.map(idOf)).toContain(`train-saga-promotion-path--rollout-${env}`);
  expect(trains.filter((f) => !patchesIn(f).includes(PROMOTION_PATH_PATCH)).length).toBeGreaterThan(0);
});

test('both branches of the known-signal-handlers-first patch have recorded histories, for trains and for rollouts', () => {
  for (const kind of [(f: string) => !f.includes('--'), (f: string) => f.includes('--rollout')]) {
    const histories = files.filter((f) => f.startsWith('train-') && kind(f));
    expect(histories.filter((f) => patchesIn(f).includes(SIGNAL_HANDLERS_FIRST_PATCH)).length).toBeGreaterThan(0);
    expect(histories.filter((f) => !patchesIn(f).includes(SIGNAL_HANDLERS_FIRST_PATCH)).length).toBeGreaterThan(0);
  }
});

// With the worker's payload codec: histories recorded before it (plain payloads) pass through its decode.
test.each(files)('%s replays deterministically against the current workflow code', async (file) => {
  const options = { workflowBundle: await workflowBundle(), dataConverter: maestroDataConverter(testCodec()) };
  await expect(Worker.runReplayHistory(options, load(file), idOf(file))).resolves.toBeUndefined();
});

test('a train history does not replay against workflow code with an extra, unpatched activity call', async () => {
  const altered = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    workflowInterceptorModules: [require.resolve('./extra-first-activity')],
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} },
  });
  await expect(Worker.runReplayHistory({ workflowBundle: altered }, load('train-record-promoted.json'), 'train-record-promoted')).rejects.toBeInstanceOf(DeterminismViolationError);
});
