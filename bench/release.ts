/**
 * Release-train benchmarks against a real Temporal dev server and real processes:
 *  1. rollback MTTR (first red probe → 100% on stable) over BENCH_MTTR_RUNS bad rollouts with the demo's gates;
 *  2. concurrent trains on one worker (BENCH_TRAINS full trains, each its own service, short gates): trains/minute.
 */
import { createRepoActivities } from '../activities/repo';
import type { Client } from '@temporalio/client';
import path from 'node:path';
import { percentile } from '../core/health';
import type { progressiveRollout } from '../workflows/progressive-rollout';
import type { releaseTrain } from '../workflows/release-train';
import { DEMO_PLAN, DEMO_TRAFFIC_RPS } from '../examples/demo-repo';
import { withOwnStack } from './own-stack';
import { FAST_PLAN, TrainFixture } from '../examples/train-fixture';

const MTTR_RUNS = Number(process.env.BENCH_MTTR_RUNS ?? 10);
const TRAINS = Number(process.env.BENCH_TRAINS ?? 10);
const QUEUE = 'bench';

async function main(): Promise<void> {
  await withOwnStack({ port: 7283, queue: QUEUE, maxActivities: 50 }, async ({ client, stateDir }) => {
    await benchMttr(client, stateDir);
    await benchConcurrentTrains(client, stateDir);
  });
}

async function benchMttr(client: Client, stateDir: string): Promise<void> {
  const fixture = new TrainFixture('bench-mttr', stateDir);
  await fixture.start(DEMO_TRAFFIC_RPS);
  try {
    // The bad change is prepared once; each run rolls the same commit out and back.
    const cr = fixture.change('bad-change', 'bench-mttr');
    const candidate = await createRepoActivities({ workRoot: path.join(stateDir, 'work') }).prepareChange(cr);
    const mttrs: number[] = [];
    for (let run = 1; run <= MTTR_RUNS; run++) {
      const result = await client.workflow.execute<typeof progressiveRollout>('progressiveRollout', {
        taskQueue: QUEUE,
        workflowId: `bench-mttr-${Date.now()}-${run}`,
        args: [{ changeId: cr.id, service: fixture.service, repo: fixture.repo, baseSha: candidate.baseSha, sha: candidate.sha, descriptor: candidate.service, plan: DEMO_PLAN, evalScore: 1 }],
      });
      if (result.outcome !== 'rolled_back' || result.mttrMs === undefined) throw new Error(`run ${run}: expected a rollback, got ${result.outcome} (${result.reason})`);
      mttrs.push(result.mttrMs);
      console.log(`  mttr run ${run}/${MTTR_RUNS}: ${result.mttrMs} ms (${result.reason})`);
    }
    console.log(`rollback MTTR over ${MTTR_RUNS} runs (probe every 2 s, fail on 2 red, ${DEMO_TRAFFIC_RPS} req/s): median ${percentile(mttrs, 50)} ms, max ${Math.max(...mttrs)} ms (target median ≤ 15000 ms)`);
  } finally {
    await fixture.stop();
  }
}

async function benchConcurrentTrains(client: Client, stateDir: string): Promise<void> {
  const fixtures = Array.from({ length: TRAINS }, (_, i) => new TrainFixture(`bench-train-${i}`, stateDir));
  const setupStart = Date.now();
  for (const f of fixtures) await f.start(40);
  console.log(`  ${TRAINS} services deployed with traffic in ${((Date.now() - setupStart) / 1000).toFixed(1)} s`);
  try {
    const started = Date.now();
    const results = await Promise.all(
      fixtures.map((f, i) =>
        client.workflow.execute<typeof releaseTrain>('releaseTrain', {
          taskQueue: QUEUE,
          workflowId: `bench-train-${Date.now()}-${i}`,
          args: [f.change('good-change', `bench-${i}`, { rollout: FAST_PLAN as never })],
        }),
      ),
    );
    const minutes = (Date.now() - started) / 60_000;
    const promoted = results.filter((r) => r.outcome === 'promoted').length;
    console.log(`concurrent trains on one worker: ${TRAINS} full trains (spec → evals → merge → 3 gated steps) in ${(minutes * 60).toFixed(1)} s = ${(TRAINS / minutes).toFixed(1)} trains/min; ${promoted}/${TRAINS} promoted`);
  } finally {
    await Promise.all(fixtures.map((f) => f.stop()));
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
