/**
 * Rollback MTTR with the tripwire (issue 11), against a real Temporal dev server and real processes:
 * the demo's bad change (one request in five fails) rolled out BAD_RUNS times under the demo's plan with
 * the default tripwire, and the good change GOOD_RUNS times under the same plan (no false rollbacks allowed).
 *
 *   npm run bench:mttr -- [bad runs = 10] [good runs = 20]
 *
 * MTTR is the rollout's own figure: the proxy's tripping request → the proxy confirming 100% on stable.
 * "Exposure" adds detection: the canary's first weighted traffic → 100% on stable (workflow clock).
 */
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { createRepoActivities } from '../activities/repo';
import { percentile } from '../core/health';
import type { RolloutPlanInput } from '../core/rollout-plan';
import { DEMO_PLAN, DEMO_TRAFFIC_RPS } from '../examples/demo-repo';
import { TrainFixture } from '../examples/train-fixture';
import { rolloutStatusQuery } from '../workflows/messages';
import type { progressiveRollout } from '../workflows/progressive-rollout';
import { withOwnStack } from './own-stack';

const [BAD_RUNS, GOOD_RUNS] = [Number(process.argv[2] ?? 10), Number(process.argv[3] ?? 20)];
const QUEUE = 'bench-mttr';
const PLAN: RolloutPlanInput = { ...DEMO_PLAN, tripwire: {} };

async function main(): Promise<void> {
  if (!(Number.isInteger(BAD_RUNS) && BAD_RUNS >= 1 && Number.isInteger(GOOD_RUNS) && GOOD_RUNS >= 0))
    throw new Error(`usage: npm run bench:mttr -- [bad runs ≥ 1] [good runs ≥ 0]; got ${process.argv.slice(2).join(' ')}`);
  await withOwnStack({ port: Number(process.env.BENCH_TEMPORAL_PORT ?? 7250), uiPort: Number(process.env.BENCH_TEMPORAL_UI_PORT ?? 7251), queue: QUEUE }, async ({ client, stateDir }) => {
    const fixture = new TrainFixture('bench-tripwire', stateDir);
    // Traffic for the whole bench: thirty rollouts take longer than a fixture's default ten minutes.
    await fixture.start(DEMO_TRAFFIC_RPS, { trafficMs: 60 * 60_000 });
    try {
      await runAll(client, stateDir, fixture);
    } finally {
      await fixture.stop();
    }
  });
}

async function runAll(client: Client, stateDir: string, fixture: TrainFixture): Promise<void> {
  const repo = createRepoActivities({ workRoot: path.join(stateDir, 'work') });
  const candidates = {
    'bad-change': await repo.prepareChange(fixture.change('bad-change', 'bench-tripwire-bad')),
    'good-change': await repo.prepareChange(fixture.change('good-change', 'bench-tripwire-good')),
  };
  const roll = (change: keyof typeof candidates, run: number, workflowId = `bench-tripwire-${change}-${Date.now()}-${run}`) => {
    const candidate = candidates[change];
    return client.workflow.execute<typeof progressiveRollout>('progressiveRollout', {
      taskQueue: QUEUE,
      workflowId,
      args: [{ changeId: `bench-${change}`, service: fixture.service, repo: fixture.repo, baseSha: candidate.baseSha, sha: candidate.sha, descriptor: candidate.service, plan: PLAN, evalScore: 1 }],
    });
  };

  const mttrs: number[] = [];
  const exposures: number[] = [];
  for (let run = 1; run <= BAD_RUNS; run++) {
    const result = await roll('bad-change', run);
    if (result.outcome !== 'rolled_back' || result.mttrMs === undefined) throw new Error(`bad run ${run}: expected a rollback, got ${result.outcome} (${result.reason})`);
    const weighted = result.history?.find((h) => h.kind === 'weight');
    const rolledBack = result.history?.filter((h) => h.kind === 'rollback').at(-1);
    const exposure = weighted && rolledBack ? rolledBack.at - weighted.at : NaN;
    mttrs.push(result.mttrMs);
    exposures.push(exposure);
    console.log(`  bad run ${run}/${BAD_RUNS}: MTTR ${result.mttrMs} ms, exposure ${exposure} ms, ${result.probes} probes (${result.reason})`);
  }

  let falseRollbacks = 0;
  let falseTrips = 0;
  for (let run = 1; run <= GOOD_RUNS; run++) {
    const workflowId = `bench-tripwire-good-${Date.now()}-${run}`;
    const result = await roll('good-change', run, workflowId);
    if (result.outcome !== 'promoted') falseRollbacks++;
    if (result.reason.startsWith('tripwire')) falseTrips++;
    // Why a good canary was not promoted: the last probe's figures and verdict.
    const lastProbe = result.outcome === 'promoted' ? '' : ` (last probe: ${JSON.stringify((await client.workflow.getHandle(workflowId).query(rolloutStatusQuery)).lastProbes.at(-1))})`;
    console.log(`  good run ${run}/${GOOD_RUNS}: ${result.outcome} (${result.reason})${lastProbe}`);
  }

  const ms = (values: number[], p: number) => `${Math.round(percentile(values, p))} ms`;
  console.log(
    `tripwire MTTR over ${BAD_RUNS} bad rollouts (demo plan: probes every 2 s, ${DEMO_TRAFFIC_RPS} req/s, default wire: 3 canary errors within 2 s and ≥ 10%): ` +
      `median ${ms(mttrs, 50)}, max ${ms(mttrs, 100)} (target median ≤ 1000 ms); exposure (first canary traffic → 100% stable) median ${ms(exposures, 50)}, max ${ms(exposures, 100)}`,
  );
  console.log(
    `good rollouts under the same wire: ${GOOD_RUNS - falseRollbacks}/${GOOD_RUNS} promoted; false rollbacks: ${falseTrips} by the tripwire (target 0), ${falseRollbacks - falseTrips} by the demo's threshold gates`,
  );
  if (falseTrips > 0 || percentile(mttrs, 50) > 1000) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
