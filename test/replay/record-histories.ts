/**
 * Records the histories that test/replay/replay.test.ts replays: a promoted and a rolled-back train,
 * each with its rollout child. Run when the workflows change on purpose (then keep the old files too,
 * behind patched()): `npx tsx test/replay/record-histories.ts` with a dev server on TEMPORAL_ADDRESS.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { TEMPORAL_CLI } from '../../infra/temporal/dev-server';
import { withOwnStack } from '../../bench/own-stack';
import { rolloutWorkflowId } from '../../workflows/messages';
import type { releaseTrain } from '../../workflows/release-train';
import { TrainFixture } from '../../examples/train-fixture';

const OUT = path.join(__dirname, 'histories');

async function main(): Promise<void> {
  await withOwnStack({ port: 7273, queue: 'record' }, async ({ client, address, stateDir }) => {
    for (const [name, change] of [['promoted', 'good-change'], ['rolled-back', 'bad-change']] as const) {
      const fixture = new TrainFixture(`greeter-record-${name}`, stateDir);
      await fixture.start();
      try {
        const workflowId = `train-record-${name}`;
        const handle = await client.workflow.start<typeof releaseTrain>('releaseTrain', { taskQueue: 'record', workflowId, args: [fixture.change(change, `record-${name}`)] });
        const result = await handle.result();
        console.log(`${name}: ${result.outcome} (${result.reason})`);
        // Files are named by workflow id: a replay must use the id the history was recorded with.
        for (const id of [workflowId, rolloutWorkflowId(workflowId)]) {
          // The CLI's JSON export is the format replayers (and the Web UI's download) use.
          const json = execFileSync(TEMPORAL_CLI, ['workflow', 'show', '--address', address, '--workflow-id', id, '--output', 'json'], { maxBuffer: 64 << 20 });
          fs.writeFileSync(path.join(OUT, `${id}.json`), json);
        }
      } finally {
        await fixture.stop();
      }
    }
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
