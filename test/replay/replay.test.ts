import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../helpers/temporal';

const DIR = path.join(__dirname, 'histories');
const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

test('committed histories of the promote and rollback paths exist for both workflows', () => {
  expect(files).toEqual(['train-record-promoted--rollout.json', 'train-record-promoted.json', 'train-record-rolled-back--rollout.json', 'train-record-rolled-back.json']);
});

test.each(files)('%s replays deterministically against the current workflow code', async (file) => {
  const history: unknown = JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8'));
  const workflowId = file.replace(/\.json$/, '');
  await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId)).resolves.toBeUndefined();
});
